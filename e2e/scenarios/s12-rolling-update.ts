/**
 * 12. Update a service job (a new env value) with `update { max_parallel = 1 }`: allocations are
 * replaced one at a time and the service never has fewer than count-1 healthy allocations.
 * "Healthy" here is running (the job has no checks), the default health signal in Nomad.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Scenario } from '../scenario.js';
import { describeJob, runJobFile, waitRunning } from '../scenario.js';
import { jobHcl, type JobSpec } from '../jobs.js';
import { isLive, shortAllocs } from '../http-api.js';
import { sleep } from '../wait.js';

const COUNT = 3;
const UPDATE_TIMEOUT_MS = 180_000;

export const rollingUpdate: Scenario = {
  id: 12,
  title: 'rolling update, max_parallel = 1, never < count-1 healthy',
  async run(ctx) {
    const { cluster } = ctx;
    const jobId = 'e2e-12-roll';
    const spec = (version: string): JobSpec => ({
      id: jobId,
      type: 'service',
      count: COUNT,
      group: 'update {\n  max_parallel     = 1\n  min_healthy_time = "2s"\n  healthy_deadline = "1m"\n}',
      task: {
        driver: 'docker',
        config: `image   = "${ctx.images.task}"\ncommand = "/bin/sh"\nargs    = ["-c", "echo version=$VERSION; exec sleep 3600"]`,
        env: { VERSION: version },
      },
    });
    const file = join(ctx.workDir, `${jobId}.hcl`);
    await writeFile(file, jobHcl(spec('v1')));
    await runJobFile(ctx, jobId, file);
    const v1 = await waitRunning(ctx, jobId, COUNT);

    ctx.log('submitting the update (VERSION=v2)');
    await writeFile(file, jobHcl(spec('v2')));
    await runJobFile(ctx, jobId, file, { keep: true });
    const deadline = Date.now() + UPDATE_TIMEOUT_MS;
    let minHealthy = COUNT;
    let maxInFlight = 0;
    let samples = 0;
    for (;;) {
      const allocs = await cluster.api.jobAllocs(jobId);
      const live = allocs.filter(isLive);
      const healthy = live.filter((a) => a.ClientStatus === 'running').length;
      const inFlight = live.filter((a) => a.JobVersion >= 1 && a.ClientStatus !== 'running').length;
      minHealthy = Math.min(minHealthy, healthy);
      maxInFlight = Math.max(maxInFlight, inFlight);
      samples++;
      assert.ok(healthy >= COUNT - 1, `never fewer than ${COUNT - 1} healthy allocations; saw ${healthy}: ${shortAllocs(allocs)}`);
      assert.ok(inFlight <= 1, `max_parallel = 1: at most one new allocation starting at a time; saw ${inFlight}: ${shortAllocs(allocs)}`);
      if (live.length === COUNT && live.every((a) => a.JobVersion >= 1 && a.ClientStatus === 'running')) break;
      if (Date.now() > deadline) throw new Error(`the update did not finish in ${UPDATE_TIMEOUT_MS / 1000}s: ${await describeJob(ctx, jobId)}`);
      await sleep(250);
    }
    const done = await waitRunning(ctx, jobId, COUNT);
    // One at a time, also when sampling missed a short window: each replacement is created only
    // after the previous one has been healthy for min_healthy_time (2 s).
    const created = done.map((a) => a.CreateTime).sort((x, y) => x - y);
    for (let i = 1; i < created.length; i++) {
      const gapMs = (created[i]! - created[i - 1]!) / 1e6;
      assert.ok(gapMs >= 2_000, `replacement ${i + 1} was created ${gapMs.toFixed(0)} ms after replacement ${i}; max_parallel = 1 with min_healthy_time = 2s needs at least 2000 ms`);
    }
    for (const a of v1) {
      const old = await cluster.api.alloc(a.ID);
      assert.equal(old.DesiredStatus, 'stop', `the v1 allocation ${a.ID} was replaced`);
    }
    for (const a of done) {
      const full = await cluster.api.alloc(a.ID);
      assert.equal(full.Job.TaskGroups[0]?.Tasks[0]?.Env?.['VERSION'], 'v2', `allocation ${a.ID} runs the job version with VERSION=v2`);
      // What the task itself printed (its stdout file on the client; scenario 2 covers the logs API).
      assert.match(await cluster.taskLogFile(a.NodeName, a.ID), /version=v2/, `allocation ${a.ID}'s task sees VERSION=v2`);
    }
    ctx.log(`${samples} samples: at least ${minHealthy} healthy, at most ${maxInFlight} replacement starting at once`);
  },
};
