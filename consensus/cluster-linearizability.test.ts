/**
 * Linearizability of a real three-process cluster under a nemesis (kill -9 of the leader,
 * SIGSTOP, partitions and lossy links through the fault layer). Default run: 8 s.
 *
 *   RAFT_LIN_MS=120000 npm test -- consensus/cluster-linearizability    a longer run
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runNemesisWorkload } from './testing/nemesis-workload.js';
import { ProcessCluster } from './testing/process-cluster.js';

const durationMs = Number(process.env['RAFT_LIN_MS'] ?? 8000);

void describe('linearizability under faults (three processes)', { timeout: durationMs + 120_000 }, () => {
  void it(`stays linearizable and loses no acknowledged write over ${durationMs / 1000} s of faults`, async () => {
    const cluster = await ProcessCluster.start();
    try {
      const r = await runNemesisWorkload(cluster, { durationMs, seed: Date.now() % 100_000 });
      const summary = `${r.acknowledgedWrites} acknowledged writes, ${r.indeterminateWrites} indeterminate, ${r.reads} reads; nemesis: ${r.nemesis.join('; ')}`;
      assert.ok(r.check.ok, `not linearizable: ${r.check.explanation}\n${summary}`);
      assert.deepEqual(r.lostWrites, [], summary);
      assert.ok(r.nemesis.some((n) => n.includes('kill -9')), 'the leader was killed at least once');
      assert.ok(r.acknowledgedWrites > 50 && r.reads > 50, summary);
    } finally {
      await cluster.close();
    }
  });
});
