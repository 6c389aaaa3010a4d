/**
 * `job scale`, `alloc restart`, `alloc signal` and `eval list` paging and filtering, run
 * in-process against a real dev agent (server and client in one process, raw_exec tasks).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { AllocListStub, Allocation } from '../structs/alloc.js';
import type { Job } from '../structs/job.js';
import { startDevAgentProcess, type DevAgentProcess } from './testdata/dev-agent.js';
import { runYurt, type YurtRun } from './testdata/run-yurt.js';

let agent: DevAgentProcess;
let dir: string;

const HCL = `job "sleeper" {
  datacenters = ["dc1"]
  group "g" {
    restart {
      attempts = 3
      delay = "1s"
    }
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args = ["-c", "trap 'echo got-usr1' USR1; while true; do sleep 0.2; done"]
      }
      resources {
        cpu = 20
        memory = 16
      }
    }
  }
}`;

function yurt(...argv: string[]): Promise<YurtRun> {
  return runYurt(argv, { env: { YURT_ADDR: agent.address }, cwd: dir, nowMs: Date.now() });
}

async function get<T>(path: string): Promise<T> {
  return (await (await fetch(`${agent.address}${path}`)).json()) as T;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${agent.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function running(n: number): Promise<AllocListStub[]> {
  return until(`${n} running`, async () => {
    const allocs = (await get<AllocListStub[]>('/v1/job/sleeper/allocations')).filter((a) => a.DesiredStatus === 'run' && a.ClientStatus === 'running');
    return allocs.length === n ? allocs : undefined;
  });
}

before(async () => {
  agent = await startDevAgentProcess();
  dir = await mkdtemp(join(tmpdir(), 'yurt-cli-real-'));
  await writeFile(join(dir, 'sleeper.hcl'), HCL);
  const r = await yurt('job', 'run', '-detach', 'sleeper.hcl');
  assert.equal(r.code, 0, r.err);
  await running(1);
});

after(async () => {
  await agent?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

void test('job scale: changes the count, monitors the evaluation, makes a new version', async () => {
  const before = await get<Job>('/v1/job/sleeper');
  const up = await yurt('job', 'scale', 'sleeper', '2');
  assert.equal(up.code, 0, up.err + up.out);
  assert.match(up.out, /Evaluation ".{8}" finished with status "complete"/);
  const after = await get<Job>('/v1/job/sleeper');
  assert.equal(after.TaskGroups[0]!.Count, 2);
  assert.equal(after.Version, before.Version + 1);
  await running(2);

  const down = await yurt('job', 'scale', '-detach', 'sleeper', 'g', '1');
  assert.equal(down.code, 0, down.err);
  assert.match(down.out, /^Evaluation ID: [0-9a-f-]{36}\n$/);
  await running(1);

  const badGroup = await yurt('job', 'scale', 'sleeper', 'nope', '1');
  assert.equal(badGroup.code, 1);
  assert.match(badGroup.err, /^Error submitting scaling request: task group "nope" not found/);
  const badCount = await yurt('job', 'scale', 'sleeper', 'many');
  assert.equal(badCount.code, 2);
  const noJob = await yurt('job', 'scale', 'nojob', '1');
  assert.equal(noJob.code, 1);
  assert.match(noJob.err, /No job\(s\) with prefix or id "nojob" found/);
  assert.equal((await get<Job>('/v1/job/sleeper')).TaskGroups[0]!.Count, 1, 'failed commands changed nothing');
});

void test('alloc restart and alloc signal reach the task; bad task or signal is exit 1 with the reason', async () => {
  const [stub] = await running(1);
  const short = stub!.ID.slice(0, 8);
  const restarts = (a: Allocation): number => a.TaskStates['t']?.Restarts ?? 0;
  const before = restarts(await get<Allocation>(`/v1/allocation/${stub!.ID}`));
  const r = await yurt('alloc', 'restart', short);
  assert.equal(r.code, 0, r.err);
  await until('a restart, and the task running again', async () => {
    const a = await get<Allocation>(`/v1/allocation/${stub!.ID}`);
    const t = a.TaskStates['t'];
    const restarted = restarts(a) > before || t?.Events.some((e) => e.Type === 'Restart Signaled');
    return restarted && t?.State === 'running' && t.Events.at(-1)?.Type === 'Started' ? true : undefined;
  });

  const s = await yurt('alloc', 'signal', '-s', 'SIGUSR1', short, 't');
  assert.equal(s.code, 0, s.err);
  await until('the trap to print', async () => {
    const logs = await (await fetch(`${agent.address}/v1/client/fs/logs/${stub!.ID}?task=t&type=stdout&plain=true`)).text();
    return logs.includes('got-usr1') ? true : undefined;
  });

  const badTask = await yurt('alloc', 'signal', '-s', 'SIGUSR1', short, 'nope');
  assert.equal(badTask.code, 1);
  assert.match(badTask.err, /^Error signalling allocation: .*nope/);
  const badSig = await yurt('alloc', 'signal', '-s', 'SIGNOPE', short);
  assert.equal(badSig.code, 1);
  assert.match(badSig.err, /SIGNOPE/);
  const both = await yurt('alloc', 'restart', '-all-tasks', short, 't');
  assert.equal(both.code, 2);
  const none = await yurt('alloc', 'restart', 'ffffffff');
  assert.equal(none.code, 1);
});

void test('eval list: -filter and -per-page against the server, with the next-page command', async () => {
  const all = await get<Array<{ ID: string; JobID: string }>>('/v1/evaluations');
  assert.ok(all.length >= 3);
  const page = await yurt('eval', 'list', '-per-page', '1');
  assert.equal(page.code, 0, page.err);
  const rows = page.out.split('\n\nResults have been paginated')[0]!.trim().split('\n');
  assert.equal(rows.length, 2, 'a header and one row');
  const m = /To get the next page run:\n\nyurt eval list -per-page 1 -page-token (\S+)\n$/.exec(page.out);
  assert.ok(m, page.out);
  const next = await yurt('eval', 'list', '-per-page', '1', '-page-token', m[1]!);
  assert.equal(next.code, 0, next.err);
  assert.notEqual(next.out.split('\n')[1], rows[1], 'the next page starts after the first');

  const json = await yurt('eval', 'list', '-json', '-filter', 'JobID == "sleeper" and TriggeredBy == "job-scaling"');
  assert.equal(json.code, 0, json.err);
  const evals = JSON.parse(json.out) as Array<{ JobID: string; TriggeredBy: string }>;
  assert.ok(evals.every((e) => e.JobID === 'sleeper' && e.TriggeredBy === 'job-scaling'));
  const bad = await yurt('eval', 'list', '-filter', 'JobID === "x"');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^Error querying evaluations: failed to parse filter expression/);
});

void test('-json on write commands prints the API response instead of monitoring', async () => {
  const ev = await yurt('job', 'eval', '-json', 'sleeper');
  assert.equal(ev.code, 0, ev.err);
  const body = JSON.parse(ev.out) as { EvalID: string; EvalCreateIndex: number };
  assert.match(body.EvalID, /^[0-9a-f-]{36}$/);
  assert.ok(body.EvalCreateIndex > 0);
  assert.equal((await fetch(`${agent.address}/v1/evaluation/${body.EvalID}`)).status, 200, 'the evaluation exists');
  const scale = await yurt('job', 'scale', '-json', 'sleeper', '1');
  assert.equal(scale.code, 0, scale.err);
  assert.deepEqual(Object.keys(JSON.parse(scale.out) as object).sort(), ['EvalCreateIndex', 'EvalID', 'Index', 'JobModifyIndex', 'Warnings']);
});

void test('the real binary: bin/yurt.js eval list -filter against the dev agent', async () => {
  const bin = fileURLToPath(new URL('../bin/yurt.js', import.meta.url));
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [bin, 'eval', 'list', '-filter', 'JobID == "sleeper" and TriggeredBy == "job-register"'],
      { env: { ...process.env, YURT_FROM_SOURCE: '1', YURT_ADDR: agent.address }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }),
    );
  });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^ID +Priority +Triggered By +Job ID +Namespace +Node ID +Status +Placement Failures$/);
  assert.ok(lines.length >= 2);
  for (const l of lines.slice(1)) assert.match(l, /^[0-9a-f]{8} +50 +job-register +sleeper +default/);
});
