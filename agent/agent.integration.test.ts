/**
 * The walking skeleton end to end: a real dev agent process (server + client, talking over
 * websocket RPC on loopback, state in LMDB), an HCL batch job submitted through the HTTP API,
 * run by the exec driver, its output read back through the logs API — and all of it still
 * there after the agent restarts on the same data dir.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AllocListStub, Allocation } from '../structs/alloc.js';
import type { Job, JobRegisterResponse } from '../structs/job.js';
import type { Evaluation } from '../structs/eval.js';
import { eventually, startAgent } from './testing/agent-process.js';

const HCL = `
variable "greeting" {
  type    = string
  default = "hello"
}

job "hello" {
  datacenters = ["dc1"]
  type        = "batch"

  group "say" {
    task "echo" {
      driver = "exec"
      config {
        command = "/bin/echo"
        args    = [var.greeting]
      }
      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
`;

async function api<T>(base: string, path: string, init?: RequestInit): Promise<T> {
  const r = await fetch(base + path, init);
  const text = await r.text();
  if (!r.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: ${r.status} ${text}`);
  return JSON.parse(text) as T;
}

void test('dev agent runs an HCL batch job through every layer and keeps it across a restart', { timeout: 120_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'yurt-it-'));
  let agent = await startAgent(['-dev', '-data-dir', dataDir]);
  try {
    assert.match(agent.output(), /Client: true/);
    assert.match(agent.output(), /Server: true/);
    assert.match(agent.output(), /Region: global \(DC: dc1\)/);

    // The node registers over RPC and becomes ready.
    await eventually(async () => {
      const nodes = await api<Array<{ Status: string }>>(agent.http, '/v1/nodes');
      return nodes.length === 1 && nodes[0]!.Status === 'ready' ? true : undefined;
    }, 20_000, 'node ready');

    const job = await api<Job>(agent.http, '/v1/jobs/parse', { method: 'POST', body: JSON.stringify({ JobHCL: HCL }) });
    assert.equal(job.ID, 'hello');
    assert.deepEqual(job.TaskGroups[0]!.Tasks[0]!.Config['args'], ['hello']);
    const reg = await api<JobRegisterResponse>(agent.http, '/v1/jobs', { method: 'POST', body: JSON.stringify({ Job: job }) });
    assert.ok(reg.EvalID);

    const ev = await eventually(async () => {
      const e = await api<Evaluation>(agent.http, `/v1/evaluation/${reg.EvalID}`);
      return e.Status === 'complete' ? e : undefined;
    }, 20_000, 'evaluation complete');
    assert.equal(ev.FailedTGAllocs, null);

    const alloc = await eventually(async () => {
      const allocs = await api<AllocListStub[]>(agent.http, '/v1/job/hello/allocations');
      return allocs[0]?.ClientStatus === 'complete' ? allocs[0] : undefined;
    }, 30_000, 'allocation complete');
    assert.equal(alloc.TaskStates['echo']!.State, 'dead');
    assert.equal(alloc.TaskStates['echo']!.Failed, false);
    const types = alloc.TaskStates['echo']!.Events.map((e) => e.Type);
    assert.deepEqual(types.slice(0, 4), ['Received', 'Task Setup', 'Started', 'Terminated']);

    const logs = await fetch(`${agent.http}/v1/client/fs/logs/${alloc.ID}?task=echo&type=stdout&plain=true`);
    assert.equal(logs.status, 200);
    assert.equal(await logs.text(), 'hello\n');

    const status = await api<Job>(agent.http, '/v1/job/hello');
    assert.equal(status.Status, 'dead', 'a finished batch job is dead');

    // Prometheus sees the same: the leader and the job's finished allocation.
    const prom = await (await fetch(`${agent.http}/v1/metrics?format=prometheus`)).text();
    assert.match(prom, /^yurt_raft_state_leader\{[^}]*\} 1$/m);
    assert.match(prom, /^yurt_nomad_job_summary_complete\{[^}]*job="hello",task_group="say"[^}]*\} 1$/m);
    assert.match(prom, /^yurt_nomad_worker_invoke_scheduler_seconds_count\{[^}]*type="batch"[^}]*\} [1-9]/m);
    assert.match(prom, /^yurt_nomad_plan_apply_seconds_count\{[^}]*\} [1-9]/m);
    // The exposition parses with Prometheus's own parser (CI installs promtool).
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: prom, encoding: 'utf8' });
    if (promtool.error && !process.env['CI']) {
      process.stdout.write('# promtool not installed here: exposition not checked by it\n');
    } else {
      assert.equal(promtool.error, undefined, 'promtool must be installed in CI');
      // promtool exits 3 for lint-only findings (e.g. naming advice); 1 means it could not parse.
      assert.notEqual(promtool.status, 1, `promtool could not parse the exposition: ${promtool.stdout}${promtool.stderr}`);
    }

    // Restart on the same data dir: the job, its allocation and its logs are still there,
    // and the finished task is not run again.
    assert.equal(await agent.stop('SIGINT'), 0);
    agent = await startAgent(['-dev', '-data-dir', dataDir]);
    const again = await api<Allocation>(agent.http, `/v1/allocation/${alloc.ID}`);
    assert.equal(again.ClientStatus, 'complete');
    assert.equal((await api<Job>(agent.http, '/v1/job/hello')).ID, 'hello');
    await new Promise((r) => setTimeout(r, 500));
    const after = await api<AllocListStub[]>(agent.http, '/v1/job/hello/allocations');
    assert.equal(after.length, 1, 'no new allocation after restart');
    const logs2 = await fetch(`${agent.http}/v1/client/fs/logs/${alloc.ID}?task=echo&type=stdout&plain=true`);
    assert.equal(await logs2.text(), 'hello\n');
  } catch (e) {
    process.stderr.write(`agent output:\n${agent.output()}\n`);
    throw e;
  } finally {
    await agent.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

void test('bad requests get clear errors and the right status, and nothing stored is lost', { timeout: 60_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'yurt-it-'));
  const agent = await startAgent(['-dev', '-data-dir', dataDir]);
  try {
    const post = (path: string, body: string) => fetch(agent.http + path, { method: 'POST', body });
    let r = await post('/v1/jobs', '{not json');
    assert.equal(r.status, 400);
    assert.match(await r.text(), /not valid JSON/);
    r = await post('/v1/jobs', JSON.stringify({ Job: { ID: 'x', TaskGroups: [{ Name: 'g', Count: -1, Tasks: [{ Name: 't' }] }] } }));
    assert.equal(r.status, 400);
    const text = await r.text();
    assert.match(text, /Count/);
    assert.match(text, /driver/i);
    r = await post('/v1/jobs/parse', JSON.stringify({ JobHCL: 'job "x" {\n  group "g" {\n' }));
    assert.equal(r.status, 400);
    assert.match(await r.text(), /input\.hcl:\d+,\d+/);
    r = await fetch(`${agent.http}/v1/job/nope`);
    assert.equal(r.status, 404);
    r = await fetch(`${agent.http}/v1/jobs`, { method: 'PATCH' });
    assert.equal(r.status, 405);
    r = await fetch(`${agent.http}/v1/nowhere`);
    assert.equal(r.status, 404);
    r = await post('/v1/jobs', 'x'.repeat(9 * 1024 * 1024));
    assert.equal(r.status, 413);
    // The agent is still up and answers.
    r = await fetch(`${agent.http}/v1/jobs`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), []);
  } finally {
    await agent.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

void test('blocking queries wake on a change and time out without one', { timeout: 60_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'yurt-it-'));
  const agent = await startAgent(['-dev', '-data-dir', dataDir]);
  try {
    const first = await fetch(`${agent.http}/v1/jobs`);
    const index = Number(first.headers.get('X-Nomad-Index'));
    assert.ok(index >= 1);
    assert.equal(first.headers.get('X-Nomad-KnownLeader'), 'true');

    let t0 = Date.now();
    const idle = await fetch(`${agent.http}/v1/jobs?index=${index}&wait=300ms`);
    assert.ok(Date.now() - t0 >= 280, 'waited for the timeout');
    assert.equal(Number(idle.headers.get('X-Nomad-Index')), index, 'nothing changed');

    t0 = Date.now();
    const woken = fetch(`${agent.http}/v1/jobs?index=${index}&wait=20s`);
    await new Promise((r) => setTimeout(r, 200));
    const job = await (await fetch(`${agent.http}/v1/jobs/parse`, { method: 'POST', body: JSON.stringify({ JobHCL: HCL }) })).json();
    await fetch(`${agent.http}/v1/jobs`, { method: 'POST', body: JSON.stringify({ Job: job }) });
    const r = await woken;
    assert.ok(Date.now() - t0 < 10_000, 'woke on the change, long before the wait ran out');
    assert.ok(Number(r.headers.get('X-Nomad-Index')) > index);
    assert.deepEqual(((await r.json()) as Array<{ ID: string }>).map((j) => j.ID), ['hello']);
  } finally {
    await agent.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
