/**
 * 6. `docker kill` of the leader's container: a new leader within 5 s, every job still running,
 * a new job accepted; the old leader restarts and rejoins as a follower.
 */
import assert from 'node:assert/strict';
import type { Scenario } from '../scenario.js';
import { runJob, waitRunning } from '../scenario.js';
import { dockerSleeper } from '../jobs.js';
import { isLive } from '../http-api.js';
import { RPC_PORT } from '../cluster.js';
import { waitUntil } from '../wait.js';

/** Raft's election timeout is well under this; the issue asks for a new leader within 5 s. */
const NEW_LEADER_WITHIN_MS = 5_000;

export const killLeader: Scenario = {
  id: 6,
  title: 'kill the leader: new leader < 5 s, jobs survive, old leader rejoins',
  minServers: 3,
  async run(ctx) {
    const { cluster } = ctx;
    const all = cluster.servers().map((s) => s.name);
    const leader = await cluster.waitForLeader(all, 30_000);
    const before = 'e2e-6-before';
    await runJob(ctx, { id: before, type: 'service', count: 2, task: dockerSleeper(ctx.images.task) });
    const running = await waitRunning(ctx, before, 2);

    ctx.log(`docker kill ${leader} (the leader)`);
    await cluster.kill(leader);
    const killedAt = Date.now();
    const others = all.filter((s) => s !== leader);
    const next = await cluster.waitForLeader(others, 30_000);
    const took = Date.now() - killedAt;
    ctx.log(`${next} leads after ${took} ms`);
    assert.ok(took <= NEW_LEADER_WITHIN_MS, `a new leader within ${NEW_LEADER_WITHIN_MS} ms of the kill; it took ${took} ms`);

    const still = (await cluster.api.jobAllocs(before)).filter(isLive);
    assert.deepEqual(
      still.map((a) => `${a.ID}:${a.ClientStatus}`).sort(),
      running.map((a) => `${a.ID}:running`).sort(),
      'the job that ran before the kill still runs, same allocations',
    );

    const after = 'e2e-6-after';
    await runJob(ctx, { id: after, type: 'service', count: 1, task: dockerSleeper(ctx.images.task) }, { server: next });
    await waitRunning(ctx, after, 1);
    ctx.log('a job submitted after the kill runs');

    ctx.log(`docker start ${leader}`);
    await cluster.startAgain(leader);
    const nextRpc = `${cluster.node(next).ip}:${RPC_PORT}`;
    await waitUntil(
      `${leader} to rejoin as a follower of ${next}`,
      async () => !(await cluster.isLeader(leader)) && (await cluster.getFrom<string>(leader, '/v1/status/leader')) === nextRpc,
      { timeoutMs: 60_000 },
      () => cluster.describeServers(),
    );
    const final = await cluster.waitForLeader(all, 30_000);
    assert.equal(final, next, `the restarted server did not take leadership back (leader is ${final})`);
    const peers = await cluster.getFrom<string[]>(leader, '/v1/status/peers');
    assert.equal(peers.length, 3, `the rejoined server sees 3 voters: ${JSON.stringify(peers)}`);
  },
};
