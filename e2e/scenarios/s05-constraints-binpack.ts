/**
 * 5. Constraints and bin packing: a job constrained to `${meta.rack}` lands only there; a job
 * too large for every node reports the exhausted dimension and stays queued, then places when
 * a bigger node joins. The base clients reserve half the host's memory (client.reserved), so a
 * client without that reservation is the bigger node.
 */
import assert from 'node:assert/strict';
import type { Scenario } from '../scenario.js';
import { describeJob, runJob, waitRunning } from '../scenario.js';
import { dockerSleeper, execSleeper } from '../jobs.js';
import { isLive } from '../http-api.js';
import { waitUntil } from '../wait.js';

export const constraintsBinPack: Scenario = {
  id: 5,
  title: 'meta.rack constraint; too-large job queued until a bigger node joins',
  async run(ctx) {
    const target = ctx.cluster.clients({ baseOnly: true }).find((c) => c.client?.meta?.['rack'] === 'r2');
    assert.ok(target, 'a base client with meta.rack = r2');

    const constrained = 'e2e-5-rack';
    await runJob(ctx, {
      id: constrained,
      type: 'service',
      count: 3,
      group: 'constraint {\n  attribute = "${meta.rack}"\n  value     = "r2"\n}',
      task: dockerSleeper(ctx.images.task),
    });
    const placed = await waitRunning(ctx, constrained, 3);
    for (const a of placed) assert.equal(a.NodeName, target.name, `allocation ${a.ID} of the rack-constrained job is on ${target.name}, not ${a.NodeName}`);
    ctx.log(`3 allocations, all on ${target.name} (rack r2)`);

    // Larger than what any base client offers (half the host), smaller than a whole host.
    const hostMB = await nodeMemoryMB(ctx);
    const bigMB = Math.floor(hostMB * 0.75);
    const big = 'e2e-5-big';
    await runJob(ctx, { id: big, type: 'service', count: 1, task: { ...execSleeper('big'), memoryMB: bigMB } });
    const blocked = await waitUntil(
      `${big}'s evaluation to report the memory dimension exhausted`,
      async () => {
        const evals = await ctx.cluster.api.jobEvals(big);
        return evals.find((e) => (e.FailedTGAllocs?.['g']?.DimensionExhausted?.['memory'] ?? 0) > 0);
      },
      { timeoutMs: 60_000 },
      async () => JSON.stringify((await ctx.cluster.api.jobEvals(big)).map((e) => ({ s: e.Status, f: e.FailedTGAllocs }))),
    );
    ctx.log(`placement failure: ${JSON.stringify(blocked.FailedTGAllocs?.['g']?.DimensionExhausted)}`);
    const status = await ctx.cluster.cliOk('job status', [big]);
    assert.match(status.stdout, /Dimension "memory" exhausted on \d+ node/, `\`yurt job status\` explains the failed placement:\n${status.stdout}`);
    const summary = await ctx.cluster.api.get<{ Summary: Record<string, { Queued: number }> }>(`/v1/job/${big}/summary`);
    assert.equal(summary.Summary['g']?.Queued, 1, `the large allocation is queued: ${JSON.stringify(summary.Summary)}`);
    assert.equal((await ctx.cluster.api.jobAllocs(big)).filter(isLive).length, 0, 'nothing placed while no node is big enough');

    ctx.log('a bigger client joins');
    const bigNode = 'client-big';
    ctx.defer(`remove ${bigNode}`, () => ctx.cluster.removeNode(bigNode));
    await ctx.cluster.addClient(bigNode, { meta: { rack: 'big' } });
    const [alloc] = await waitRunning(ctx, big, 1, 90_000).catch(async (e: unknown) => {
      throw new Error(`${String(e)}\n${await describeJob(ctx, big)}`);
    });
    assert.equal(alloc!.NodeName, bigNode, `the large job placed on the bigger node, not ${alloc!.NodeName}`);
    const after = await ctx.cluster.api.get<{ Summary: Record<string, { Queued: number; Running: number }> }>(`/v1/job/${big}/summary`);
    assert.equal(after.Summary['g']?.Queued, 0, `nothing left queued: ${JSON.stringify(after.Summary)}`);
    ctx.log(`${big} (${bigMB} MB) placed on ${bigNode}`);
  },
};

async function nodeMemoryMB(ctx: Parameters<Scenario['run']>[0]): Promise<number> {
  const id = await ctx.cluster.nodeId(ctx.cluster.clients({ baseOnly: true })[0]!.name);
  return (await ctx.cluster.api.node(id)).NodeResources.Memory.MemoryMB;
}
