import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { open } from 'lmdb';
import type { Message } from './core/messages.js';
import type { StateMachine, Transport } from './raft-node.js';
import { RaftNode } from './raft-node.js';
import { LoopbackNetwork } from './transport/loopback.js';
import { NotLeaderError, ValidationError, YurtError } from '../structs/errors.js';

const dirs: string[] = [];
/** Every node a test creates; stopped after each test even when it fails midway. */
const nodes: RaftNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function track(n: RaftNode): RaftNode {
  nodes.push(n);
  return n;
}
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'yurt-raft-node-'));
  dirs.push(d);
  return d;
}

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/**
 * A state machine that records what it applies. Its durable "store" is the `checkpoint`
 * index it reports as lastApplied, which can lag behind what it applied in memory, as a
 * real FSM that flushes periodically does; a restart gives a fresh instance that only
 * keeps that index.
 */
class RecordingFsm implements StateMachine {
  readonly seen: Array<{ index: number; term: number; cmd: string }> = [];
  private last: number;

  constructor(private checkpoint = 0) {
    this.last = checkpoint;
  }

  apply(e: { index: number; term: number; data: Uint8Array }): unknown {
    if (e.index <= this.last) throw new Error(`index ${e.index} applied twice (last ${this.last})`);
    this.last = e.index;
    const cmd = dec(e.data);
    this.seen.push({ index: e.index, term: e.term, cmd });
    if (cmd.startsWith('fail:')) throw new YurtError('invalid_argument', `rejected ${cmd}`);
    return `ok:${cmd}`;
  }

  lastApplied(): number {
    return this.checkpoint;
  }

  checkpointAt(index: number): number {
    this.checkpoint = index;
    return index;
  }

  commands(): string[] {
    return this.seen.map((s) => s.cmd);
  }

  snapshot(): Promise<Uint8Array> {
    return Promise.reject(new Error('not used'));
  }

  restore(): Promise<void> {
    return Promise.reject(new Error('not used'));
  }
}

/** A transport that talks to nobody, for single-server tests. */
class NullTransport implements Transport {
  handler: ((m: Message) => void) | null = null;
  sent = 0;
  send(): void {
    this.sent++;
  }
  onMessage(h: (m: Message) => void): void {
    this.handler = h;
  }
  async close(): Promise<void> {}
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const fast = { tickMs: 10, electionTicks: 10, heartbeatTicks: 2 };

function singleNode(dataDir: string, fsm: RecordingFsm, transport: Transport = new NullTransport()): RaftNode {
  return track(new RaftNode({ id: 's1', address: '127.0.0.1:4647', dataDir, bootstrap: [{ id: 's1', address: '127.0.0.1:4647' }], transport, fsm, ...fast }));
}

void describe('RaftNode, single server', () => {
  void it('leads right after start and applies 1,000 concurrent commands in order', async () => {
    const fsm = new RecordingFsm();
    const node = singleNode(tempDir(), fsm);
    await node.start();
    assert.equal(node.isLeader(), true, 'a lone voter does not wait for an election timeout');
    assert.deepEqual(node.leader(), { id: 's1', address: '127.0.0.1:4647' });
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => node.apply(enc(`cmd${i}`))));
    assert.deepEqual(
      results.map((r) => r.result),
      Array.from({ length: 1000 }, (_, i) => `ok:cmd${i}`),
    );
    const indexes = results.map((r) => r.index);
    assert.deepEqual(indexes, [...indexes].sort((a, b) => a - b));
    assert.deepEqual(fsm.commands(), Array.from({ length: 1000 }, (_, i) => `cmd${i}`));
    assert.equal(node.appliedIndex(), node.commitIndex());
    assert.equal(node.stats()['state'], 'Leader');
    await node.stop();
    assert.equal(node.isLeader(), false);
  });

