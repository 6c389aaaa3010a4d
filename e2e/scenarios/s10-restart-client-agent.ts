/**
 * 10. Restart a client's agent process (not its container) while tasks run: the tasks keep
 * running (same docker container, same exec process) and no allocation is duplicated.
 */
import assert from 'node:assert/strict';
import type { Scenario, ScenarioContext } from '../scenario.js';
import { runJob, waitRunning } from '../scenario.js';
import { dockerSleeper, execSleeper } from '../jobs.js';
import { requestJson } from '../http-api.js';
import { sleep, waitUntil } from '../wait.js';

export const restartClientAgent: Scenario = {
  id: 10,
  title: 'restart a client agent: tasks keep running, no duplicates',
  async run(ctx) {
    const { cluster } = ctx;
    const client = cluster.clients({ baseOnly: true })[0]!.name;
    const pin = `constraint {\n  attribute = "\${node.unique.name}"\n  value     = "${client}"\n}`;
    const dockerJob = 'e2e-10-docker';
    const execJob = 'e2e-10-exec';
    await runJob(ctx, { id: dockerJob, type: 'service', count: 2, group: pin, task: dockerSleeper(ctx.images.task) });
    await runJob(ctx, { id: execJob, type: 'service', count: 1, group: pin, task: execSleeper('exec-started') });
    const dockerAllocs = await waitRunning(ctx, dockerJob, 2);
    const execAllocs = await waitRunning(ctx, execJob, 1);
    const containers = await cluster.taskContainers(client, [`label=com.yurt.job_id=${dockerJob}`]);
    assert.equal(containers.length, 2, `two task containers in ${client}'s engine`);
    // The task's stdout file inside the client: this scenario is about the restart, not the logs API.
    const execLogFile = (): Promise<string> => cluster.taskLogFile(client, execAllocs[0]!.ID);
    const execLog = await waitUntil('the exec task to print its start line', async () => startLines(await execLogFile()), { timeoutMs: 20_000 });
    assert.equal(execLog.length, 1, 'the exec task started once');

    const { before, after } = await cluster.restartClientAgent(client);
    ctx.log(`${client}'s agent restarted (pid ${before} → ${after})`);
    await waitClientRegistered(ctx, client);
    // Long enough for a wrong restart or a duplicate placement to show.
    await sleep(8_000);

    for (const [job, allocs] of [[dockerJob, dockerAllocs], [execJob, execAllocs]] as const) {
      const now = await cluster.api.jobAllocs(job);
      assert.deepEqual(now.map((a) => `${a.ID}:${a.ClientStatus}`).sort(), allocs.map((a) => `${a.ID}:running`).sort(), `${job}: the same allocations, still running, none added`);
      for (const a of now) {
        const full = await cluster.api.alloc(a.ID);
        assert.equal(full.TaskStates['t']?.Restarts, 0, `${job}: allocation ${a.ID}'s task was not restarted`);
      }
    }
    const containersAfter = await cluster.taskContainers(client, [`label=com.yurt.job_id=${dockerJob}`]);
    assert.deepEqual(
      containersAfter.map((c) => `${c.id} ${c.startedAt}`).sort(),
      containers.map((c) => `${c.id} ${c.startedAt}`).sort(),
      'the same containers, started at the same time (not restarted)',
    );
    const execLogAfter = startLines(await execLogFile());
    assert.deepEqual(execLogAfter, execLog, 'the exec task did not start again (one start line, same pid)');
    ctx.log('containers and the exec process survived the agent restart');
  },
};

function startLines(log: string): string[] | undefined {
  const lines = log.split('\n').filter((l) => l.startsWith('exec-started'));
  return lines.length > 0 ? lines : undefined;
}

/** The restarted agent answers health once it has registered with a server again. */
async function waitClientRegistered(ctx: ScenarioContext, client: string): Promise<void> {
  await waitUntil(
    `${client}'s new agent to register`,
    async () => {
      await requestJson(ctx.cluster.baseUrl(client), 'GET', '/v1/agent/health');
      return true;
    },
    { timeoutMs: 60_000 },
  );
  await ctx.cluster.waitForNodeReady(client, 30_000);
}
