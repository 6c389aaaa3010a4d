import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeConfiguration, encodeConfiguration } from './configuration.js';
import type { Entry, Message } from './messages.js';
import { RaftCore } from './raft-core.js';
import { seededRandom } from './seeded-random.js';
import { bootstrappedStorage, TestNetwork } from './test-network.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (e: Entry) => new TextDecoder().decode(e.data);
/** A log as "index:term:type[:payload]" lines, the transcript form used below. */
const describeLog = (ents: readonly Entry[]) =>
  ents.map((e) => `${e.index}:${e.term}:${e.type}${e.type === 'normal' ? `:${text(e)}` : ''}`);
const logOf = (net: TestNetwork, id: string) => {
  const s = net.node(id).storage;
  return describeLog(s.entries(s.firstIndex(), s.lastIndex() + 1, Infinity));
};
const entry = (index: number, term: number, payload: string): Entry => ({ index, term, type: 'normal', data: bytes(payload) });

function singleVoter(): RaftCore {
  return new RaftCore({ id: 'n1', storage: bootstrappedStorage(['n1']), random: seededRandom(1), electionTicks: 10 });
}

void describe('single voter', () => {
  void it('elects itself on the first election timeout', () => {
    const core = singleVoter();
    for (let i = 0; i < 19 && core.role !== 'leader'; i++) core.tick();
    assert.equal(core.role, 'leader');
    assert.equal(core.term, 2);
  });

  void it('commits only once the leader reports its own entries durable', () => {
    const storage = bootstrappedStorage(['n1']);
    const core = new RaftCore({ id: 'n1', storage, random: seededRandom(1) });
    assert.equal(core.campaign(), true);
    assert.equal(core.role, 'leader');

    const rd1 = core.ready();
    assert.deepEqual(rd1.hardState, { term: 2, vote: 'n1', commit: 0 });
    assert.deepEqual(describeLog(rd1.entries), ['2:2:noop']);
    assert.deepEqual(rd1.committedEntries, [], 'nothing is committed before it is durable');
    assert.deepEqual(rd1.softState, { leaderId: 'n1', role: 'leader' });
    assert.equal(core.hasReady(), false, 'one Ready at a time');

    storage.persist(rd1.hardState, rd1.entries);
    core.advance(rd1);
    const rd2 = core.ready();
    assert.deepEqual(rd2.hardState, { term: 2, vote: 'n1', commit: 2 });
    assert.deepEqual(describeLog(rd2.committedEntries), ['1:1:config', '2:2:noop']);
    storage.persist(rd2.hardState, rd2.entries);
    core.advance(rd2);

    const p = core.propose(bytes('x'));
    assert.deepEqual(p, { ok: true, index: 3, term: 2 });
    const rd3 = core.ready();
    assert.deepEqual(describeLog(rd3.entries), ['3:2:normal:x']);
    assert.equal(rd3.committedEntries.length, 0);
    storage.persist(rd3.hardState, rd3.entries);
    core.advance(rd3);
    assert.deepEqual(describeLog(core.ready().committedEntries), ['3:2:normal:x']);
  });

  void it('refuses proposals when not leader', () => {
    const core = singleVoter();
    assert.deepEqual(core.propose(bytes('x')), { ok: false, code: 'not_leader', reason: 'not the leader', details: { leaderId: null } });
    assert.equal(core.proposeBarrier().ok, false);
  });

  void it('replays committed entries after the applied index on restart', () => {
    const storage = bootstrappedStorage(['n1']);
    storage.persist({ term: 2, vote: 'n1', commit: 4 }, [entry(2, 2, 'a'), entry(3, 2, 'b'), entry(4, 2, 'c'), entry(5, 2, 'd')]);
    const core = new RaftCore({ id: 'n1', storage, random: seededRandom(1), applied: 2 });
    assert.deepEqual(describeLog(core.ready().committedEntries), ['3:2:normal:b', '4:2:normal:c']);
  });

  void it('trusts a state machine that applied beyond the stored commit index', () => {
    const storage = bootstrappedStorage(['n1']);
    storage.persist({ term: 2, vote: 'n1', commit: 2 }, [entry(2, 2, 'a'), entry(3, 2, 'b')]);
    const core = new RaftCore({ id: 'n1', storage, random: seededRandom(1), applied: 3 });
    assert.equal(core.log.committed, 3);
    assert.throws(
      () => new RaftCore({ id: 'n1', storage, random: seededRandom(1), applied: 9 }),
      (e: unknown) => e instanceof Error && 'code' in e && e.code === 'corrupted' && /applied index 9/.test(e.message),
    );
  });
});

