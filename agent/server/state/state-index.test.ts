import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateStore } from './state-store.js';
import { testAlloc, testJob } from '../../../scheduler/testing/fixtures.js';
import type { Allocation } from '../../../structs/alloc.js';
import fc from 'fast-check';
import { isAllocTerminal } from '../../../structs/alloc.js';
import { nodeUsage } from '../../../scheduler/bin-pack.js';
import { liveAllocs } from '../../../scheduler/live-allocs.js';
import { VersionedMap } from './versioned-map.js';
import { jobVersionKey, StateIndex } from './state-index.js';
import type { StoredAlloc } from './state-reader.js';

function withStore(fn: (s: StateStore, dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yurt-alloc-index-'));
    const s = StateStore.open(dir);
    try {
      await fn(s, dir);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const job = testJob();
let index = 0;
function put(s: StateStore, ...allocs: Allocation[]): void {
  s.write(++index, 1, (w) => {
    for (const a of allocs) w.putAlloc(a);
  });
}

void test('a snapshot keeps reading the allocations of its moment while later writes land', withStore((s) => {
  put(s, testAlloc(job, { ID: 'a1', NodeID: 'n1' }), testAlloc(job, { ID: 'a2', NodeID: 'n1' }));
  const snap = s.snapshot();
  put(s, testAlloc(job, { ID: 'a1', NodeID: 'n1', ClientStatus: 'running' }), testAlloc(job, { ID: 'a3', NodeID: 'n1' }));
  s.write(++index, 1, (w) => w.deleteAlloc('a2'));
  // Moved to another node: both nodes' lists change.
  put(s, testAlloc(job, { ID: 'a3', NodeID: 'n2' }));

  assert.deepEqual(snap.allocsByNode('n1').map((a) => [a.ID, a.ClientStatus]), [['a1', 'pending'], ['a2', 'pending']]);
  assert.deepEqual(snap.allocsByNode('n2'), []);
  assert.equal(snap.allocById('a3'), null);
  assert.deepEqual(snap.allocsByJob(job.Namespace, job.ID).map((a) => a.ID), ['a1', 'a2']);

  assert.deepEqual(s.allocsByNode('n1').map((a) => [a.ID, a.ClientStatus]), [['a1', 'running']]);
  assert.deepEqual(s.allocsByNode('n2').map((a) => a.ID), ['a3']);
  assert.equal(s.allocById('a2'), null);
  assert.deepEqual(s.allocs().map((a) => a.ID), ['a1', 'a3']);
  snap.release();

  const later = s.snapshot();
  assert.deepEqual(later.allocsByJob(job.Namespace, job.ID).map((a) => a.ID), ['a1', 'a3']);
  later.release();
}));

void test('the index is rebuilt from LMDB when the store reopens, and after a snapshot restore', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'yurt-alloc-index-'));
  try {
    let s = StateStore.open(dir);
    put(s, testAlloc(job, { ID: 'a1', NodeID: 'n1' }), testAlloc(job, { ID: 'a2', NodeID: 'n2' }));
    const bytes = s.snapshotBytes();
    put(s, testAlloc(job, { ID: 'a3', NodeID: 'n1' }));
    await s.close();

    s = StateStore.open(dir);
    assert.deepEqual(s.allocsByNode('n1').map((a) => a.ID), ['a1', 'a3']);
    const before = s.snapshot();
    s.restoreBytes(bytes, 100, 2);
    assert.deepEqual(s.allocsByNode('n1').map((a) => a.ID), ['a1']);
    assert.equal(s.allocById('a3'), null);
    // A snapshot taken before the restore still reads what it read.
    assert.deepEqual(before.allocsByNode('n1').map((a) => a.ID), ['a1', 'a3']);
    before.release();
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('allocations read from the state are shared and frozen: changing one throws instead of corrupting others', withStore((s) => {
  put(s, testAlloc(job, { ID: 'a1', NodeID: 'n1' }));
  const a = s.allocById('a1')!;
  assert.throws(() => {
    (a.TaskStates as Record<string, unknown>)['x'] = {};
  }, TypeError);
  assert.throws(() => {
    a.ClientStatus = 'failed';
  }, TypeError);
  // A changed copy is how state is changed (through the FSM).
  const changed = { ...a, ClientStatus: 'failed' as const };
  assert.equal(changed.ClientStatus, 'failed');
  assert.equal(s.allocById('a1')!.ClientStatus, 'pending');
  assert.equal(s.allocById('a1'), a, 'readers share one object until the allocation changes');
}));

void test('versioned map: old versions are dropped once no reader can see them', () => {
  const m = new VersionedMap<string>();
  m.set('k', 'v1', 1, 1);
  m.set('k', 'v2', 2, 1); // a reader at 1 is open
  m.set('k', 'v3', 3, 1);
  assert.equal(m.get('k', 1), 'v1');
  assert.equal(m.get('k', 2), 'v2');
  assert.equal(m.get('k', 5), 'v3');
  m.set('k', 'v4', 4, 4); // no reader older than 4: v1..v3 go
  assert.equal(m.get('k', 3), undefined);
  m.set('k', undefined, 5, 4); // deleted while a reader at 4 is open: it still sees v4
  assert.equal(m.get('k', 4), 'v4');
  assert.equal(m.get('k', 5), undefined);
  m.sweep(5);
  assert.equal(m.get('k', 4), undefined);
  assert.deepEqual([...m.entries(10)], []);
});

void test('property: every pinned reader sees exactly the allocations of its commit, whatever came after', () => {
  type Op = { kind: 'put'; id: number; node: number; job: number; running: boolean } | { kind: 'del'; id: number } | { kind: 'pin' } | { kind: 'unpin'; which: number };
  const op = fc.oneof(
    fc.record({ kind: fc.constant('put' as const), id: fc.integer({ min: 0, max: 15 }), node: fc.integer({ min: 0, max: 3 }), job: fc.integer({ min: 0, max: 2 }), running: fc.boolean() }),
    fc.record({ kind: fc.constant('del' as const), id: fc.integer({ min: 0, max: 15 }) }),
    fc.record({ kind: fc.constant('pin' as const) }),
    fc.record({ kind: fc.constant('unpin' as const), which: fc.nat() }),
  );
  fc.assert(
    fc.property(fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { maxLength: 40 }), (commits: Op[][]) => {
      const job = testJob();
      const jv = new Map([0, 1, 2].map((j) => [jobVersionKey(job.Namespace, `j${j}`, job.Version), { ...job, ID: `j${j}` }]));
      const idx = StateIndex.load({ allocs: new Map(), jobVersions: jv, nodes: new Map() }, 0);
      let model = new Map<string, { node: string; job: string; status: string }>();
      const pins: Array<{ seq: number; model: Map<string, { node: string; job: string; status: string }> }> = [];
      let seq = 0;
      const check = (at: number, m: Map<string, { node: string; job: string; status: string }>): void => {
        for (let n = 0; n < 4; n++) {
          const want = [...m].filter(([, v]) => v.node === `n${n}`).map(([id]) => id).sort();
          assert.deepEqual([...idx.idsOnNode(`n${n}`, at)], want);
          // The hydrated list, carried over between commits, holds each allocation as written.
          assert.deepEqual(
            idx.allocsOnNode(`n${n}`, at).map((a) => [a.ID, a.NodeID, a.ClientStatus]),
            want.map((id) => [id, `n${n}`, m.get(id)!.status]),
          );
          // What the scheduler derives from the list (carried from commit to commit by the
          // state) equals deriving it from scratch.
          const list = idx.allocsOnNode(`n${n}`, at);
          const derived = liveAllocs(list);
          const fresh = list.filter((a) => !isAllocTerminal(a));
          assert.deepEqual(derived.live.map((a) => a.ID), fresh.map((a) => a.ID));
          assert.deepEqual(derived.usage, nodeUsage(fresh));
        }
        for (let j = 0; j < 3; j++) {
          const want = [...m].filter(([, v]) => v.job === `j${j}`).map(([id]) => id).sort();
          assert.deepEqual([...idx.idsOfJob(job.Namespace, `j${j}`, at)], want);
        }
        for (let i = 0; i < 16; i++) assert.equal(idx.alloc(`a${i}`, at)?.NodeID, m.get(`a${i}`)?.node);
      };
      for (const ops of commits) {
        const allocs = new Map<string, StoredAlloc | null>();
        const next = new Map(model);
        for (const o of ops) {
          if (o.kind === 'pin') pins.push({ seq, model });
          else if (o.kind === 'unpin') {
            if (pins.length > 0) pins.splice(o.which % pins.length, 1);
          } else if (o.kind === 'put') {
            const status = o.running ? 'running' : 'complete';
            const task = { Cpu: { CpuShares: (o.id + 1) * 10 * (o.job + 1), ReservedCores: [] }, Memory: { MemoryMB: o.node + 1, MemoryMaxMB: 0 }, Networks: [], Devices: [] };
            const resources = { Tasks: { t: task }, Shared: { DiskMB: 0, Networks: [], Ports: [] } };
            const { Job: _j, ...rest } = testAlloc(job, { ID: `a${o.id}`, NodeID: `n${o.node}`, JobID: `j${o.job}`, ClientStatus: status, AllocatedResources: resources });
            allocs.set(`a${o.id}`, { ...rest, JobVersion: job.Version });
            next.set(`a${o.id}`, { node: `n${o.node}`, job: `j${o.job}`, status });
          } else {
            allocs.set(`a${o.id}`, null);
            next.delete(`a${o.id}`);
          }
        }
        seq++;
        const horizon = Math.min(seq, ...pins.map((p) => p.seq));
        idx.apply({ allocs, jobVersions: new Map(), nodes: new Map() }, seq, horizon);
        model = next;
        check(seq, model);
        for (const p of pins) check(p.seq, p.model);
      }
    }),
    { seed: 42, numRuns: 200 },
  );
});

void test('a job version rewritten in place (marked stable) is what readers and its allocations then see', withStore((s) => {
  s.write(++index, 1, (w) => w.putJob(job));
  put(s, testAlloc(job, { ID: 'a1', NodeID: 'n1' }));
  const before = s.snapshot();
  s.write(++index, 1, (w) => w.putJobVersion({ ...job, Stable: true }));
  assert.equal(s.jobVersion(job.Namespace, job.ID, job.Version)?.Stable, true);
  assert.equal(s.allocById('a1')?.Job.Stable, true);
  assert.equal(s.allocsByNode('n1')[0]?.Job.Stable, true);
  assert.equal(before.allocsByNode('n1')[0]?.Job.Stable, false);
  before.release();
}));

void test("a node's allocation list is one shared array until something on that node changes (what schedulers cache usage by)", withStore((s) => {
  put(s, testAlloc(job, { ID: 'a1', NodeID: 'n1' }), testAlloc(job, { ID: 'a2', NodeID: 'n2' }));
  const n1 = s.allocsByNode('n1');
  const snap = s.snapshot();
  assert.equal(snap.allocsByNode('n1'), n1);
  put(s, testAlloc(job, { ID: 'a2', NodeID: 'n2', ClientStatus: 'complete' }));
  assert.equal(s.allocsByNode('n1'), n1, 'a change on n2 leaves n1 alone');
  const n2 = s.allocsByNode('n2');
  assert.equal(n2[0]?.ClientStatus, 'complete');
  assert.notEqual(snap.allocsByNode('n2'), n2);
  assert.equal(snap.allocsByNode('n2')[0]?.ClientStatus, 'pending');
  assert.ok(Object.isFrozen(n2[0]), 'the allocations in it are frozen');
  snap.release();
}));
