import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RaftCore } from './raft-core.js';
import { seededRandom } from './seeded-random.js';
import { bootstrappedStorage, TestNetwork } from './test-network.js';

const bytes = (s: string) => new TextEncoder().encode(s);

function led(): TestNetwork {
  const net = new TestNetwork(['n1', 'n2', 'n3']);
  net.core('n1').campaign();
  net.stabilize();
  return net;
}

void describe('ReadIndex (thesis §6.4)', () => {
  void it('the leader answers with its commit index once a majority acknowledged a heartbeat', () => {
    const net = led();
    for (const c of ['a', 'b']) net.core('n1').propose(bytes(c));
    net.stabilize();
    const commit = net.core('n1').log.committed;
    assert.equal(net.core('n1').readIndex(7), true);
    // Nothing before the heartbeat round completes.
    net.processReadies();
    assert.deepEqual(net.node('n1').reads, []);
    const hb = net.sent.filter((m) => m.type === 'heartbeat' && m.from === 'n1');
    assert.ok(hb.length === 2 && hb.every((m) => m.type === 'heartbeat' && m.ctx > 0), 'a heartbeat round carrying the read');
    net.stabilize();
    assert.deepEqual(net.node('n1').reads, [{ ctx: 7, index: commit, ok: true }]);
  });

  void it('one acknowledgement besides the leader is enough in a cluster of three', () => {
    const net = led();
    net.isolate('n3');
    net.core('n1').readIndex(1);
    net.stabilize();
    assert.equal(net.node('n1').reads.length, 1);
  });

  void it('a leader cut off from the majority never confirms a read, and fails it when it steps down', () => {
    const net = led();
    net.isolate('n1');
    // The others elect a new leader and commit a write the old leader never sees.
    for (let i = 0; i < 40 && net.leaders().length < 2; i++) {
      net.tick('n2');
      net.tick('n3');
      net.stabilize();
    }
    const fresh = net.leaders().find((id) => id !== 'n1')!;
    net.core(fresh).propose(bytes('newer'));
    net.stabilize();
    net.core('n1').readIndex(5);
    net.stabilize();
    assert.deepEqual(net.node('n1').reads, [], 'a stale leader must not serve the read');
    net.tick('n1', 20); // CheckQuorum
    net.stabilize();
    assert.equal(net.core('n1').role, 'follower');
    assert.deepEqual(net.node('n1').reads, [{ ctx: 5, index: 0, ok: false }]);
  });

  void it('a new leader defers reads until its no-op commits', () => {
    const net = led();
    net.crash('n1');
    for (let i = 0; i < 60 && net.leaders().length === 0; i++) {
      net.tick('n2');
      net.tick('n3');
      // Deliver votes, but hold back the appends that would commit the no-op.
      net.filter = (m) => (m.type === 'app' || m.type === 'appResp' ? null : m);
      net.stabilize();
    }
    const leader = net.leaders()[0]!;
    net.core(leader).readIndex(3);
    net.tickAll(3);
    assert.deepEqual(net.node(leader).reads, [], 'the commit index of an earlier term is not a safe read index');
    net.recover();
    net.tickAll(2);
    const reads = net.node(leader).reads;
    assert.equal(reads.length, 1);
    assert.equal(reads[0]?.index, net.core(leader).log.committed);
    assert.equal(net.core(leader).log.term(reads[0].index), net.core(leader).term);
  });

  void it('a follower gets the read index from its leader', () => {
    const net = led();
    net.core('n1').propose(bytes('x'));
    net.stabilize();
    assert.equal(net.core('n2').readIndex(11), true);
    net.stabilize();
    assert.deepEqual(net.node('n2').reads, [{ ctx: 11, index: net.core('n1').log.committed, ok: true }]);
    const follower = new RaftCore({ id: 'n9', storage: bootstrappedStorage(['n9', 'n8']), random: seededRandom(1) });
    assert.equal(follower.readIndex(1), false, 'no leader known: refused at once');
  });

  void it('a single voter confirms at once', () => {
    const net = new TestNetwork(['n1']);
    net.core('n1').campaign();
    net.stabilize();
    net.core('n1').readIndex(2);
    net.processReadies();
    assert.deepEqual(net.node('n1').reads, [{ ctx: 2, index: 2, ok: true }]);
  });

  void it('confirms a burst of reads with one heartbeat round', () => {
    const net = led();
    for (let i = 1; i <= 50; i++) net.core('n1').readIndex(i);
    const before = net.sent.length;
    net.stabilize();
    assert.equal(net.node('n1').reads.length, 50);
    assert.equal(net.sent.slice(before).filter((m) => m.type === 'heartbeat').length, 2);
  });
});