void describe('election (§5.2)', () => {
  void it('three servers elect the one that times out first', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.core('n1').campaign();
    net.stabilize();
    assert.deepEqual(net.leaders(), ['n1']);
    for (const id of ['n2', 'n3']) {
      assert.equal(net.core(id).role, 'follower');
      assert.equal(net.core(id).lead, 'n1');
      assert.equal(net.core(id).term, 2);
    }
    for (const id of ['n1', 'n2', 'n3']) {
      assert.deepEqual(logOf(net, id), ['1:1:config', '2:2:noop'], id);
      assert.equal(net.core(id).log.committed, 2, id);
    }
  });

  void it('randomized timeouts elect exactly one leader from idle servers', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const net = new TestNetwork(['n1', 'n2', 'n3', 'n4', 'n5'], { seed });
      for (let i = 0; i < 200 && net.leaders().length === 0; i++) net.tickAll(1);
      assert.equal(net.leaders().length, 1, `seed ${seed}`);
    }
  });

  void it('a candidate does not win without a majority (no PreVote: its term climbs)', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], { core: { preVote: false } });
    net.isolate('n1');
    net.core('n1').campaign();
    net.stabilize();
    assert.equal(net.core('n1').role, 'candidate');
    net.tick('n1', 40);
    net.stabilize();
    assert.equal(net.core('n1').role, 'candidate', 'keeps campaigning in new terms');
    assert.ok(net.core('n1').term > 3);
  });

  void it('with PreVote, a server that cannot win never raises its term (thesis §9.6)', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.isolate('n1');
    net.core('n1').campaign();
    net.stabilize();
    assert.equal(net.core('n1').role, 'precandidate');
    assert.equal(net.core('n1').term, 1);
    net.tick('n1', 100);
    net.stabilize();
    assert.equal(net.core('n1').role, 'precandidate');
    assert.equal(net.core('n1').term, 1, 'pre-votes do not touch the term');
    assert.equal(net.node('n1').storage.initialState().vote, '', 'nor the vote');
    net.recover();
    net.core('n1').campaign();
    net.stabilize();
    assert.deepEqual(net.leaders(), ['n1'], 'once it can win, the pre-vote leads to a real election');
    assert.equal(net.core('n1').term, 2);
  });

  void it('a server grants one vote per term, recorded in the same Ready as the grant', () => {
    const core = new RaftCore({ id: 'n2', storage: bootstrappedStorage(['n1', 'n2', 'n3']), random: seededRandom(1) });
    core.step({ type: 'vote', from: 'n1', to: 'n2', term: 2, lastLogIndex: 1, lastLogTerm: 1, transfer: false });
    core.step({ type: 'vote', from: 'n3', to: 'n2', term: 2, lastLogIndex: 1, lastLogTerm: 1, transfer: false });
    const rd = core.ready();
    assert.deepEqual(rd.hardState, { term: 2, vote: 'n1', commit: 0 });
    assert.deepEqual(
      rd.messages.map((m) => (m.type === 'voteResp' ? `${m.to} reject=${m.reject}` : m.type)),
      ['n1 reject=false', 'n3 reject=true'],
    );
  });

  void it('a server refuses a candidate whose log is less up-to-date (§5.4.1)', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], { core: { preVote: false, checkQuorum: false } });
    net.core('n1').campaign();
    net.stabilize();
    net.isolate('n3');
    net.core('n1').propose(bytes('a'));
    net.stabilize();
    net.recover();
    net.crash('n1');
    net.core('n3').campaign();
    net.stabilize();
    const answer = net.sent.findLast((m) => m.type === 'voteResp' && m.to === 'n3' && m.from === 'n2');
    assert.equal(answer?.type === 'voteResp' && answer.reject, true);
    assert.notEqual(net.core('n3').role, 'leader');
    // n2 holds every committed entry and can win.
    net.core('n2').campaign();
    net.stabilize();
    assert.equal(net.core('n2').role, 'leader');
  });

  void it('a non-voter never campaigns', () => {
    const storage = bootstrappedStorage(['n1']);
    const core = new RaftCore({ id: 'n9', storage, random: seededRandom(1) });
    for (let i = 0; i < 100; i++) core.tick();
    assert.equal(core.role, 'follower');
    assert.equal(core.campaign(), false);
  });
});

