/**
 * 8. Stop a client container: after the heartbeat TTL its node is down and its allocations are
 * replaced on the other clients, exactly once.
 */
import assert from 'node:assert/strict';
import type { Scenario } from '../scenario.js';
import { countBy, describeJob, runJob, waitRunning } from '../scenario.js';
import { dockerSleeper } from '../jobs.js';
import { isLive } from '../http-api.js';
import { sleep, waitUntil } from '../wait.js';

const COUNT = 4;

export const clientLost: Scenario = {
  id: 8,
  title: 'stop a client: node down, allocations replaced exactly once',
  async run(ctx) {
    const { cluster } = ctx;
    const jobId = 'e2e-8-svc';
    await runJob(ctx, { id: jobId, type: 'service', count: COUNT, task: dockerSleeper(ctx.images.task) });
    const before = await waitRunning(ctx, jobId, COUNT);
    const perNode = countBy(before, (a) => a.NodeName);
    const victim = [...perNode].sort((a, b) => b[1] - a[1])[0]![0];
    const lostIds = before.filter((a) => a.NodeName === victim).map((a) => a.ID);
    const victimId = await cluster.nodeId(victim);

    ctx.log(`docker stop ${victim} (${lostIds.length} of ${COUNT} allocations on it)`);
    ctx.defer(`start ${victim} again`, async () => {
      await cluster.startAgain(victim);
      await cluster.waitForNodeReady(victim, 90_000);
    });
    const stoppedAt = Date.now();
    await cluster.stop(victim);
    ctx.log(`container stopped after ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s`);
    await waitUntil(
      `${victim}'s node to be down`,
      async () => (await cluster.api.node(victimId)).Status === 'down',
      { timeoutMs: 120_000 },
      async () => `status ${(await cluster.api.node(victimId)).Status}`,
    );
    ctx.log(`node down ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s after the stop began`);

    const replaced = await waitUntil(
      `${COUNT} running allocations of ${jobId}, none on ${victim}`,
      async () => {
        const live = (await cluster.api.jobAllocs(jobId)).filter(isLive);
        return live.length === COUNT && live.every((a) => a.ClientStatus === 'running' && a.NodeName !== victim) ? live : undefined;
      },
      { timeoutMs: 90_000 },
      () => describeJob(ctx, jobId),
    );
    // Exactly once: give the scheduler time to (wrongly) place more, then count.
    await sleep(8_000);
    const all = await cluster.api.jobAllocs(jobId);
    assert.equal(all.length, COUNT + lostIds.length, `${COUNT} original + ${lostIds.length} replacements, no more: ${describeAllocs(all)}`);
    const live = all.filter(isLive);
    assert.deepEqual(live.map((a) => a.ID).sort(), replaced.map((a) => a.ID).sort(), 'the set of running allocations stayed the same');
    for (const id of lostIds) {
      const a = await cluster.api.alloc(id);
      assert.equal(a.ClientStatus, 'lost', `allocation ${id} on the stopped client is lost (got ${a.ClientStatus})`);
      const successors = await Promise.all(live.map((x) => cluster.api.alloc(x.ID)));
      const next = successors.filter((x) => x.PreviousAllocation === id);
      assert.equal(next.length, 1, `allocation ${id} has exactly one replacement, got ${next.length}`);
    }
    ctx.log(`${lostIds.length} lost allocation(s) replaced once each on ${[...new Set(replaced.map((a) => a.NodeName))].join(', ')}`);
  },
};

function describeAllocs(allocs: ReadonlyArray<{ ID: string; NodeName: string; ClientStatus: string; DesiredStatus: string }>): string {
  return allocs.map((a) => `${a.ID.slice(0, 8)}@${a.NodeName}:${a.DesiredStatus}/${a.ClientStatus}`).join(', ');
}
