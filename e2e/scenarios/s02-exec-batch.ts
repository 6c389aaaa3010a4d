/** 2. A batch job with the exec driver completes, and its output is in `yurt alloc logs`. */
import assert from 'node:assert/strict';
import type { Scenario } from '../scenario.js';
import { allocLogs, describeJob, runJob } from '../scenario.js';
import { FAIL_FAST } from '../jobs.js';
import { waitUntil } from '../wait.js';

export const execBatch: Scenario = {
  id: 2,
  title: 'exec batch job completes; output in alloc logs',
  async run(ctx) {
    const jobId = 'e2e-2-exec';
    await runJob(ctx, {
      id: jobId,
      type: 'batch',
      group: FAIL_FAST,
      task: {
        driver: 'exec',
        // The arithmetic happens in the task, so the text cannot come from the job file alone.
        config: 'command = "/bin/sh"\nargs    = ["-c", "echo exec-says-$((6 * 7)) in $NOMAD_JOB_NAME; echo exec-stderr-line >&2"]',
      },
    });
    const alloc = await waitUntil(
      `${jobId}'s allocation to complete`,
      async () => {
        const allocs = await ctx.cluster.api.jobAllocs(jobId);
        const failed = allocs.find((a) => a.ClientStatus === 'failed');
        if (failed) throw new Error(`allocation ${failed.ID} failed: ${await describeJob(ctx, jobId)}`);
        return allocs.find((a) => a.ClientStatus === 'complete');
      },
      { timeoutMs: 90_000 },
      () => describeJob(ctx, jobId),
    );
    const state = alloc.TaskStates['t'];
    assert.equal(state?.Failed, false, 'the task did not fail');
    const stdout = await allocLogs(ctx, alloc);
    assert.match(stdout, /exec-says-42 in e2e-2-exec/, '`yurt alloc logs` shows the task\'s stdout');
    const stderr = await allocLogs(ctx, alloc, true);
    assert.match(stderr, /exec-stderr-line/, '`yurt alloc logs -stderr` shows the task\'s stderr');
    ctx.log(`allocation ${alloc.ID.slice(0, 8)} complete on ${alloc.NodeName}; logs read through the CLI`);
  },
};
