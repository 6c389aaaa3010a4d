/**
 * 7. Partition the leader from the others (its container leaves the network): the majority elects
 * a leader and keeps scheduling, the isolated server steps down; after healing there is one
 * leader and no acknowledged job is missing on any server.
 */
import assert from 'node:assert/strict';
import type { JobListStub } from '../../structs/job.js';
import type { Scenario } from '../scenario.js';
import { runJob, waitRunning } from '../scenario.js';
import { dockerSleeper } from '../jobs.js';
import { waitUntil } from '../wait.js';

export const partitionLeader: Scenario = {
  id: 7,
  title: 'partition the leader: majority leads, isolated steps down, heal',
  minServers: 3,
  async run(ctx) {
    const { cluster } = ctx;
    const all = cluster.servers().map((s) => s.name);
    const leader = await cluster.waitForLeader(all, 30_000);
    const acknowledged = ['e2e-7-before'];
    await runJob(ctx, { id: 'e2e-7-before', type: 'service', count: 1, task: dockerSleeper(ctx.images.task) });
    await waitRunning(ctx, 'e2e-7-before', 1);

    ctx.log(`disconnect ${leader} (the leader) from the network`);
    await cluster.disconnect(leader);
    const majority = all.filter((s) => s !== leader);
    const next = await cluster.waitForLeader(majority, 30_000);
    ctx.log(`the majority elected ${next}`);
    await waitUntil(`the isolated ${leader} to step down`, async () => !(await cluster.isLeader(leader)), { timeoutMs: 30_000 }, () => cluster.describeServers([leader]));
    ctx.log(`${leader} stepped down`);

    // One allocation on every client: the clients that were talking to the isolated server
    // must have moved to the majority for theirs to run.
    const clients = cluster.clients({ baseOnly: true }).length;
    await runJob(
      ctx,
      { id: 'e2e-7-during', type: 'service', count: clients, group: 'constraint {\n  operator = "distinct_hosts"\n  value    = "true"\n}', task: dockerSleeper(ctx.images.task) },
      { server: next },
    );
    acknowledged.push('e2e-7-during');
    await waitRunning(ctx, 'e2e-7-during', clients);
    ctx.log(`the majority schedules a new job on all ${clients} clients`);

    ctx.log(`reconnect ${leader}`);
    await cluster.reconnect(leader);
    const final = await cluster.waitForLeader(all, 60_000);
    const leaders = await cluster.leaders(all);
    assert.deepEqual(leaders, [final], `exactly one leader after healing, got ${JSON.stringify(leaders)}`);
    for (const s of all) {
      await waitUntil(
        `${s} to hold every acknowledged job (${acknowledged.join(', ')})`,
        async () => {
          const jobs = await cluster.getFrom<JobListStub[]>(s, '/v1/jobs?stale=true');
          return acknowledged.every((j) => jobs.some((x) => x.ID === j));
        },
        { timeoutMs: 30_000 },
        async () => JSON.stringify((await cluster.getFrom<JobListStub[]>(s, '/v1/jobs?stale=true')).map((j) => j.ID)),
      );
    }
    ctx.log(`one leader (${final}); every server has ${acknowledged.join(', ')}`);
  },
};