void describe('log replication (§5.3)', () => {
  void it('replicates, commits and applies proposals on every server in order', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.core('n1').campaign();
    net.stabilize();
    for (const s of ['a', 'b', 'c']) net.core('n1').propose(bytes(s));
    net.stabilize();
    // Followers learn the final commit index with the next heartbeat.
    net.tick('n1');
    net.stabilize();
    for (const id of ['n1', 'n2', 'n3']) {
      assert.deepEqual(describeLog(net.node(id).applied), ['1:1:config', '2:2:noop', '3:2:normal:a', '4:2:normal:b', '5:2:normal:c'], id);
    }
  });

  void it('a leader steps down when it sees a higher term', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.core('n1').campaign();
    net.stabilize();
    net.core('n1').step({ type: 'heartbeatResp', from: 'n2', to: 'n1', term: 7, ctx: 0 });
    assert.equal(net.core('n1').role, 'follower');
    assert.equal(net.core('n1').term, 7);
  });

  void it('a deposed leader learns the new term from its own heartbeat and loses its uncommitted entries', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], { core: { preVote: false, checkQuorum: false } });
    net.core('n1').campaign();
    net.stabilize();
    net.isolate('n1');
    net.core('n1').propose(bytes('lost'));
    net.stabilize();
    net.core('n2').campaign();
    net.stabilize();
    net.core('n2').propose(bytes('kept'));
    net.stabilize();
    assert.equal(net.core('n1').role, 'leader', 'the isolated leader does not know yet');
    net.recover();
    net.tick('n1');
    net.stabilize();
    assert.equal(net.core('n1').role, 'follower');
    net.tick('n2');
    net.stabilize();
    assert.deepEqual(logOf(net, 'n1'), ['1:1:config', '2:2:noop', '3:3:noop', '4:3:normal:kept']);
    assert.deepEqual(logOf(net, 'n1'), logOf(net, 'n2'));
  });

  void it('repairs a long divergent follower log in a few round trips (fast backtracking)', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    for (const id of ['n1', 'n2']) {
      const ents = Array.from({ length: 10 }, (_, i) => entry(i + 2, 3, `good${i}`));
      net.node(id).storage.persist({ term: 3, vote: '', commit: 1 }, ents);
    }
    const bad = Array.from({ length: 50 }, (_, i) => entry(i + 2, 2, `stale${i}`));
    net.node('n3').storage.persist({ term: 2, vote: '', commit: 1 }, bad);
    for (const id of ['n1', 'n2', 'n3']) net.restart(id);

    net.core('n1').campaign();
    net.stabilize();
    assert.equal(net.core('n1').role, 'leader');
    net.tick('n1');
    net.stabilize();
    assert.deepEqual(logOf(net, 'n3'), logOf(net, 'n1'));
    assert.equal(logOf(net, 'n3').length, 12);
    const rejections = net.sent.filter((m) => m.type === 'appResp' && m.from === 'n3' && m.reject).length;
    assert.ok(rejections <= 2, `took ${rejections} rejections`);
  });

  void it('commits no further than the entries an append proved to match (§5.3)', () => {
    // n2 holds 2..3 of term 2 (matching the leader) and a stale 4..5 of term 3. A short
    // append that matches up to 3 must not let the leader's commit index (5) reach the
    // stale entries: only what the append covered is known to match.
    const storage = bootstrappedStorage(['n1', 'n2', 'n3']);
    storage.persist({ term: 4, vote: '', commit: 1 }, [entry(2, 2, 'a'), entry(3, 2, 'b'), entry(4, 3, 'stale'), entry(5, 3, 'stale')]);
    const core = new RaftCore({ id: 'n2', storage, random: seededRandom(1) });
    core.step({ type: 'app', from: 'n1', to: 'n2', term: 5, prevIndex: 1, prevTerm: 1, commit: 5, entries: [entry(2, 2, 'a')] });
    assert.equal(core.log.committed, 2);
    core.step({ type: 'heartbeat', from: 'n1', to: 'n2', term: 5, commit: 3, ctx: 0 });
    assert.equal(core.log.committed, 3);
  });

  void it('splits a long catch-up into bounded appends', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], { core: { maxSizePerMsg: 200 } });
    net.core('n1').campaign();
    net.stabilize();
    net.isolate('n3');
    for (let i = 0; i < 50; i++) net.core('n1').propose(bytes(`cmd${i}`));
    net.stabilize();
    net.recover();
    net.tickAll(3);
    assert.deepEqual(logOf(net, 'n3'), logOf(net, 'n1'));
    const appends = net.sent.filter((m): m is Extract<Message, { type: 'app' }> => m.type === 'app' && m.to === 'n3');
    assert.ok(appends.every((m) => m.entries.length <= 8), 'each append respects maxSizePerMsg');
  });
});

