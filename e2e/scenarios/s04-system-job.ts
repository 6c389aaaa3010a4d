/** 4. A system job lands on every client; a client that joins later gets it too. */
import assert from 'node:assert/strict';
import type { Scenario } from '../scenario.js';
import { countBy, describeJob, runJob, waitRunning } from '../scenario.js';
import { execSleeper } from '../jobs.js';
import { isLive } from '../http-api.js';
import { waitUntil } from '../wait.js';

export const systemJob: Scenario = {
  id: 4,
  title: 'system job on every client, also on a client that joins later',
  async run(ctx) {
    const jobId = 'e2e-4-system';
    const clients = ctx.cluster.clients({ baseOnly: true }).map((c) => c.name);
    await runJob(ctx, { id: jobId, type: 'system', task: execSleeper('system-task') });
    const first = await waitRunning(ctx, jobId, clients.length);
    const perNode = countBy(first, (a) => a.NodeName);
    for (const c of clients) assert.equal(perNode.get(c), 1, `exactly one allocation on ${c}, got ${JSON.stringify(Object.fromEntries(perNode))}`);

    ctx.log('a new client joins');
    const late = 'client-late';
    ctx.defer(`remove ${late}`, () => ctx.cluster.removeNode(late));
    await ctx.cluster.addClient(late, { meta: { rack: 'late' } });
    const after = await waitUntil(
      `${jobId} to be placed on ${late}`,
      async () => {
        const live = (await ctx.cluster.api.jobAllocs(jobId)).filter(isLive);
        const onLate = live.filter((a) => a.NodeName === late);
        return onLate.length === 1 && onLate[0]!.ClientStatus === 'running' ? live : undefined;
      },
      { timeoutMs: 60_000 },
      () => describeJob(ctx, jobId),
    );
    const perNodeAfter = countBy(after, (a) => a.NodeName);
    for (const c of [...clients, late]) assert.equal(perNodeAfter.get(c), 1, `one allocation per client after the join, got ${JSON.stringify(Object.fromEntries(perNodeAfter))}`);
    // The allocations that were there stay: a join does not reshuffle the system job.
    for (const a of first) assert.ok(after.some((b) => b.ID === a.ID), `allocation ${a.ID} on ${a.NodeName} kept running through the join`);
    ctx.log(`one allocation on each of ${[...clients, late].join(', ')}`);
  },
};
