/** 9. Restart all servers at once: jobs, nodes and allocations are intact and scheduling resumes. */
import assert from 'node:assert/strict';
import type { AllocListStub } from '../../structs/alloc.js';
import type { Scenario } from '../scenario.js';
import { runJob, waitRunning } from '../scenario.js';
import { dockerSleeper } from '../jobs.js';
import { docker } from '../docker.js';
import { waitUntil } from '../wait.js';

export const restartServers: Scenario = {
  id: 9,
  title: 'restart all servers at once: state intact, scheduling resumes',
  async run(ctx) {
    const { cluster } = ctx;
    const jobId = 'e2e-9-svc';
    await runJob(ctx, { id: jobId, type: 'service', count: 2, task: dockerSleeper(ctx.images.task) });
    await waitRunning(ctx, jobId, 2);
    const jobs = (await cluster.api.jobs()).map((j) => `${j.ID}:${j.JobModifyIndex}`).sort();
    const nodes = (await cluster.api.nodes()).filter((n) => n.Status === 'ready').map((n) => n.ID).sort();
    // Terminal allocations of earlier scenarios may be garbage collected meanwhile: compare the
    // ones the scheduler wants running.
    const wanted = async (): Promise<AllocListStub[]> => (await cluster.api.get<AllocListStub[]>('/v1/allocations')).filter((a) => a.DesiredStatus === 'run');
    const allocs = await wanted();
    const running = allocs.filter((a) => a.ClientStatus === 'running').map((a) => a.ID).sort();

    const servers = cluster.servers();
    ctx.log(`restarting ${servers.map((s) => s.name).join(', ')} together`);
    await Promise.all(servers.map((s) => docker(['restart', '-t', '10', s.container], { timeoutMs: 90_000 })));
    await cluster.waitForLeader(servers.map((s) => s.name), 90_000);

    assert.deepEqual((await cluster.api.jobs()).map((j) => `${j.ID}:${j.JobModifyIndex}`).sort(), jobs, 'the same jobs, unmodified');
    await waitUntil(
      'every node that was ready to be ready again',
      async () => {
        const now = (await cluster.api.nodes()).filter((n) => n.Status === 'ready').map((n) => n.ID);
        return nodes.every((id) => now.includes(id));
      },
      { timeoutMs: 60_000 },
      async () => JSON.stringify((await cluster.api.nodes()).map((n) => `${n.Name}:${n.Status}`)),
    );
    const after = await wanted();
    assert.deepEqual(after.map((a) => a.ID).sort(), allocs.map((a) => a.ID).sort(), 'the same allocations exist, no more, no fewer');
    const stillRunning = after.filter((a) => a.ClientStatus === 'running').map((a) => a.ID).sort();
    assert.deepEqual(stillRunning, running, 'every allocation that ran before the restart still runs');

    const next = 'e2e-9-after';
    await runJob(ctx, { id: next, type: 'service', count: 1, task: dockerSleeper(ctx.images.task) });
    await waitRunning(ctx, next, 1);
    ctx.log(`${jobs.length} jobs, ${nodes.length} nodes, ${running.length} running allocations intact; a new job placed`);
  },
};