  void it('applies entries already on disk while the next write commits, keeping their order', async () => {
    const fsm = new RecordingFsm();
    const node = singleNode(tempDir(), fsm);
    await node.start();
    // Four clients, each sending its next command once the last one applied (as scheduler
    // workers do): Readies then carry new entries and committed ones together.
    const clients = Array.from({ length: 4 }, async (_, c) => {
      const out: string[] = [];
      for (let i = 0; i < 150; i++) out.push(String((await node.apply(enc(`c${c}-${i}`))).result));
      return out;
    });
    const results = await Promise.all(clients);
    results.forEach((out, c) => assert.deepEqual(out, Array.from({ length: 150 }, (_, i) => `ok:c${c}-${i}`)));
    const seen = fsm.seen.map((s) => s.index);
    assert.deepEqual(seen, [...seen].sort((a, b) => a - b), 'applied in log order');
    assert.equal(new Set(seen).size, seen.length, 'each entry applied once');
    const during = Number(node.stats()['applied_during_writes']);
    assert.ok(during > 0, `some entries were applied while a later write was in flight (${during})`);
    await node.stop();
  });

  void it('replays exactly the entries after the FSM\'s durable index on restart', async () => {
    const dir = tempDir();
    const fsm1 = new RecordingFsm();
    const n1 = singleNode(dir, fsm1);
    await n1.start();
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => n1.apply(enc(`cmd${i}`))));
    // The FSM made its state durable up to the 600th command, then the process stopped.
    const checkpoint = fsm1.checkpointAt(results[599]!.index);
    await n1.stop();

    const fsm2 = new RecordingFsm(checkpoint);
    const n2 = singleNode(dir, fsm2);
    await n2.start();
    assert.deepEqual(fsm2.commands(), Array.from({ length: 400 }, (_, i) => `cmd${i + 600}`), 'replay: nothing twice, nothing lost');
    assert.equal(fsm2.seen[0]?.index, checkpoint + 1);
    assert.ok(n2.appliedIndex() >= results[999]!.index);
    const more = await n2.apply(enc('after-restart'));
    assert.equal(more.result, 'ok:after-restart');
    assert.ok(more.index > results[999]!.index);
    await n2.stop();

