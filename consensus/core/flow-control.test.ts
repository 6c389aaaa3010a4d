import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from './messages.js';
import { RaftCore } from './raft-core.js';
import { seededRandom } from './seeded-random.js';
import { bootstrappedStorage, TestNetwork } from './test-network.js';

const bytes = (n: number) => new Uint8Array(n).fill(1);
const kinds = (ms: readonly Message[]) => ms.map((m) => `${m.type}>${m.to}`);

void describe('flow control', () => {
  void it('refuses proposals beyond the uncommitted-bytes cap with a back-pressure error, and recovers', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], { core: { maxUncommittedBytes: 1000 } });
    net.core('n1').campaign();
    net.stabilize();
    net.isolate('n2');
    net.isolate('n3');
    const accepted: number[] = [];
    for (let i = 0; i < 20; i++) {
      const p = net.core('n1').propose(bytes(100));
      if (!p.ok) {
        assert.equal(p.code, 'unavailable');
        assert.equal(p.details?.['reason'], 'backpressure');
        break;
      }
      accepted.push(p.index);
    }
    assert.equal(accepted.length, 10, 'ten 100-byte proposals fit under 1000 bytes');
    assert.equal(net.core('n1').status().uncommittedBytes, 1000);
    net.recover();
    net.tickAll(2);
    assert.equal(net.core('n1').status().uncommittedBytes, 0);
    assert.equal(net.core('n1').propose(bytes(100)).ok, true);
  });

  void it('always accepts one proposal even if it alone exceeds the cap', () => {
    const net = new TestNetwork(['n1'], { core: { maxUncommittedBytes: 10 } });
    net.core('n1').campaign();
    net.stabilize();
    assert.equal(net.core('n1').propose(bytes(100)).ok, true);
    assert.equal(net.core('n1').propose(bytes(1)).ok, false);
    assert.equal(net.core('n1').proposeBarrier().ok, true, 'empty entries are never refused');
  });

  void it('keeps at most maxInflightMsgs appends unacknowledged per follower', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3'], { core: { maxInflightMsgs: 3, maxSizePerMsg: 1 } });
    net.core('n1').campaign();
    net.stabilize();
    net.filter = (m) => (m.type === 'appResp' ? null : m); // acks are lost
    const before = net.sent.length;
    for (let i = 0; i < 10; i++) {
      net.core('n1').propose(bytes(10));
      net.stabilize();
    }
    const appendsToN2 = net.sent.slice(before).filter((m) => m.type === 'app' && m.to === 'n2');
    assert.equal(appendsToN2.length, 3);
    assert.equal(net.core('n1').status().progress['n2']?.inflight, 3);
    net.recover();
    net.tickAll(3);
    assert.equal(net.core('n2').log.lastIndex(), net.core('n1').log.lastIndex(), 'the window reopens on acks');
  });

  void it('sends a burst of proposals in one append per follower', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.core('n1').campaign();
    net.stabilize();
    for (let i = 0; i < 100; i++) net.core('n1').propose(bytes(8));
    const rd = net.core('n1').ready();
    const apps = [...rd.earlyMessages, ...rd.messages].filter((m) => m.type === 'app');
    assert.deepEqual(
      apps.map((m) => (m.type === 'app' ? `${m.to}:${m.entries.length}` : '')),
      ['n2:100', 'n3:100'],
    );
  });
});

void describe('what may leave before the disk write (thesis §10.2.1)', () => {
  void it('a leader of a durable term sends its appends before persisting its own entries', () => {
    const net = new TestNetwork(['n1', 'n2', 'n3']);
    net.core('n1').campaign();
    net.stabilize();
    net.core('n1').propose(bytes(4));
    const rd = net.core('n1').ready();
    assert.deepEqual(kinds(rd.earlyMessages), ['app>n2', 'app>n3']);
    assert.deepEqual(rd.messages, []);
    assert.equal(rd.entries.length, 1);
  });

  void it('a leader whose term is not yet durable holds everything until it is', () => {
    const storage = bootstrappedStorage(['n1', 'n2']);
    const core = new RaftCore({ id: 'n1', storage, random: seededRandom(3), preVote: false });
    core.campaign();
    const rd1 = core.ready();
    assert.deepEqual(kinds(rd1.messages), ['vote>n2']);
    assert.deepEqual(rd1.earlyMessages, [], 'vote requests wait for the vote for ourselves to be durable');
    // Win before persisting rd1: the no-op append must wait too.
    core.step({ type: 'voteResp', from: 'n2', to: 'n1', term: 2, reject: false });
    storage.persist(rd1.hardState, rd1.entries);
    core.advance(rd1);
    const rd2 = core.ready();
    assert.equal(core.role, 'leader');
    assert.deepEqual(kinds(rd2.earlyMessages), ['app>n2'], 'term 2 is durable now');
  });

  void it('followers acknowledge only after persisting', () => {
    const core = new RaftCore({ id: 'n2', storage: bootstrappedStorage(['n1', 'n2']), random: seededRandom(1) });
    core.step({ type: 'app', from: 'n1', to: 'n2', term: 2, prevIndex: 1, prevTerm: 1, commit: 0, entries: [] });
    core.step({ type: 'heartbeat', from: 'n1', to: 'n2', term: 2, commit: 0, ctx: 0 });
    core.step({ type: 'vote', from: 'n1', to: 'n2', term: 3, lastLogIndex: 1, lastLogTerm: 1, transfer: true });
    const rd = core.ready();
    assert.deepEqual(rd.earlyMessages, []);
    assert.deepEqual(kinds(rd.messages), ['appResp>n1', 'heartbeatResp>n1', 'voteResp>n1']);
  });
});
