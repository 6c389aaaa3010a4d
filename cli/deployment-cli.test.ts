/**
 * Deployments through the CLI against a real dev agent (server and client in one process,
 * raw_exec tasks, health judged by the real client): `job run` follows the deployment,
 * `deployment list|status|promote|pause|fail` and `job status`'s Latest Deployment.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Deployment } from '../structs/deployment.js';
import { startDevAgentProcess, type DevAgentProcess } from './testdata/dev-agent.js';
import { runYurt, type YurtRun } from './testdata/run-yurt.js';

let agent: DevAgentProcess;
let dir: string;

const job = (message: string, canary: number): string => `job "web" {
  datacenters = ["dc1"]
  update {
    max_parallel      = 1
    min_healthy_time  = "200ms"
    healthy_deadline  = "20s"
    progress_deadline = "40s"
    auto_revert       = true
    canary            = ${canary}
  }
  group "api" {
    count = 2
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "echo ${message}; while true; do sleep 0.2; done"]
      }
      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}`;

function yurt(...argv: string[]): Promise<YurtRun> {
  return runYurt(argv, { env: { YURT_ADDR: agent.address }, cwd: dir, nowMs: Date.now() });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${agent.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const latest = async (): Promise<Deployment | null> => (await (await fetch(`${agent.address}/v1/job/web/deployment`)).json()) as Deployment | null;

before(async () => {
  agent = await startDevAgentProcess();
  dir = await mkdtemp(join(tmpdir(), 'yurt-cli-deploy-'));
  await writeFile(join(dir, 'v0.hcl'), job('v0', 0));
  await writeFile(join(dir, 'v1.hcl'), job('v1', 1));
});

after(async () => {
  await agent?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

void test('job run follows the deployment to success; list, status and job status show it', { timeout: 120_000 }, async () => {
  const run = await yurt('job', 'run', 'v0.hcl');
  assert.equal(run.code, 0, run.out + run.err);
  const id = /Monitoring deployment "([0-9a-f]{8})"/.exec(run.out)?.[1];
  assert.ok(id, run.out);
  assert.match(run.out, new RegExp(`==> \\S+: Deployment "${id}" successful\\n`));
  assert.match(run.out, /\n {4}Deployed\n {4}Task Group +Auto Revert +Desired +Placed +Healthy +Unhealthy +Progress Deadline\n {4}api +true +2 +2 +2 +0 +N\/A\n/);

  const list = await yurt('deployment', 'list');
  assert.equal(list.code, 0, list.err);
  assert.match(list.out, new RegExp(`^ID +Job ID +Job Version +Status +Description\\n${id} +web +0 +successful +Deployment completed successfully\\n$`));

  const status = await yurt('deployment', 'status', id);
  assert.equal(status.code, 0, status.err);
  assert.match(status.out, new RegExp(`^ID += ${id}\\nJob ID += web\\nJob Version += 0\\nStatus += successful\\nDescription += Deployment completed successfully\\n\\nDeployed\\n`));

  // `yurt status <id>` finds a deployment as it finds jobs, evaluations, allocations and nodes.
  const full = (await latest())!.ID;
  const byId = await yurt('status', full);
  assert.equal(byId.code, 0, byId.err);
  assert.match(byId.out, new RegExp(`^ID += ${id}\\nJob ID += web\\n`));

  const js = await yurt('job', 'status', 'web');
  assert.equal(js.code, 0, js.err);
  assert.match(js.out, new RegExp(`\\n\\nLatest Deployment\\nID += ${id}\\nStatus += successful\\nDescription += Deployment completed successfully\\n\\nDeployed\\nTask Group +Auto Revert +Desired +Placed +Healthy +Unhealthy +Progress Deadline\\napi +true +2 +2 +2 +0 +N/A\\n\\nAllocations\\n`));

  const pause = await yurt('deployment', 'pause', id);
  assert.equal(pause.code, 1);
  assert.match(pause.err, /can't pause terminal deployment/);
  const none = await yurt('deployment', 'status', 'ffff');
  assert.equal(none.code, 1);
  assert.match(none.err, /No deployment\(s\) with prefix or id "ffff" found/);
});

void test('a canary waits for promotion; deployment promote rolls the rest out', { timeout: 120_000 }, async () => {
  const run = await yurt('job', 'run', '-detach', 'v1.hcl');
  assert.equal(run.code, 0, run.out + run.err);
  const d = await until('the canary healthy', async () => {
    const x = await latest();
    return x !== null && x.JobVersion === 1 && x.TaskGroups['api']!.HealthyAllocs === 1 ? x : undefined;
  });
  assert.equal(d.StatusDescription, 'Deployment is running but requires manual promotion');
  const status = await yurt('deployment', 'status', d.ID.slice(0, 8));
  assert.match(status.out, /\nTask Group +Auto Revert +Promoted +Desired +Canaries +Placed +Healthy +Unhealthy +Progress Deadline\napi +true +false +2 +1 +1 +1 +0 +\d{4}-\d\d-\d\dT/);

  const paused = await yurt('deployment', 'pause', d.ID.slice(0, 8));
  assert.equal(paused.code, 0, paused.err);
  assert.equal(paused.out, `Deployment "${d.ID}" paused\n`);
  const resumed = await yurt('deployment', 'resume', '-detach', d.ID.slice(0, 8));
  assert.equal(resumed.code, 0, resumed.err);
  assert.match(resumed.out, new RegExp(`^Deployment "${d.ID}" resumed\\nEvaluation ID: [0-9a-f-]{36}\\n$`));
  assert.equal((await yurt('deployment', 'fail', '-group', 'api', d.ID)).code, 2, '-group is for promote only');

  const promote = await yurt('deployment', 'promote', d.ID.slice(0, 8));
  assert.equal(promote.code, 0, promote.out + promote.err);
  assert.match(promote.out, /Monitoring evaluation "[0-9a-f]{8}"/);
  const done = await until('the deployment to finish', async () => {
    const x = await latest();
    return x !== null && x.ID === d.ID && x.Status !== 'running' ? x : undefined;
  });
  assert.equal(done.Status, 'successful', JSON.stringify(done));
  assert.equal(done.TaskGroups['api']!.Promoted, true);
});
