/**
 * Fuzzing the Raft core with fast-check (fixed seeds, bounded runs): a real three-server
 * cluster of cores (TestNetwork) runs while an adversary interferes, and after every step
 * the safety properties of Figure 3 of the Raft paper are checked.
 *
 * What the adversary may do follows Raft's fault model (crash faults, an unreliable
 * network; not lying servers):
 * - drop, duplicate, reorder and delay genuine messages, so they arrive with stale terms
 *   and old indexes (replays of anything ever sent);
 * - forge messages from servers outside the configuration (one never in it, one removed):
 *   any type with any term, except leader messages (append, heartbeat, snapshot) with a
 *   current or future term, which Raft must believe (a new server learns of the leader
 *   that way; mutual TLS with server roles, agent/tls, is what keeps strangers out).
 * Safety must hold throughout, vote requests from outsiders must change nothing, and once
 * the interference stops the cluster must elect a leader and commit again.
 *
 * A second suite lets a member send anything well-formed (out-of-range indexes, future
 * terms, made-up entries): Raft cannot stay safe against that, but the core must not
 * throw, and its commit index must stay within its log.
 *
 * Every message goes through checkMessage first, as the transport does.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Entry, Message } from './messages.js';
import { checkMessage } from './message-guard.js';
import type { RaftCore } from './raft-core.js';
import { TestNetwork } from './test-network.js';

const SEED = 20261122;
const members = ['n1', 'n2', 'n3'];
const removed = 'n4';
const stranger = 'n9';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const messageTypes = ['vote', 'voteResp', 'preVote', 'preVoteResp', 'app', 'appResp', 'heartbeat', 'heartbeatResp', 'snap', 'timeoutNow', 'readIndex', 'readIndexResp'] as const;
type MessageType = (typeof messageTypes)[number];
const leaderTypes: ReadonlySet<MessageType> = new Set(['app', 'heartbeat', 'snap']);

/** The numbers a forged message is made of: an index near the target's log or far out. */
interface Numbers {
  termDelta: number;
  a: number;
  b: number;
  c: number;
  entries: number;
  flag: boolean;
  pick: number;
}

const near = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(1_000, 2 ** 31, Number.MAX_SAFE_INTEGER - 1));
const numbersArb: fc.Arbitrary<Numbers> = fc.record({
  termDelta: fc.integer({ min: -3, max: 4 }),
  a: near,
  b: near,
  c: near,
  entries: fc.nat({ max: 3 }),
  flag: fc.boolean(),
  pick: fc.nat(),
});

/** A well-formed message of `type` from `from` to `to`, its numbers taken from `n` relative
 *  to the target's state (an index of "+2" means two past its last index). */
function forge(type: MessageType, from: string, to: string, term: number, n: Numbers, target: RaftCore): Message {
  const st = target.status();
  const idx = (d: number): number => Math.max(0, d >= 1_000 ? d : st.lastIndex + d);
  const trm = (d: number): number => Math.max(0, d >= 1_000 ? d : st.lastTerm + d);
  const env = { from, to, term };
  switch (type) {
    case 'vote':
      return { ...env, type, lastLogIndex: idx(n.a), lastLogTerm: trm(n.b), transfer: n.flag };
    case 'voteResp':
      return { ...env, type, reject: n.flag };
    case 'preVote':
      return { ...env, type, lastLogIndex: idx(n.a), lastLogTerm: trm(n.b) };
    case 'preVoteResp':
      return { ...env, type, reject: n.flag };
    case 'app': {
      const prevIndex = idx(n.a);
      const entries: Entry[] = Array.from({ length: n.entries }, (_, i) => ({
        index: prevIndex + 1 + i,
        term: Math.min(term, Math.max(0, trm(n.b))),
        type: 'normal' as const,
        data: encoder.encode(`forged-${from}-${n.pick}-${i}`),
      }));
      return { ...env, type, prevIndex, prevTerm: trm(n.b), entries, commit: idx(n.c) };
    }
    case 'appResp':
      return { ...env, type, reject: n.flag, index: idx(n.a), rejectHint: idx(n.b), hintTerm: trm(n.c) };
    case 'heartbeat':
      return { ...env, type, commit: idx(n.a), ctx: Math.max(0, n.b) };
    case 'heartbeatResp':
      return { ...env, type, ctx: Math.max(0, n.a) };
    case 'snap': {
      const index = idx(n.a);
      const servers = [...members, from].map((id) => ({ id, address: `${id}.test:4647`, suffrage: 'voter' as const }));
      return { ...env, type, snapshot: { index, term: trm(n.b), configIndex: Math.min(index, 1), configuration: { servers } }, data: encoder.encode('[]') };
    }
    case 'timeoutNow':
      return { ...env, type };
    case 'readIndex':
      return { ...env, type, ctx: Math.max(0, n.a) };
    case 'readIndexResp':
      return { ...env, type, ctx: Math.max(0, n.a), index: idx(n.b), reject: n.flag };
  }
}

