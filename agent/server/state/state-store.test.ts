import { test } from 'node:test';
import type { Database, RootDatabase } from 'lmdb';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateStore } from './state-store.js';
import { Fsm } from '../fsm.js';
import { encodeCommand, type FsmCommand } from '../fsm-commands.js';
import { testAlloc, testEval, testJob, testNode } from '../../../scheduler/testing/fixtures.js';
import type { Allocation, TaskState } from '../../../structs/alloc.js';
import type { Job } from '../../../structs/job.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'yurt-state-'));
}

function newFsm(dir: string) {
  const state = StateStore.open(dir);
  const fsm = new Fsm(state);
  let index = state.lastApplied().index;
  const apply = (cmd: FsmCommand) => fsm.apply({ index: ++index, term: 1, data: encodeCommand(cmd) });
  return { state, fsm, apply };
}

function allocFor(job = testJob(), id = 'a1', nodeId = 'n1'): Allocation {
  return testAlloc(job, { ID: id, Name: `${job.ID}.web[0]`, NodeID: nodeId, NodeName: 'n', TaskGroup: 'web', CreateIndex: 0, ModifyIndex: 0, AllocModifyIndex: 0 });
}

/** Node n1 registered, `job` registered, and `placed` committed by eval-1's plan. */
function placeOnN1(apply: (cmd: FsmCommand) => unknown, job: Job, placed: Allocation[]): void {
  apply({ type: 'NodeRegister', node: testNode('n1'), now: 1 });
  apply({ type: 'JobRegister', job, eval: testEval(job), now: 1 });
  apply({ type: 'PlanApply', evalId: 'eval-1', job, placed, updated: [], evals: [], now: 2 });
}

/** A fresh store holding node n1, the test job and its allocation a1 on n1. */
function storeWithA1(): ReturnType<typeof newFsm> {
  const a = newFsm(tmp());
  const job = testJob();
  placeOnN1(a.apply, job, [allocFor(job, 'a1')]);
  return a;
}

/** A task that has finished, as a client reports it. */
function deadTask(): TaskState {
  return { State: 'dead', Failed: false, Restarts: 0, LastRestart: null, StartedAt: null, FinishedAt: null, Events: [] };
}

/** The store's LMDB tables, for tests that lay rows out as another build would. */
function tablesOf(state: StateStore): { env: RootDatabase; allocs: Database } {
  return (state as unknown as { tables: { env: RootDatabase; allocs: Database } }).tables;
}

void test('job register: versions, indexes, evaluation and status', async () => {
  const dir = tmp();
  const { state, apply } = newFsm(dir);
  const job = testJob();
  const r1 = apply({ type: 'JobRegister', job, eval: testEval(job), now: 5 }) as { jobModifyIndex: number; evalId: string };
  assert.equal(r1.jobModifyIndex, 1);
  assert.equal(r1.evalId, 'eval-1');
  let stored = state.jobById('default', 'example')!;
  assert.equal(stored.Version, 0);
  assert.equal(stored.Status, 'pending', 'a job with only a pending evaluation is pending');
  apply({ type: 'JobRegister', job, eval: null, now: 6 });
  assert.equal(state.jobById('default', 'example')!.Version, 0, 'an unchanged job keeps its version');
  apply({ type: 'JobRegister', job: { ...job, Priority: 70 }, eval: null, now: 7 });
  stored = state.jobById('default', 'example')!;
  assert.equal(stored.Version, 1);
  assert.equal(stored.JobModifyIndex, 3);
  assert.deepEqual(state.jobVersions('default', 'example').map((j) => j.Version), [1, 0]);
  assert.equal(state.tableIndex('jobs'), 3);
  assert.deepEqual(state.evalsByJob('default', 'example').map((e) => e.ID), ['eval-1']);
  await state.close();
  rmSync(dir, { recursive: true });
});

