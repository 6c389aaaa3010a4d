import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TestNetwork } from './test-network.js';

const bytes = (s: string) => new TextEncoder().encode(s);

/** n1 leads a three-server cluster at term 2. */
function led(opts: ConstructorParameters<typeof TestNetwork>[1] = {}): TestNetwork {
  const net = new TestNetwork(['n1', 'n2', 'n3'], opts);
  net.core('n1').campaign();
  net.stabilize();
  assert.deepEqual(net.leaders(), ['n1']);
  return net;
}

void describe('CheckQuorum (thesis §6.2)', () => {
  void it('a leader cut off from the majority steps down at the first check it fails', () => {
    const net = led();
    net.isolate('n1');
    net.tick('n1', 10);
    net.stabilize();
    assert.equal(net.core('n1').role, 'leader', 'the followers answered during this first timeout');
    net.tick('n1', 9);
    net.stabilize();
    assert.equal(net.core('n1').role, 'leader', 'not before the next check');
    net.tick('n1', 1);
    net.stabilize();
    assert.equal(net.core('n1').role, 'follower');
    assert.equal(net.core('n1').lead, null);
    assert.equal(net.core('n1').term, 2, 'stepping down does not change the term');
  });

  void it('a leader that hears from a majority stays, even when one follower is gone', () => {
    const net = led();
    net.crash('n3');
    for (let i = 0; i < 50; i++) net.tickAll(1);
    assert.deepEqual(net.leaders(), ['n1']);
    assert.equal(net.core('n1').term, 2);
  });

  void it('without CheckQuorum, a cut-off leader keeps believing it leads', () => {
    const net = led({ core: { checkQuorum: false } });
    net.isolate('n1');
    net.tick('n1', 50);
    net.stabilize();
    assert.equal(net.core('n1').role, 'leader');
  });
});

void describe('PreVote with CheckQuorum (thesis §9.6)', () => {
  void it('a follower that was cut off rejoins without disturbing the leader', () => {
    const net = led();
    net.isolate('n3');
    // n3 times out again and again; with pre-votes its term never moves.
    for (let i = 0; i < 100; i++) net.tickAll(1);
    assert.equal(net.core('n3').term, 2);
    assert.equal(net.core('n3').role, 'precandidate');
    net.recover();
    net.tickAll(3);
    assert.deepEqual(net.leaders(), ['n1']);
    assert.equal(net.core('n1').term, 2, 'no election happened');
    assert.equal(net.core('n3').lead, 'n1');
  });

  void it('without PreVote the same rejoin forces an election', () => {
    const net = led({ core: { preVote: false } });
    net.isolate('n3');
    for (let i = 0; i < 100; i++) net.tickAll(1);
    assert.ok(net.core('n3').term > 2);
    net.recover();
    net.tickAll(3);
    assert.ok(net.core('n1').term > 2, 'the leader saw the higher term in a reply and stepped down');
  });

  void it('servers that heard from the leader ignore a pre-vote, so nobody else steps in', () => {
    const net = led();
    // n2 misses heartbeats (one-way cut n1->n2) and starts asking; n3 still hears n1.
    net.filter = (m) => (m.from === 'n1' && m.to === 'n2' ? null : m);
    for (let i = 0; i < 30; i++) net.tickAll(1);
    const preVoteAnswers = net.sent.filter((m) => m.type === 'preVoteResp' && m.to === 'n2' && m.from === 'n3');
    assert.equal(preVoteAnswers.length, 0, 'n3 does not even answer');
    assert.deepEqual(net.leaders(), ['n1']);
    assert.equal(net.core('n1').term, 2);
  });

  void it('a pre-vote is refused to a server whose log is behind', () => {
    const net = led();
    net.isolate('n3');
    net.core('n1').propose(bytes('x'));
    net.tickAll(2);
    net.crash('n1');
    net.recover();
    // n2 has not heard from a leader for a while: it answers, but refuses.
    net.tick('n2', 10);
    net.core('n3').campaign();
    net.stabilize();
    const answer = net.sent.findLast((m) => m.type === 'preVoteResp' && m.to === 'n3' && m.from === 'n2');
    assert.equal(answer?.type === 'preVoteResp' && answer.reject, true);
    assert.equal(net.core('n3').term, 2);
    assert.notEqual(net.core('n3').role, 'leader');
  });

  void it('elects a new leader after the old one dies, one term later', () => {
    const net = led();
    net.crash('n1');
    for (let i = 0; i < 60 && net.leaders().length === 0; i++) net.tickAll(1);
    assert.equal(net.leaders().length, 1);
    assert.equal(net.core(net.leaders()[0]!).term, 3, 'pre-votes spent no terms');
  });
});

void describe('leadership transfer (thesis §3.10)', () => {
  void it('hands leadership to an up-to-date follower at once', () => {
    const net = led();
    const r = net.core('n1').transferLeadership('n2');
    assert.equal(r.ok, true);
    net.stabilize();
    assert.deepEqual(net.leaders(), ['n2']);
    assert.equal(net.core('n2').term, 3);
    assert.equal(net.core('n1').lead, 'n2');
    assert.equal(net.sent.filter((m) => m.type === 'timeoutNow').length, 1);
  });

  void it('brings a lagging transferee up to date first, refusing proposals meanwhile', () => {
    const net = led();
    net.isolate('n3');
    for (let i = 0; i < 5; i++) net.core('n1').propose(bytes(`c${i}`));
    net.stabilize();
    assert.equal(net.core('n1').transferLeadership('n3').ok, true);
    const refused = net.core('n1').propose(bytes('during'));
    assert.equal(refused.ok === false && refused.code, 'unavailable');
    net.stabilize();
    assert.equal(net.sent.filter((m) => m.type === 'timeoutNow').length, 0, 'not before n3 caught up');
    net.recover();
    net.tickAll(1);
    assert.deepEqual(net.leaders(), ['n3']);
    assert.equal(net.core('n3').log.lastIndex() >= 7, true);
  });

  void it('gives up after an election timeout and accepts proposals again', () => {
    const net = led();
    net.isolate('n3');
    net.core('n1').transferLeadership('n3');
    net.tickAll(10);
    assert.equal(net.core('n1').transferee(), null);
    assert.deepEqual(net.leaders(), ['n1']);
    assert.equal(net.core('n1').propose(bytes('after')).ok, true);
  });

  void it('a transfer wins even against followers that just heard from the leader', () => {
    const net = led();
    net.tickAll(1); // everyone is well within the leader's lease
    net.core('n1').transferLeadership('n3');
    net.stabilize();
    assert.deepEqual(net.leaders(), ['n3']);
  });

  void it('picks the most up-to-date voter when none is named, and refuses bad targets', () => {
    const net = led();
    net.isolate('n2');
    net.core('n1').propose(bytes('x'));
    net.stabilize();
    net.recover();
    const none = net.core('n1').transferLeadership('n9');
    assert.equal(none.ok === false && none.code, 'invalid_argument');
    const self = net.core('n1').transferLeadership('n1');
    assert.equal(self.ok === false && self.code, 'invalid_argument');
    assert.equal(net.core('n1').transferLeadership().ok, true);
    net.stabilize();
    assert.deepEqual(net.leaders(), ['n3']);
    const follower = net.core('n1').transferLeadership('n2');
    assert.equal(follower.ok === false && follower.code, 'not_leader');
  });
});
