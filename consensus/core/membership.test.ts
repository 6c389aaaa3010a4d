import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyConfigChange } from './configuration.js';
import type { Configuration } from './configuration.js';
import { describeEntries, TestNetwork } from './test-network.js';
import { YurtError } from '../../structs/errors.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const members = (net: TestNetwork, id: string) =>
  net.core(id).configuration().configuration.servers.map((s) => `${s.id}${s.suffrage === 'voter' ? '' : '(nonvoter)'}`);

/** n1 leads n1..n3; n4 (and n5) start empty, outside the configuration. */
function led(spares = ['n4']): TestNetwork {
  const net = new TestNetwork(['n1', 'n2', 'n3'], { spares });
  net.core('n1').campaign();
  net.stabilize();
  return net;
}

void describe('configuration changes (pure)', () => {
  const base: Configuration = {
    servers: [
      { id: 'a', address: 'a:1', suffrage: 'voter' },
      { id: 'b', address: 'b:1', suffrage: 'nonvoter' },
    ],
  };
  const code = (r: ReturnType<typeof applyConfigChange>) => (r instanceof YurtError ? r.code : r === null ? 'unchanged' : 'changed');

  void it('adds, promotes and removes one server at a time', () => {
    assert.equal(code(applyConfigChange(base, { type: 'addNonVoter', id: 'c', address: 'c:1' })), 'changed');
    assert.equal(code(applyConfigChange(base, { type: 'addNonVoter', id: 'b', address: 'b:1' })), 'unchanged');
    assert.equal(code(applyConfigChange(base, { type: 'addNonVoter', id: 'a', address: 'a:1' })), 'unchanged', 'never demotes');
    assert.equal(code(applyConfigChange(base, { type: 'addVoter', id: 'a', address: 'a:1' })), 'unchanged');
    const promoted = applyConfigChange(base, { type: 'addVoter', id: 'b', address: 'b:1' });
    assert.deepEqual(promoted, { servers: [base.servers[0], { id: 'b', address: 'b:1', suffrage: 'voter' }] });
    assert.equal(code(applyConfigChange(base, { type: 'promote', id: 'b' })), 'changed');
    assert.equal(code(applyConfigChange(base, { type: 'promote', id: 'a' })), 'unchanged');
    assert.equal(code(applyConfigChange(base, { type: 'remove', id: 'b' })), 'changed');
  });

  void it('says why a change is impossible', () => {
    assert.equal(code(applyConfigChange(base, { type: 'promote', id: 'z' })), 'not_found');
    assert.equal(code(applyConfigChange(base, { type: 'remove', id: 'z' })), 'not_found');
    assert.equal(code(applyConfigChange(base, { type: 'remove', id: 'a' })), 'invalid_argument', 'the last voter stays');
    assert.equal(code(applyConfigChange(base, { type: 'addVoter', id: 'c', address: 'a:1' })), 'conflict', 'address taken');
    assert.equal(code(applyConfigChange(base, { type: 'addVoter', id: '', address: 'x:1' })), 'invalid_argument');
    assert.equal(code(applyConfigChange(base, { type: 'addVoter', id: 'c', address: '' })), 'invalid_argument');
  });
});