void describe('snapshots and compaction', () => {
  void it('a follower behind the compacted log gets a snapshot, then appends', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.core('n1').campaign();
    net.stabilize();
    net.isolate('n3');
    for (let i = 0; i < 10; i++) net.core('n1').propose(bytes(`c${i}`));
    net.stabilize();
    net.tick('n1');
    net.stabilize();
    assert.equal(net.snapshot('n1'), 12);
    assert.equal(net.core('n1').log.firstIndex(), 13);
    net.recover();
    net.tickAll(3);
    const snaps = net.sent.filter((m) => m.type === 'snap');
    assert.deepEqual(snaps.map((m) => `${m.to}@${m.type === 'snap' ? m.snapshot.index : ''}`), ['n3@12'], 'one snapshot, to n3 only');
    assert.equal(net.core('n3').log.firstIndex(), 13);
    assert.deepEqual(describeLog(net.node('n3').applied), describeLog(net.node('n1').applied), 'same state machine');
    assert.equal(net.core('n1').status().progress['n3']?.state, 'replicate');
    net.core('n1').propose(bytes('after'));
    net.tickAll(2);
    for (const id of ['n2', 'n3']) assert.equal(describeLog(net.node(id).applied).at(-1), '13:2:normal:after', id);
  });
});

void describe('commit rule (§5.4.2, Figure 8)', () => {
  void it('a leader does not commit an entry of an earlier term by counting replicas', () => {
    // n1 holds entry 2 from term 2 that never committed; it wins term 4 and replicates that
    // entry (but not its own no-op) to n2. Entry 2 is now on a majority, yet it may still be
    // overwritten by a server elected without it, so it must not be committed.
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.node('n1').storage.persist({ term: 3, vote: '', commit: 0 }, [entry(2, 2, 'old')]);
    net.node('n2').storage.persist({ term: 3, vote: '', commit: 0 }, []);
    net.node('n3').storage.persist({ term: 3, vote: '', commit: 0 }, []);
    for (const id of ['n1', 'n2', 'n3']) net.restart(id);

    net.filter = (m) => {
      if (m.to === 'n3') return null;
      // n2 receives every append, but never entry 3 (the no-op of term 4).
      return m.type === 'app' && m.to === 'n2' ? { ...m, entries: m.entries.filter((e) => e.index <= 2) } : m;
    };
    net.core('n1').campaign();
    net.stabilize();
    assert.equal(net.core('n1').role, 'leader');
    assert.equal(net.core('n1').term, 4);
    net.tickAll(5);
    assert.deepEqual(logOf(net, 'n2'), ['1:1:config', '2:2:normal:old'], 'entry 2 reached n2');
    assert.equal(net.core('n1').status().progress['n2']?.match, 2);
    assert.equal(net.core('n1').log.committed, 0, 'a replica count is not enough for an old-term entry');

    net.filter = (m) => (m.to === 'n3' ? null : m);
    net.tickAll(3);
    assert.equal(net.core('n1').log.committed, 3, 'the no-op of term 4 commits, and entry 2 with it');
    assert.deepEqual(describeLog(net.node('n1').applied), ['1:1:config', '2:2:normal:old', '3:4:noop']);
  });
});