void test('allocations: indexes by node and job, client updates, terminal is final, job status follows', async () => {
  const dir = tmp();
  const { state, apply } = newFsm(dir);
  const job = testJob({ Type: 'batch' });
  apply({ type: 'NodeRegister', node: testNode('n1'), now: 1 });
  apply({ type: 'JobRegister', job, eval: testEval(job), now: 1 });
  apply({ type: 'EvalUpsert', evals: [{ ...testEval(job), Status: 'complete' }] });
  apply({ type: 'PlanApply', evalId: 'eval-1', job, placed: [allocFor(state.jobById('default', 'example')!)], updated: [], evals: [], now: 2 });
  assert.equal(state.allocsByNode('n1').length, 1);
  assert.equal(state.allocsByJob('default', 'example')[0]!.Job.ID, 'example', 'the job is re-attached on read');
  assert.equal(state.jobById('default', 'example')!.Status, 'running');
  const ts = { web: deadTask() };
  apply({ type: 'AllocClientUpdate', updates: [{ ID: 'a1', ClientStatus: 'complete', ClientDescription: 'done', TaskStates: ts, ModifyTime: 3 }], evals: [], now: 3 });
  assert.equal(state.allocById('a1')!.ClientStatus, 'complete');
  assert.equal(state.jobById('default', 'example')!.Status, 'dead', 'a batch job whose allocations all finished is dead');
  apply({ type: 'AllocClientUpdate', updates: [{ ID: 'a1', ClientStatus: 'running', ClientDescription: 'late', TaskStates: ts, ModifyTime: 4 }], evals: [], now: 4 });
  assert.equal(state.allocById('a1')!.ClientStatus, 'complete', 'a late update cannot revive a finished allocation');
  await state.close();
  rmSync(dir, { recursive: true });
});

void test('snapshots are isolated from later writes', async () => {
  const dir = tmp();
  const { state, apply } = newFsm(dir);
  apply({ type: 'NodeRegister', node: testNode('n1'), now: 1 });
  const snap = state.snapshot();
  apply({ type: 'NodeRegister', node: testNode('n2'), now: 2 });
  assert.deepEqual(snap.nodes().map((n) => n.ID), ['n1']);
  assert.deepEqual(state.nodes().map((n) => n.ID), ['n1', 'n2']);
  snap.release();
  await state.close();
  rmSync(dir, { recursive: true });
});

void test('state and lastApplied survive a reopen', async () => {
  const dir = tmp();
  const a = newFsm(dir);
  a.apply({ type: 'NodeRegister', node: testNode('n1'), now: 1 });
  a.apply({ type: 'JobRegister', job: testJob(), eval: null, now: 1 });
  await a.state.close();
  const b = newFsm(dir);
  assert.equal(b.fsm.lastApplied(), 2);
  assert.ok(b.state.jobById('default', 'example'));
  assert.ok(b.state.nodeById('n1'));
  await b.state.close();
  rmSync(dir, { recursive: true });
});

void test('blocking: waitForChange wakes on a change and times out without one', async () => {
  const dir = tmp();
  const { state, apply } = newFsm(dir);
  apply({ type: 'NodeRegister', node: testNode('n1'), now: 1 });
  const t0 = Date.now();
  assert.equal(await state.waitForChange(['jobs'], 0, 50), 0, 'no job change: times out');
  assert.ok(Date.now() - t0 >= 45);
  const waiting = state.waitForChange(['nodes'], 1, 5000);
  setTimeout(() => apply({ type: 'NodeRegister', node: testNode('n2'), now: 2 }), 20);
  assert.equal(await waiting, 2);
  await state.close();
  rmSync(dir, { recursive: true });
});

void test('snapshot and restore: a fresh store restored from a snapshot equals the original', async () => {
  const a = storeWithA1();
  const bytes = await a.fsm.snapshot();
  const applied = a.state.lastApplied();

  const dirB = tmp();
  const b = newFsm(dirB);
  // State the snapshot must replace, not merge with.
  b.apply({ type: 'NodeRegister', node: testNode('stale-node'), now: 1 });
  const changes: Array<Set<string>> = [];
  b.state.onChange((c) => changes.push(new Set(c.tables)));
  await b.fsm.restore(bytes, applied.index, applied.term);

  assert.deepEqual(b.state.lastApplied(), applied);
  assert.deepEqual(b.state.jobById('default', 'example'), a.state.jobById('default', 'example'));
  assert.deepEqual(b.state.nodes().map((n) => n.ID), ['n1']);
  assert.deepEqual(b.state.allocs(), a.state.allocs());
  assert.deepEqual(b.state.evals(), a.state.evals());
  assert.equal(b.state.latestIndex(), a.state.latestIndex());
  assert.equal(b.state.tableIndex('allocs'), a.state.tableIndex('allocs'));
  assert.ok(changes.some((t) => t.has('allocs') && t.has('jobs')), 'blocking queries hear about a restore');
  // The restored store survives a reopen.
  await b.state.close();
  const reopened = StateStore.open(dirB);
  assert.deepEqual(reopened.allocs(), a.state.allocs());
  await reopened.close();
  await a.state.close();
});

