import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from './seeded-random.js';
import { TestNetwork } from './test-network.js';

/**
 * Randomized runs under message loss, partitions and crashes, checking the safety
 * properties of Figure 3 of the Raft paper after every step, then liveness once the
 * faults stop. A failure names its seed, which replays it exactly.
 */
void describe('safety under faults (Figure 3)', () => {
  const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];

  for (let seed = 1; seed <= 12; seed++) {
    void it(`seed ${seed}: one leader per term, one entry per applied index, and progress after healing`, () => {
      const rnd = seededRandom(seed * 104729);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
      const net = new TestNetwork(ids, { seed, electionTicks: 5 });
      const leaderOfTerm = new Map<number, string>();
      const appliedAt = new Map<number, string>();
      let proposals = 0;

      const check = (step: number) => {
        for (const node of net.nodes.values()) {
          const core = node.core;
          if (core?.role === 'leader') {
            const prev = leaderOfTerm.get(core.term);
            assert.ok(prev === undefined || prev === node.id, `step ${step}: two leaders in term ${core.term}: ${prev} and ${node.id}`);
            leaderOfTerm.set(core.term, node.id);
          }
          for (const e of node.applied) {
            const key = `${e.term}:${e.type}:${new TextDecoder().decode(e.data)}`;
            const seen = appliedAt.get(e.index);
            assert.ok(seen === undefined || seen === key, `step ${step}: index ${e.index} applied as ${seen} and as ${key} (${node.id})`);
            appliedAt.set(e.index, key);
          }
          const idx = node.applied.map((e) => e.index);
          assert.deepEqual(idx, idx.map((_, i) => i + 1), `${node.id} applied out of order or twice`);
        }
      };

      for (let step = 0; step < 1500; step++) {
        const r = rnd();
        const live = ids.filter((id) => net.node(id).core !== null);
        if (r < 0.45) {
          net.tick(pick(live));
        } else if (r < 0.6) {
          for (const id of live) net.tick(id);
        } else if (r < 0.75) {
          for (const l of net.leaders()) net.core(l).propose(new TextEncoder().encode(`s${seed}-${proposals++}`));
        } else if (r < 0.83) {
          // Cutting off a leader is what forces new terms while old leaders still act.
          net.isolate(rnd() < 0.5 ? pick(net.leaders().length > 0 ? net.leaders() : ids) : pick(ids));
        } else if (r < 0.9) {
          net.recover();
        } else if (r < 0.95) {
          const id = pick(ids);
          if (net.node(id).core === null) net.restart(id);
          else if (live.length > 3) net.crash(id);
        }
        const dropRate = rnd() * 0.3;
        net.filter = (m) => (rnd() < dropRate ? null : m);
        net.processReadies();
        net.deliver();
        net.processReadies();
        check(step);
      }

      // Heal everything: a leader must emerge and every server must apply the same log.
      net.recover();
      for (const id of ids) if (net.node(id).core === null) net.restart(id);
      for (let i = 0; i < 300 && net.leaders().length !== 1; i++) net.tickAll(1);
      assert.equal(net.leaders().length, 1, 'a leader after healing');
      const leader = net.leaders()[0] ?? '';
      const final = net.core(leader).propose(new TextEncoder().encode('final'));
      assert.ok(final.ok);
      net.tickAll(5);
      check(-1);
      for (const id of ids) {
        assert.equal(net.node(id).applied.at(-1)?.index, final.index, `${id} applied everything`);
      }
    });
  }
});
