/**
 * 11. Drain a client: its service allocations migrate to the other clients; system allocations
 * are stopped by a plain drain and left running by `-ignore-system` (Nomad's drain flags).
 */
import assert from 'node:assert/strict';
import type { Scenario } from '../scenario.js';
import { countBy, describeJob, runJob, waitRunning } from '../scenario.js';
import { dockerSleeper, execSleeper } from '../jobs.js';
import { isLive } from '../http-api.js';
import { waitUntil } from '../wait.js';

export const drainClient: Scenario = {
  id: 11,
  title: 'drain a client: service allocations migrate; system per -ignore-system',
  async run(ctx) {
    const { cluster } = ctx;
    const clients = cluster.clients({ baseOnly: true }).map((c) => c.name);
    const svc = 'e2e-11-svc';
    const sys = 'e2e-11-sys';
    await runJob(ctx, { id: svc, type: 'service', count: 2, task: dockerSleeper(ctx.images.task) });
    await runJob(ctx, { id: sys, type: 'system', task: execSleeper('sys') });
    const svcBefore = await waitRunning(ctx, svc, 2);
    await waitRunning(ctx, sys, clients.length);
    const victim = [...countBy(svcBefore, (a) => a.NodeName)].sort((a, b) => b[1] - a[1])[0]![0];
    const victimId = await cluster.nodeId(victim);
    const moving = svcBefore.filter((a) => a.NodeName === victim).map((a) => a.ID);
    ctx.defer(`undrain ${victim}`, async () => {
      await cluster.cli('node drain', ['-disable', '-yes', victimId]);
      await cluster.cli('node eligibility', ['-enable', victimId]);
    });

    ctx.log(`yurt node drain -enable ${victim} (${moving.length} service allocation(s) on it)`);
    await cluster.cliOk('node drain', ['-enable', '-yes', '-deadline', '2m', victimId], { timeoutMs: 180_000 });
    await waitUntil('the drain to complete', async () => !(await cluster.api.node(victimId)).Drain, { timeoutMs: 120_000 });
    const node = await cluster.api.node(victimId);
    assert.equal(node.SchedulingEligibility, 'ineligible', 'a drained node stays ineligible');
    const svcAfter = await waitRunning(ctx, svc, 2);
    assert.ok(svcAfter.every((a) => a.NodeName !== victim), `no service allocation left on ${victim}: ${await describeJob(ctx, svc)}`);
    for (const id of moving) {
      const a = await cluster.api.alloc(id);
      assert.equal(a.DesiredStatus, 'stop', `allocation ${id} on the drained node was stopped (migrated)`);
    }
    const sysLive = (await cluster.api.jobAllocs(sys)).filter(isLive);
    assert.ok(!sysLive.some((a) => a.NodeName === victim), `a plain drain stops the system allocation on ${victim}: ${await describeJob(ctx, sys)}`);
    assert.equal(sysLive.length, clients.length - 1, `the system job keeps running on the other clients: ${await describeJob(ctx, sys)}`);
    ctx.log('service allocations migrated, the system allocation stopped');

    ctx.log(`${victim} eligible again; the system job returns to it`);
    await cluster.cliOk('node eligibility', ['-enable', victimId]);
    await waitRunning(ctx, sys, clients.length);
    const sysOnVictim = (await cluster.api.jobAllocs(sys)).filter(isLive).find((a) => a.NodeName === victim)!;

    ctx.log(`yurt node drain -enable -ignore-system ${victim}`);
    await cluster.cliOk('node drain', ['-enable', '-yes', '-ignore-system', '-deadline', '2m', victimId], { timeoutMs: 180_000 });
    await waitUntil('the second drain to complete', async () => !(await cluster.api.node(victimId)).Drain, { timeoutMs: 120_000 });
    const kept = await cluster.api.alloc(sysOnVictim.ID);
    assert.equal(`${kept.DesiredStatus}/${kept.ClientStatus}`, 'run/running', `with -ignore-system the system allocation on ${victim} keeps running`);
    ctx.log('with -ignore-system the system allocation stayed');
  },
};