void test('restore refuses bytes that are not a state snapshot and keeps the state', async () => {
  const b = newFsm(tmp());
  b.apply({ type: 'NodeRegister', node: testNode('keep'), now: 1 });
  await assert.rejects(() => b.fsm.restore(new Uint8Array([1, 2, 3]), 9, 1), /not a yurt state snapshot|cannot be decoded/);
  assert.deepEqual(b.state.nodes().map((n) => n.ID), ['keep']);
  await b.state.close();
});

void test('allocation rows: updates and deletes leave no stale row behind a reopen', async () => {
  const dir = tmp();
  const { state, apply } = newFsm(dir);
  const job = testJob({ Type: 'batch' });
  placeOnN1(apply, job, [allocFor(job, 'a1'), allocFor(job, 'a2'), allocFor(job, 'a3')]);
  apply({ type: 'AllocClientUpdate', updates: [{ ID: 'a2', ClientStatus: 'complete', ClientDescription: 'done', TaskStates: { web: deadTask() }, ModifyTime: 3 }], evals: [], now: 3 });
  apply({ type: 'GcApply', evalIds: [], allocIds: ['a3'], jobs: [], nodeIds: [] });
  const before = state.allocs();
  assert.deepEqual(before.map((a) => [a.ID, a.ClientStatus]), [['a1', 'pending'], ['a2', 'complete']]);
  await state.close();
  const reopened = StateStore.open(dir);
  assert.deepEqual(reopened.allocs(), before, 'one row per allocation, the newest');
  assert.equal(reopened.allocsByNode('n1').length, 2);
  await reopened.close();
  rmSync(dir, { recursive: true });
});

void test('allocation rows: a data directory that keyed them by ID is moved over on open, once', async () => {
  const dir = tmp();
  const { state, apply } = newFsm(dir);
  const job = testJob();
  placeOnN1(apply, job, [allocFor(job, 'a1'), allocFor(job, 'a2')]);
  const expected = state.allocs();
  const tables = tablesOf(state);
  // Rewrite the rows as earlier builds laid them out: keyed by ID, in the `allocs` table.
  const legacy = tables.env.openDB({ name: 'allocs' });
  tables.env.transactionSync(() => {
    for (const { key, value } of tables.allocs.getRange()) {
      legacy.putSync((value as { ID: string }).ID, value);
      tables.allocs.removeSync(key);
    }
  });
  await state.close();

  const reopened = StateStore.open(dir);
  assert.deepEqual(reopened.allocs(), expected);
  assert.equal(reopened.allocsByNode('n1').length, 2);
  await reopened.close();
  const again = StateStore.open(dir);
  assert.deepEqual(again.allocs(), expected, 'the moved rows are read on later opens too');
  assert.equal(tablesOf(again).env.openDB({ name: 'allocs' }).getKeysCount(), 0, 'the old table is emptied');
  await again.close();
  rmSync(dir, { recursive: true });
});

void test('snapshots carry allocation rows keyed by ID, the layout every build reads', async () => {
  const a = storeWithA1();
  const { unpack } = await import('msgpackr');
  const snap = unpack(await a.fsm.snapshot()) as { tables: Record<string, Array<[unknown, unknown]>> };
  assert.deepEqual(snap.tables['allocs']!.map(([k]) => k), ['a1']);
  await a.state.close();
});

void test('allocation rows: an entry that fails after writing a new row shape leaves every later row readable after a reopen', async () => {
  const dir = tmp();
  const { state, apply } = newFsm(dir);
  const job = testJob({ Type: 'batch' });
  placeOnN1(apply, job, [allocFor(job, 'a1')]);
  // A shape no row had before (a task state map with this key), then an allocation without
  // its job: the entry fails and its whole transaction is rolled back.
  const ts = { 'never-seen': deadTask() };
  const odd = { ...allocFor(job, 'a2'), TaskStates: ts };
  const { Job: _job, ...orphan } = allocFor(job, 'a3');
  assert.throws(() => apply({ type: 'PlanApply', evalId: 'eval-1', job: null, placed: [odd, orphan], updated: [], evals: [], now: 3 }), /without its job/);
  assert.equal(state.allocById('a2'), null, 'nothing of the failed entry is stored');
  // The same shape again, in an entry that succeeds.
  apply({ type: 'PlanApply', evalId: 'eval-1', job, placed: [{ ...allocFor(job, 'a4'), TaskStates: ts }], updated: [], evals: [], now: 4 });
  const before = state.allocs();
  await state.close();
  const reopened = StateStore.open(dir);
  assert.deepEqual(reopened.allocs(), before);
  assert.deepEqual(Object.keys(reopened.allocById('a4')!.TaskStates), ['never-seen']);
  await reopened.close();
  rmSync(dir, { recursive: true });
});