type Action =
  | { k: 'tick'; node: number }
  | { k: 'tickAll' }
  | { k: 'propose' }
  | { k: 'deliver'; dropPercent: number }
  | { k: 'replay'; pick: number }
  | { k: 'isolate'; node: number }
  | { k: 'recover' }
  | { k: 'forge'; type: MessageType; sender: number; node: number; n: Numbers };

const actionArb = (senders: number): fc.Arbitrary<Action> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ k: fc.constant('tick' as const), node: fc.nat({ max: 2 }) }) },
    { weight: 2, arbitrary: fc.constant({ k: 'tickAll' as const }) },
    { weight: 3, arbitrary: fc.constant({ k: 'propose' as const }) },
    { weight: 8, arbitrary: fc.record({ k: fc.constant('deliver' as const), dropPercent: fc.nat({ max: 40 }) }) },
    { weight: 5, arbitrary: fc.record({ k: fc.constant('replay' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('isolate' as const), node: fc.nat({ max: 2 }) }) },
    { weight: 1, arbitrary: fc.constant({ k: 'recover' as const }) },
    { weight: 6, arbitrary: fc.record({ k: fc.constant('forge' as const), type: fc.constantFrom(...messageTypes), sender: fc.nat({ max: senders - 1 }), node: fc.nat({ max: 2 }), n: numbersArb }) },
  );

/** Figure 3's properties, checked after every step against what has been seen so far. */
class SafetyCheck {
  private readonly leaderOfTerm = new Map<number, string>();
  private readonly appliedAt = new Map<number, string>();
  private readonly lastTerm = new Map<string, number>();

  check(net: TestNetwork, step: string): void {
    for (const node of net.nodes.values()) {
      const core = node.core;
      if (core === null) continue;
      const st = core.status();
      if (st.role === 'leader') {
        const prev = this.leaderOfTerm.get(st.term);
        assert.ok(prev === undefined || prev === node.id, `${step}: two leaders in term ${st.term}: ${prev} and ${node.id}`);
        this.leaderOfTerm.set(st.term, node.id);
      }
      assert.ok(st.term >= (this.lastTerm.get(node.id) ?? 0), `${step}: ${node.id}'s term went back from ${this.lastTerm.get(node.id)} to ${st.term}`);
      this.lastTerm.set(node.id, st.term);
      assert.ok(st.commit <= st.lastIndex, `${step}: ${node.id} committed ${st.commit} past its last index ${st.lastIndex}`);
      assert.ok(st.applied <= st.commit, `${step}: ${node.id} applied ${st.applied} past its commit ${st.commit}`);
      node.applied.forEach((e, i) => {
        assert.equal(e.index, i + 1, `${step}: ${node.id} applied out of order`);
        const key = `${e.term}:${e.type}:${decoder.decode(e.data)}`;
        const seen = this.appliedAt.get(e.index);
        assert.ok(seen === undefined || seen === key, `${step}: index ${e.index} applied as ${seen} and as ${key} (${node.id})`);
        this.appliedAt.set(e.index, key);
      });
    }
  }
}

/** A running cluster with a leader; `n4` was a member and has been removed. */
function startCluster(seed: number): TestNetwork {
  const net = new TestNetwork([...members, removed], { seed, electionTicks: 5 });
  for (let i = 0; i < 200 && net.leaders().length !== 1; i++) net.tickAll(1);
  const leader = net.leaders()[0];
  assert.ok(leader !== undefined, 'a leader is elected');
  if (leader === removed) {
    net.core(leader).transferLeadership();
    net.tickAll(10);
  }
  const l = net.leaders()[0] ?? '';
  net.change(l, { type: 'remove', id: removed });
  net.tickAll(5);
  net.crash(removed);
  for (let i = 0; i < 200 && (net.leaders().length !== 1 || net.leaders()[0] === removed); i++) net.tickAll(1);
  return net;
}

function deliverChecked(target: RaftCore, m: Message): void {
  const checked = checkMessage(structuredClone(m));
  if (checked.ok) target.step(checked.message);
}