void describe('membership changes in a cluster (thesis §4)', () => {
  void it('a non-voter replicates but neither counts toward commit nor campaigns', () => {
    const net = led();
    net.change('n1', { type: 'addNonVoter', id: 'n4', address: 'n4.test:4647' });
    net.tickAll(3);
    assert.deepEqual(members(net, 'n4'), ['n1', 'n2', 'n3', 'n4(nonvoter)']);
    assert.deepEqual(describeEntries(net.node('n4').applied), describeEntries(net.node('n1').applied));
    // With n2 and n3 gone, n1 + n4 are not a majority of the voters {n1, n2, n3}.
    net.isolate('n2');
    net.isolate('n3');
    const p = net.core('n1').propose(bytes('x'));
    assert.ok(p.ok);
    net.tickAll(3);
    assert.equal(net.core('n4').log.lastIndex(), p.index, 'replicated to the non-voter');
    assert.ok(net.core('n1').log.committed < p.index, 'but not committed by it');
    net.crash('n1');
    for (let i = 0; i < 100; i++) net.tickAll(1);
    assert.equal(net.core('n4').role, 'follower', 'a non-voter never campaigns');
  });

  void it('a non-voter catches up and is promoted; then it counts', () => {
    const net = led();
    for (let i = 0; i < 20; i++) net.core('n1').propose(bytes(`c${i}`));
    net.stabilize();
    net.change('n1', { type: 'addNonVoter', id: 'n4', address: 'n4.test:4647' });
    net.tickAll(3);
    assert.equal(net.core('n1').status().progress['n4']?.match, net.core('n1').log.lastIndex());
    net.change('n1', { type: 'promote', id: 'n4' });
    net.tickAll(2);
    assert.deepEqual(members(net, 'n2'), ['n1', 'n2', 'n3', 'n4']);
    // Four voters: a majority is three. n1 + n4 + n2 commit without n3.
    net.isolate('n3');
    const p = net.core('n1').propose(bytes('with-n4'));
    net.tickAll(2);
    assert.ok(p.ok && net.core('n1').log.committed >= p.index);
    net.isolate('n2');
    const q = net.core('n1').propose(bytes('without-majority'));
    net.tickAll(2);
    assert.ok(q.ok && net.core('n1').log.committed < q.index, 'n1 + n4 are two of four: no majority');
  });

  void it('a new server far behind a compacted log joins through a snapshot', () => {
    const net = led();
    for (let i = 0; i < 20; i++) net.core('n1').propose(bytes(`c${i}`));
    net.tickAll(2);
    net.snapshot('n1');
    net.change('n1', { type: 'addNonVoter', id: 'n4', address: 'n4.test:4647' });
    net.tickAll(4);
    assert.equal(net.sent.filter((m) => m.type === 'snap' && m.to === 'n4').length, 1);
    assert.deepEqual(describeEntries(net.node('n4').applied), describeEntries(net.node('n1').applied));
  });

  void it('allows one uncommitted change at a time, and none before the leader commits in its term', () => {
    const net = led(['n4', 'n5']);
    net.isolate('n2');
    net.isolate('n3');
    net.change('n1', { type: 'addNonVoter', id: 'n4', address: 'n4.test:4647' });
    const second = net.core('n1').proposeConfigChange({ type: 'addNonVoter', id: 'n5', address: 'n5.test:4647' });
    assert.equal(second.ok === false && second.code, 'conflict');
    net.recover();
    net.tickAll(2);
    assert.equal(net.core('n1').proposeConfigChange({ type: 'addNonVoter', id: 'n5', address: 'n5.test:4647' }).ok, true);

    // A fresh leader whose no-op has not committed may not change the configuration yet.
    net.tickAll(2);
    net.core('n1').transferLeadership('n2');
    net.filter = (m) => (m.type === 'appResp' ? null : m);
    net.stabilize();
    assert.deepEqual(net.leaders(), ['n2']);
    const early = net.core('n2').proposeConfigChange({ type: 'promote', id: 'n4' });
    assert.equal(early.ok === false && early.code, 'unavailable');
  });

  void it('an already applied change succeeds without a new entry', () => {
    const net = led();
    const index = net.change('n1', { type: 'addNonVoter', id: 'n4', address: 'n4.test:4647' });
    net.tickAll(2);
    const again = net.core('n1').proposeConfigChange({ type: 'addNonVoter', id: 'n4', address: 'n4.test:4647' });
    assert.deepEqual(again, { ok: true, index, term: 2, unchanged: true });
  });

  void it('a removed follower is no longer replicated to, and its campaigns are ignored', () => {
    const net = led();
    net.isolate('n3');
    net.change('n1', { type: 'remove', id: 'n3' });
    net.tickAll(2);
    assert.deepEqual(members(net, 'n2'), ['n1', 'n2']);
    const mark = net.sent.length;
    net.recover();
    // n3 never learnt of its removal and keeps campaigning.
    net.core('n3').campaign();
    for (let i = 0; i < 50; i++) net.tickAll(1);
    assert.deepEqual(net.leaders(), ['n1']);
    assert.equal(net.core('n1').term, 2, 'no term was disturbed');
    const later = net.sent.slice(mark);
    assert.ok(later.some((m) => m.from === 'n3' && m.type === 'preVote'), 'n3 did ask');
    assert.deepEqual(later.filter((m) => m.to === 'n3'), [], 'nobody answers or replicates to it');
  });

  void it('a removed leader commits its removal, steps down and hands over at once', () => {
    const net = led();
    net.change('n1', { type: 'remove', id: 'n1' });
    net.stabilize();
    assert.equal(net.core('n1').role, 'follower');
    assert.equal(net.core('n1').promotable(), false);
    assert.equal(net.sent.filter((m) => m.type === 'timeoutNow').length, 1);
    assert.equal(net.leaders().length, 1, 'a successor took over without an election timeout');
    const successor = net.leaders()[0]!;
    assert.deepEqual(members(net, successor), ['n2', 'n3']);
    const p = net.core(successor).propose(bytes('after'));
    net.tickAll(2);
    assert.ok(p.ok && net.core(successor).log.committed >= p.index);
  });
});
