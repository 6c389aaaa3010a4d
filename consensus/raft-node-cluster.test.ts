/**
 * RaftNode's cluster API over an in-process loopback network with real LMDB stores:
 * linearizable reads, leadership transfer, membership changes, snapshots, outage recovery
 * and back-pressure. The same behaviours over real processes and websockets are in
 * cluster-process.test.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { RaftNode } from './raft-node.js';
import type { RaftNodeOptions } from './raft-node.js';
import { encodeWrite, KvStateMachine } from './testing/kv-state-machine.js';
import { LoopbackNetwork } from './transport/loopback.js';
import { NotLeaderError, ValidationError, YurtError } from '../structs/errors.js';

const dirs: string[] = [];
const nodes: RaftNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'yurt-raft-cluster-'));
  dirs.push(d);
  return d;
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const fast = { tickMs: 10, electionTicks: 10, heartbeatTicks: 2 };

interface Member {
  id: string;
  dir: string;
  fsm: KvStateMachine;
  node: RaftNode;
}

class Cluster {
  readonly net = new LoopbackNetwork();
  readonly members = new Map<string, Member>();

  constructor(
    readonly ids: string[],
    private readonly extra: Partial<RaftNodeOptions> = {},
  ) {
    for (const id of ids) this.add(id, tempDir(), true);
  }

  add(id: string, dir: string, bootstrap: boolean, extra: Partial<RaftNodeOptions> = {}): Member {
    const fsm = new KvStateMachine();
    const node = new RaftNode({
      id,
      address: `${id}.loopback:4647`,
      dataDir: dir,
      ...(bootstrap ? { bootstrap: this.ids.map((x) => ({ id: x, address: `${x}.loopback:4647` })) } : {}),
      transport: this.net.transport(id),
      fsm,
      ...fast,
      ...this.extra,
      ...extra,
    });
    nodes.push(node);
    const m = { id, dir, fsm, node };
    this.members.set(id, m);
    return m;
  }

  get(id: string): Member {
    const m = this.members.get(id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  async start(): Promise<void> {
    await Promise.all([...this.members.values()].map((m) => m.node.start()));
  }

  async leader(among?: string[]): Promise<Member> {
    const pool = () => [...this.members.values()].filter((m) => among === undefined || among.includes(m.id));
    await waitFor('one leader', () => pool().filter((m) => m.node.isLeader()).length === 1);
    return pool().find((m) => m.node.isLeader())!;
  }

  async write(key: string, value: string): Promise<number> {
    const l = await this.leader();
    return (await l.node.apply(encodeWrite(key, value))).index;
  }
}

void describe('linearizable reads (ReadIndex)', () => {
  void it('a read on any server reflects every write acknowledged before it', async () => {
    const c = new Cluster(['a', 'b', 'c']);
    await c.start();
    const leader = await c.leader();
    const follower = [...c.members.values()].find((m) => m !== leader)!;
    for (let i = 0; i < 20; i++) {
      const index = await c.write('x', `v${i}`);
      // The follower may not have applied the write yet; its read index makes it wait.
      const read = await follower.node.readIndex();
      assert.ok(read >= index, `read index ${read} covers write ${index}`);
      assert.equal(follower.fsm.get('x'), `v${i}`);
      assert.equal(await leader.node.readIndex(), leader.node.commitIndex());
    }
    assert.ok(Number(follower.node.stats()['reads_served']) >= 20);
  });

  void it('a leader cut off from the others never serves a read', async () => {
    const c = new Cluster(['a', 'b', 'c']);
    await c.start();
    const old = await c.leader();
    c.net.isolate(old.id);
    const read = assert.rejects(old.node.readIndex(5000), (e: unknown) => e instanceof YurtError && e.code === 'leadership_lost');
    const others = [...c.ids].filter((id) => id !== old.id);
    const fresh = await c.leader(others);
    await fresh.node.apply(encodeWrite('x', 'newer'));
    await read;
    assert.equal(old.fsm.get('x'), undefined, 'and it never saw the newer write');
  });
});

void describe('leadership transfer', () => {
  void it('hands over to the named server, which then accepts writes', async () => {
    const c = new Cluster(['a', 'b', 'c']);
    await c.start();
    const from = await c.leader();
    await c.write('k', '1');
    const to = [...c.ids].find((id) => id !== from.id)!;
    const newLeader = await from.node.transferLeadership(to);
    assert.deepEqual(newLeader, { id: to, address: `${to}.loopback:4647` });
    assert.equal(c.get(to).node.isLeader(), true);
    await assert.rejects(from.node.apply(encodeWrite('k', '2')), NotLeaderError);
    await c.get(to).node.apply(encodeWrite('k', '2'));
    await assert.rejects(from.node.transferLeadership(), NotLeaderError);
  });
});

void describe('membership changes', () => {
  void it('a fourth server joins as a non-voter, is promoted, and the old leader is removed', async () => {
    const c = new Cluster(['a', 'b', 'c']);
    await c.start();
    for (let i = 0; i < 30; i++) await c.write(`k${i}`, `v${i}`);
    const d = c.add('d', tempDir(), false);
    await d.node.start();
    assert.deepEqual(d.node.configuration(), [], 'a new server without bootstrap knows no configuration');
    const leader = await c.leader();
    await leader.node.addVoter('d', 'd.loopback:4647');
    assert.deepEqual(
      leader.node.configuration().map((s) => `${s.id}:${s.suffrage}`),
      ['a:voter', 'b:voter', 'c:voter', 'd:voter'],
    );
    await waitFor('d to apply everything', () => d.fsm.size() === 30);
    assert.equal(d.fsm.get('k29'), 'v29');
    assert.equal(d.node.stats()['suffrage'], 'voter');

    await leader.node.removeServer(leader.id);
    const rest = ['a', 'b', 'c', 'd'].filter((id) => id !== leader.id);
    const successor = await c.leader(rest);
    assert.equal(leader.node.isLeader(), false);
    assert.deepEqual(successor.node.configuration().map((s) => s.id).sort(), rest);
    await successor.node.apply(encodeWrite('after', 'removal'));
    await waitFor('every remaining server to apply', () => rest.every((id) => c.get(id).fsm.get('after') === 'removal'));
    await waitFor('the removed server to know', () => leader.node.stats()['suffrage'] === 'none');
  });

  void it('refuses a second change while one is uncommitted, and bad changes with clear errors', async () => {
    const c = new Cluster(['a', 'b', 'c']);
    await c.start();
    const leader = await c.leader();
    await waitFor('the no-op to commit', () => leader.node.commitIndex() >= 2);
    for (const id of c.ids) if (id !== leader.id) c.net.isolate(id);
    const first = assert.rejects(
      leader.node.addNonVoter('x', 'x.loopback:4647', 200),
      (e: unknown) => e instanceof YurtError && (e.code === 'timeout' || e.code === 'leadership_lost'),
    );
    await assert.rejects(leader.node.addNonVoter('y', 'y.loopback:4647'), (e: unknown) => e instanceof YurtError && e.code === 'conflict');
    await assert.rejects(leader.node.removeServer('nobody'), (e: unknown) => e instanceof YurtError && e.code === 'not_found');
    await assert.rejects(leader.node.addVoter('z', 'a.loopback:4647'), (e: unknown) => e instanceof YurtError && e.code === 'conflict');
    await first;
  });
});

void describe('snapshots and compaction', () => {
  void it('takes snapshots, compacts the log, and a restarted follower catches up by snapshot', async () => {
    const c = new Cluster(['a', 'b', 'c'], { snapshotThreshold: 40, trailingLogs: 10 });
    await c.start();
    const leader = await c.leader();
    const follower = [...c.members.values()].find((m) => m !== leader)!;
    await c.write('before', 'stop');
    await waitFor('the follower to apply', () => follower.fsm.get('before') === 'stop');
    await follower.node.stop();
    c.net.isolate(follower.id);
    for (let i = 0; i < 150; i++) await c.write(`k${i % 50}`, `v${i}`);
    await waitFor('a compacted log', () => Number(leader.node.stats()['first_log_index']) > 100);
    assert.ok(Number(leader.node.stats()['snapshots_taken']) >= 3);
    assert.ok(readdirSync(join(leader.dir, 'snapshots')).length <= 2, 'only the last two snapshots are kept');

    c.net.heal();
    const back = c.add(follower.id, follower.dir, true);
    await back.node.start();
    await waitFor('the follower to catch up', () => back.fsm.get('k49') === 'v149');
    assert.equal(back.node.stats()['snapshots_installed'], 1);
    assert.equal(back.fsm.restores, 1);
    assert.equal(back.fsm.get('before'), 'stop');
    assert.ok(Number(leader.node.stats()['snapshots_sent']) >= 1);
  });

  void it('restarts from its own snapshot and the log after it', async () => {
    const c = new Cluster(['a'], { snapshotThreshold: 20, trailingLogs: 0 });
    await c.start();
    for (let i = 0; i < 50; i++) await c.write(`k${i}`, `v${i}`);
    const a = c.get('a');
    await waitFor('a snapshot', () => Number(a.node.stats()['last_snapshot_index']) >= 40);
    await a.node.stop();
    const again = c.add('a', a.dir, true);
    await again.node.start();
    assert.equal(again.fsm.restores, 1, 'the state machine started from the snapshot');
    assert.equal(again.fsm.size(), 50);
    assert.ok(again.fsm.applies < 50, 'and replayed only what came after it');
  });

  void it('refuses to start on a corrupted snapshot, naming the file', async () => {
    const c = new Cluster(['a'], { snapshotThreshold: 10 });
    await c.start();
    for (let i = 0; i < 15; i++) await c.write(`k${i}`, `v${i}`);
    const a = c.get('a');
    await waitFor('a snapshot', () => Number(a.node.stats()['snapshots_taken']) >= 1);
    await a.node.stop();
    const snapDir = join(a.dir, 'snapshots', readdirSync(join(a.dir, 'snapshots'))[0]!);
    const state = join(snapDir, 'state.bin');
    const bytes = readFileSync(state);
    bytes[5] = bytes[5]! ^ 0x01;
    writeFileSync(state, bytes);
    const again = c.add('a', a.dir, true);
    await assert.rejects(
      again.node.start(),
      (e: unknown) => e instanceof YurtError && e.code === 'corrupted' && e.message.includes(state) && /SHA-256/.test(e.message),
    );
    assert.equal(again.node.stats()['node_state'], 'failed');
  });
});

void describe('outage recovery with peers.json', () => {
  void it('a lone survivor of a lost quorum resumes with all committed data', async () => {
    const c = new Cluster(['a', 'b', 'c']);
    await c.start();
    for (let i = 0; i < 20; i++) await c.write(`k${i}`, `v${i}`);
    await waitFor('every server to apply', () => [...c.members.values()].every((m) => m.fsm.size() === 20));
    await Promise.all([...c.members.values()].map((m) => m.node.stop()));

    // b and c are gone for good; a is told it is now the whole cluster.
    const a = c.get('a');
    writeFileSync(join(a.dir, 'peers.json'), JSON.stringify([{ id: 'a', address: 'a.loopback:4647', non_voter: false }]));
    const survivor = c.add('a', a.dir, false);
    await survivor.node.start();
    await waitFor('a to lead alone', () => survivor.node.isLeader());
    assert.equal(existsSync(join(a.dir, 'peers.json')), false, 'the recovery file is consumed');
    assert.equal(survivor.fsm.size(), 20);
    await survivor.node.apply(encodeWrite('after', 'recovery'));
    assert.deepEqual(survivor.node.configuration(), [{ id: 'a', address: 'a.loopback:4647', suffrage: 'voter' }]);
  });

  void it('rejects a malformed recovery file with the field at fault', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'peers.json'), JSON.stringify([{ id: 'a', address: 'a:1' }, { id: 'a', address: 7 }]));
    const c = new Cluster(['a']);
    const m = c.add('a', dir, false);
    await assert.rejects(
      m.node.start(),
      (e: unknown) =>
        e instanceof ValidationError &&
        e.message.includes(join(dir, 'peers.json')) &&
        e.errors.some((f) => f.path === '[1].address'),
    );
    assert.equal(existsSync(join(dir, 'peers.json')), true, 'a file that was not used is left in place');
  });
});

void describe('back-pressure', () => {
  void it('refuses writes beyond the uncommitted-bytes cap while followers are unreachable', async () => {
    const c = new Cluster(['a', 'b', 'c'], { maxUncommittedBytes: 4096 });
    await c.start();
    const leader = await c.leader();
    await c.write('warm', 'up');
    for (const id of c.ids) if (id !== leader.id) c.net.isolate(id);
    const outcomes: string[] = [];
    for (let i = 0; i < 100; i++) {
      leader.node.apply(encodeWrite(`k${i}`, 'x'.repeat(200)), 60_000).then(
        () => outcomes.push('ok'),
        (e: unknown) => outcomes.push(e instanceof YurtError && e.details?.['reason'] === 'backpressure' ? 'backpressure' : 'other'),
      );
    }
    await waitFor('refusals', () => outcomes.length > 0);
    const refused = outcomes.filter((o) => o === 'backpressure').length;
    assert.ok(refused >= 75 && refused <= 85, `${refused} of 100 writes refused with back-pressure (about 4096 bytes accepted)`);
    assert.equal(outcomes.length, refused, 'the accepted ones wait for a majority');
  });
});