    // A state machine that lost everything gets the whole log again.
    const fsm3 = new RecordingFsm(0);
    const n3 = singleNode(dir, fsm3);
    await n3.start();
    assert.deepEqual(fsm3.commands(), [...Array.from({ length: 1000 }, (_, i) => `cmd${i}`), 'after-restart']);
    await n3.stop();
  });

  void it('keeps every acknowledged command when the process is killed', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'testdata', 'crash-child.ts'), dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let acked = 0;
    await new Promise<void>((resolve, reject) => {
      child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      child.stdout.on('data', (chunk: Buffer) => {
        for (const m of chunk.toString().matchAll(/acked (\d+)/g)) acked = Math.max(acked, Number(m[1]));
        if (acked >= 500) resolve();
      });
    });
    child.removeAllListeners('exit');
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;

    const fsm = new RecordingFsm();
    const node = singleNode(dir, fsm);
    await node.start();
    await node.barrier(); // entries whose commit index was not yet saved commit again here
    const cmds = fsm.commands();
    assert.ok(cmds.length >= acked, `${cmds.length} commands survived, ${acked} were acknowledged`);
    assert.deepEqual(cmds, Array.from({ length: cmds.length }, (_, i) => `cmd${i}`), 'in order, none twice, none missing');
  });

  void it('hands the FSM\'s error to the caller and keeps going', async () => {
    const fsm = new RecordingFsm();
    const node = singleNode(tempDir(), fsm);
    await node.start();
    await assert.rejects(node.apply(enc('fail:bad')), (e: unknown) => e instanceof YurtError && e.code === 'invalid_argument');
    assert.equal((await node.apply(enc('good'))).result, 'ok:good');
    assert.equal(node.stats()['apply_errors'], 1);
    await node.stop();
  });

  void it('barrier resolves once everything before it is applied', async () => {
    const fsm = new RecordingFsm();
    const node = singleNode(tempDir(), fsm);
    await node.start();
    const applies = Array.from({ length: 20 }, (_, i) => node.apply(enc(`c${i}`)));
    const index = await node.barrier();
    assert.equal(fsm.seen.length, 20);
    assert.ok(index > fsm.seen.at(-1)!.index);
    assert.ok(node.appliedIndex() >= index);
    await Promise.all(applies);
    await node.stop();
  });

  void it('refuses to start on a log that fails its checksum', async () => {
    const dir = tempDir();
    const n1 = singleNode(dir, new RecordingFsm());
    await n1.start();
    const { index } = await n1.apply(enc('precious'));
    await n1.stop();

    const env = open({ path: join(dir, 'raft.mdb'), maxDbs: 4 });
    const log = env.openDB<Buffer, number>({ name: 'log', encoding: 'binary' });
    const buf = Buffer.from(log.get(index)!);
    buf[buf.length - 1]! ^= 0x20; // one flipped bit in the payload
    await log.put(index, buf);
    await env.close();

    const n2 = singleNode(dir, new RecordingFsm());
    await assert.rejects(
      n2.start(),
      (e: unknown) => e instanceof YurtError && e.code === 'corrupted' && e.message.includes(`entry ${index} fails its CRC32 checksum`),
    );
    assert.equal(n2.stats()['node_state'], 'failed');
    await n2.stop();
  });

  void it('drops malformed inbound messages without harm', async () => {
    const transport = new NullTransport();
    const node = singleNode(tempDir(), new RecordingFsm(), transport);
    await node.start();
    transport.handler?.({ type: 'app', from: 'x', to: 's1', term: 99 } as unknown as Message);
    transport.handler?.('garbage' as unknown as Message);
    assert.equal(node.stats()['dropped_messages'], 2);
    assert.equal(node.stats()['term'], 2, 'the bogus term was not adopted');
    assert.equal((await node.apply(enc('still fine'))).result, 'ok:still fine');
    await node.stop();
  });

  void it('rejects calls before start and after stop', async () => {
    const node = singleNode(tempDir(), new RecordingFsm());
    await assert.rejects(node.apply(enc('x')), (e: unknown) => e instanceof YurtError && e.code === 'unavailable');
    await node.start();
    await assert.rejects(node.start(), /already started/);
    await node.stop();
    await assert.rejects(node.apply(enc('x')), (e: unknown) => e instanceof YurtError && e.code === 'unavailable');
    await node.stop();
  });

  void it('validates its options', () => {
    const base = { id: 's1', address: 'a:1', dataDir: '/tmp/x', transport: new NullTransport(), fsm: new RecordingFsm() };
    assert.throws(() => new RaftNode({ ...base, id: '' }), ValidationError);
    assert.throws(() => new RaftNode({ ...base, electionTicks: 2, heartbeatTicks: 2 }), /electionTicks/);
    assert.throws(
      () => new RaftNode({ ...base, bootstrap: [{ id: 'a', address: 'x:1' }, { id: 'a', address: 'y:1' }] }),
      (e: unknown) => e instanceof ValidationError && e.errors.some((f) => f.path === 'bootstrap[1].id'),
    );
  });
});

interface Member {
  id: string;
  dir: string;
  fsm: RecordingFsm;
  node: RaftNode;
}

function cluster(ids: string[]) {
  const net = new LoopbackNetwork();
  const servers = ids.map((id) => ({ id, address: `${id}.loopback:4647` }));
  const make = (id: string, dir: string, fsm: RecordingFsm): Member => ({
    id,
    dir,
    fsm,
    node: track(new RaftNode({ id, address: `${id}.loopback:4647`, dataDir: dir, bootstrap: servers, transport: net.transport(id), fsm, ...fast })),
  });
  const members = ids.map((id) => make(id, tempDir(), new RecordingFsm()));
  const leaders = () => members.filter((m) => m.node.isLeader());
  const oneLeader = async (among = members) => {
    await waitFor('a single leader', () => among.filter((m) => m.node.isLeader()).length === 1, 10_000);
    return among.find((m) => m.node.isLeader())!;
  };
  return { net, members, leaders, oneLeader, make };
}