void describe('durability ordering', () => {
  void it('an append is acknowledged in the Ready that persists it', () => {
    const core = new RaftCore({ id: 'n2', storage: bootstrappedStorage(['n1', 'n2', 'n3']), random: seededRandom(1) });
    core.step({ type: 'app', from: 'n1', to: 'n2', term: 2, prevIndex: 1, prevTerm: 1, commit: 0, entries: [entry(2, 2, 'x')] });
    const rd = core.ready();
    assert.deepEqual(describeLog(rd.entries), ['2:2:normal:x']);
    assert.deepEqual(
      rd.messages.map((m) => (m.type === 'appResp' ? `${m.to} index=${m.index} reject=${m.reject}` : m.type)),
      ['n1 index=2 reject=false'],
    );
  });

  void it('messages stepped in while a Ready is being persisted go into the next Ready', () => {
    const storage = bootstrappedStorage(['n1', 'n2', 'n3']);
    const core = new RaftCore({ id: 'n2', storage, random: seededRandom(1) });
    core.step({ type: 'app', from: 'n1', to: 'n2', term: 2, prevIndex: 1, prevTerm: 1, commit: 0, entries: [entry(2, 2, 'x')] });
    const rd1 = core.ready();
    core.step({ type: 'app', from: 'n1', to: 'n2', term: 2, prevIndex: 2, prevTerm: 2, commit: 2, entries: [entry(3, 2, 'y')] });
    assert.equal(core.hasReady(), false);
    storage.persist(rd1.hardState, rd1.entries);
    core.advance(rd1);
    const rd2 = core.ready();
    assert.deepEqual(describeLog(rd2.entries), ['3:2:normal:y']);
    assert.deepEqual(describeLog(rd2.committedEntries), ['1:1:config', '2:2:normal:x']);
    assert.equal(rd2.messages.length, 1);
  });

  void it('a truncation during persistence keeps the replaced entries unstable', () => {
    const storage = bootstrappedStorage(['n1', 'n2', 'n3']);
    const core = new RaftCore({ id: 'n2', storage, random: seededRandom(1) });
    core.step({ type: 'app', from: 'n1', to: 'n2', term: 2, prevIndex: 1, prevTerm: 1, commit: 0, entries: [entry(2, 2, 'a'), entry(3, 2, 'b')] });
    const rd1 = core.ready();
    // A new leader of term 3 overwrites entry 3 before entries 2-3 are durable.
    core.step({ type: 'app', from: 'n3', to: 'n2', term: 3, prevIndex: 2, prevTerm: 2, commit: 0, entries: [entry(3, 3, 'c')] });
    storage.persist(rd1.hardState, rd1.entries);
    core.advance(rd1);
    const rd2 = core.ready();
    storage.persist(rd2.hardState, rd2.entries);
    core.advance(rd2);
    assert.deepEqual(describeLog(storage.entries(1, storage.lastIndex() + 1, Infinity)), ['1:1:config', '2:2:normal:a', '3:3:normal:c']);
  });
});

void describe('configuration from the log', () => {
  void it('follows the latest configuration entry and reverts when it is truncated', () => {
    const storage = bootstrappedStorage(['n1', 'n2', 'n3']);
    const core = new RaftCore({ id: 'n2', storage, random: seededRandom(1) });
    const grown = encodeConfiguration({
      servers: ['n1', 'n2', 'n3', 'n4'].map((id) => ({ id, address: `${id}:1`, suffrage: 'voter' as const })),
    });
    core.step({ type: 'app', from: 'n1', to: 'n2', term: 2, prevIndex: 1, prevTerm: 1, commit: 0, entries: [{ index: 2, term: 2, type: 'config', data: grown }] });
    assert.equal(core.configuration().index, 2);
    assert.equal(core.configuration().configuration.servers.length, 4);
    core.step({ type: 'app', from: 'n3', to: 'n2', term: 3, prevIndex: 1, prevTerm: 1, commit: 0, entries: [entry(2, 3, 'x')] });
    assert.equal(core.configuration().index, 1);
    assert.deepEqual(core.configuration().configuration.servers.map((s) => s.id), ['n1', 'n2', 'n3']);
  });

  void it('rejects a damaged configuration entry as corruption', () => {
    assert.throws(() => decodeConfiguration(bytes('{"servers": 3}'), 7), /configuration entry 7/);
  });
});