/** Runs one schedule; `forgeFrom` picks who forged messages claim to come from. */
function run(seed: number, actions: readonly Action[], forgeFrom: readonly string[], outsidersOnly: boolean): TestNetwork {
  const net = startCluster(seed);
  const safety = new SafetyCheck();
  let proposals = 0;
  let dropRng = seed;
  safety.check(net, 'start');
  actions.forEach((a, i) => {
    const step = `step ${i} ${JSON.stringify(a)}`;
    const live = members.filter((id) => net.node(id).core !== null);
    switch (a.k) {
      case 'tick':
        net.tick(members[a.node] ?? 'n1');
        break;
      case 'tickAll':
        for (const id of live) net.tick(id);
        break;
      case 'propose':
        for (const l of net.leaders()) net.core(l).propose(encoder.encode(`p${proposals++}`));
        break;
      case 'deliver':
        net.filter = (m) => {
          dropRng = (dropRng * 1103515245 + 12345) % 2 ** 31;
          return dropRng % 100 < a.dropPercent ? null : m;
        };
        net.processReadies();
        net.deliver();
        net.filter = null;
        break;
      case 'replay': {
        // Anything ever sent, again, now: a duplicate, out of order, possibly from an old term.
        const m = net.sent[a.pick % Math.max(1, net.sent.length)];
        const target = m === undefined ? null : net.nodes.get(m.to)?.core;
        if (m !== undefined && target != null) deliverChecked(target, m);
        break;
      }
      case 'isolate':
        net.isolate(members[a.node] ?? 'n1');
        break;
      case 'recover':
        net.recover();
        break;
      case 'forge': {
        const to = members[a.node] ?? 'n1';
        const target = net.node(to).core;
        if (target === null) break;
        const from = forgeFrom[a.sender % forgeFrom.length] ?? stranger;
        const current = target.status().term;
        let term = Math.max(0, current + a.n.termDelta);
        // Outsiders may claim leadership only for a term already over (see the top comment).
        if (outsidersOnly && leaderTypes.has(a.type) && term >= current) term = current - 1 - Math.abs(a.n.termDelta);
        if (term < 0) break;
        const before = target.status();
        deliverChecked(target, forge(a.type, from, to, term, a.n, target));
        if (outsidersOnly && (a.type === 'vote' || a.type === 'preVote')) {
          const after = target.status();
          assert.equal(after.term, before.term, `${step}: a vote request from ${from}, outside the configuration, changed ${to}'s term`);
          assert.equal(after.vote, before.vote, `${step}: a vote request from ${from} changed ${to}'s vote`);
        }
        break;
      }
    }
    net.processReadies();
    safety.check(net, step);
  });
  return net;
}

void test('Raft core: replayed, reordered and dropped messages and forgeries from outsiders keep Figure 3 safe', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.array(actionArb(2), { minLength: 20, maxLength: 160 }), (seed, actions) => {
      const net = run(seed, actions, [stranger, removed], true);
      // The interference stops: the three servers must agree on a leader and commit again.
      // (Forgeries with future terms may have pushed a follower ahead; it takes an election
      // or two to settle, which is liveness, not safety.)
      net.recover();
      const agreed = (): string | undefined => {
        const [l, ...more] = net.leaders();
        if (l === undefined || more.length > 0) return undefined;
        const term = net.core(l).status().term;
        return members.every((id) => net.core(id).status().term === term && net.core(id).status().leaderId === l) ? l : undefined;
      };
      let committed = false;
      for (let attempt = 0; attempt < 5 && !committed; attempt++) {
        for (let i = 0; i < 300 && agreed() === undefined; i++) net.tickAll(1);
        const leader = agreed();
        assert.ok(leader !== undefined && members.includes(leader), `the members agree on a leader after healing (attempt ${attempt})`);
        const final = net.core(leader).propose(encoder.encode(`final-${attempt}`));
        assert.ok(final.ok, 'the healed leader takes a proposal');
        net.tickAll(8);
        committed = members.every((id) => net.node(id).applied.some((e) => decoder.decode(e.data) === `final-${attempt}`));
      }
      assert.ok(committed, 'after healing, a proposal reaches every member');
      new SafetyCheck().check(net, 'after healing');
    }),
    { seed: SEED, numRuns: 120 },
  );
});

void test('Raft core: any well-formed message from a member, however wrong, never throws or commits past the log', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.array(actionArb(3), { minLength: 10, maxLength: 100 }), (seed, actions) => {
      const net = startCluster(seed);
      // Only the checks that hold against a lying member: terms never go back, commit and
      // applied stay within the log, and nothing throws (the shell would crash).
      const lastTerm = new Map<string, number>();
      for (const [i, a] of actions.entries()) {
        if (a.k !== 'forge') {
          if (a.k === 'tick') net.tick(members[a.node] ?? 'n1');
          else if (a.k === 'propose') for (const l of net.leaders()) net.core(l).propose(encoder.encode(`p${i}`));
          else {
            net.processReadies();
            net.deliver();
          }
        } else {
          const to = members[a.node] ?? 'n1';
          const from = members[(a.node + 1 + (a.sender % 2)) % 3] ?? 'n2';
          const target = net.core(to);
          const term = Math.max(0, target.status().term + a.n.termDelta);
          deliverChecked(target, forge(a.type, from, to, term, a.n, target));
        }
        net.processReadies();
        for (const id of members) {
          const st = net.core(id).status();
          assert.ok(st.term >= (lastTerm.get(id) ?? 0), `step ${i}: ${id}'s term went back`);
          lastTerm.set(id, st.term);
          assert.ok(st.commit <= st.lastIndex, `step ${i} ${JSON.stringify(a)}: ${id} committed ${st.commit} past its last index ${st.lastIndex}`);
          assert.ok(st.applied <= st.commit, `step ${i}: ${id} applied past its commit`);
        }
      }
    }),
    { seed: SEED, numRuns: 150 },
  );
});