void describe('RaftNode, three servers over a loopback network', () => {
  void it('elects one leader, replicates, and survives losing the leader', async () => {
    const c = cluster(['a', 'b', 'c']);
    await Promise.all(c.members.map((m) => m.node.start()));
    const first = await c.oneLeader();
    const followers = c.members.filter((m) => m !== first);
    await waitFor('followers to learn the leader', () => followers.every((f) => f.node.leader()?.id === first.id));
    for (const f of followers) assert.deepEqual(f.node.leader(), { id: first.id, address: `${first.id}.loopback:4647` });

    const r1 = await Promise.all(Array.from({ length: 50 }, (_, i) => first.node.apply(enc(`one${i}`))));
    assert.equal(r1.at(-1)!.result, 'ok:one49');
    await waitFor('followers to apply', () => followers.every((f) => f.fsm.seen.length === 50));

    const follower = followers[0]!;
    await assert.rejects(
      follower.node.apply(enc('nope')),
      (e: unknown) => e instanceof NotLeaderError && e.leaderId === first.id && e.leaderAddr === `${first.id}.loopback:4647`,
    );

    // Kill the leader: the two others elect a new one and keep committing.
    c.net.isolate(first.id);
    await first.node.stop();
    const second = await c.oneLeader(followers);
    assert.notEqual(second.id, first.id);
    const r2 = await Promise.all(Array.from({ length: 20 }, (_, i) => second.node.apply(enc(`two${i}`))));
    assert.ok(r2[0]!.index > r1.at(-1)!.index);

    // The old leader comes back on its data and catches up.
    c.net.heal();
    const back = c.make(first.id, first.dir, new RecordingFsm(first.fsm.seen.at(-1)?.index ?? 0));
    c.members[c.members.indexOf(first)] = back;
    await back.node.start();
    const expected = [...Array.from({ length: 50 }, (_, i) => `one${i}`), ...Array.from({ length: 20 }, (_, i) => `two${i}`)];
    await waitFor('the restarted server to catch up', () => back.fsm.seen.length === 20);
    assert.deepEqual(back.fsm.commands(), expected.slice(50));
    for (const m of c.members.filter((x) => x !== back)) {
      await waitFor(`${m.id} to apply all`, () => m.fsm.seen.length === 70);
      assert.deepEqual(m.fsm.commands(), expected, m.id);
    }
    assert.equal(c.leaders().length, 1);
    await Promise.all(c.members.map((m) => m.node.stop()));
  });

  void it('fails pending applies with leadership_lost when a cut-off leader is deposed', async () => {
    const c = cluster(['a', 'b', 'c']);
    await Promise.all(c.members.map((m) => m.node.start()));
    const old = await c.oneLeader();
    const changes: Array<[boolean, string | null]> = [];
    old.node.onLeadershipChange((isLeader, l) => changes.push([isLeader, l?.id ?? null]));
    c.net.isolate(old.id);
    // With CheckQuorum the cut-off leader may step down on its own before anyone deposes it.
    const stranded = assert.rejects(
      old.node.apply(enc('stranded')),
      (e: unknown) => e instanceof YurtError && e.code === 'leadership_lost',
    );
    const timedOut = old.node.apply(enc('short'), 30);
    await assert.rejects(timedOut, (e: unknown) => e instanceof YurtError && e.code === 'timeout');
    const others = c.members.filter((m) => m !== old);
    const fresh = await c.oneLeader(others);
    await fresh.node.apply(enc('new-era'));
    c.net.heal();
    await stranded;
    assert.equal(changes[0]?.[0], false, 'the first change is the loss of leadership');
    await waitFor('the old leader to follow', () => old.fsm.commands().includes('new-era'));
    assert.deepEqual(changes.at(-1), [false, fresh.id]);
    assert.equal(old.fsm.commands().includes('stranded'), false, 'the uncommitted entry was overwritten');
    await Promise.all(c.members.map((m) => m.node.stop()));
  });
});
