/**
 * The CLI end to end against an HTTP server answering like the agent's API (see
 * testdata/api-stand-in.ts): `job run` monitoring, `job status`, `alloc logs`, and the
 * failure paths, run in-process with captured output and a fixed clock.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from './run-cli.js';
import { startStandIn } from './testdata/api-stand-in.js';
import type { StandIn } from './testdata/api-stand-in.js';
import { captureIo } from './testdata/capture-io.js';
import type { CapturedIo } from './testdata/capture-io.js';

let api: StandIn;
let dir: string;

function jobJson(id: string, meta: Record<string, string> = {}): string {
  return JSON.stringify({
    Job: {
      ID: id,
      Name: id,
      Type: 'batch',
      Datacenters: ['dc1'],
      Meta: meta,
      TaskGroups: [{ Name: 'cache', Count: 1, Tasks: [{ Name: 'redis', Driver: 'raw_exec', Config: { command: '/bin/true' } }] }],
    },
  });
}

async function jobFile(name: string, meta: Record<string, string> = {}): Promise<string> {
  const path = join(dir, `${name}.json`);
  await writeFile(path, jobJson(name, meta));
  return path;
}

async function yurt(...argv: string[]): Promise<{ code: number; io: CapturedIo }> {
  const io = captureIo({ env: { YURT_ADDR: api.address }, cwd: dir });
  const code = await runCli(argv, io);
  return { code, io };
}

const T = '2026-11-22T10:00:00Z';
const shortId = (s: string): string => s.slice(0, 8);

before(async () => {
  api = await startStandIn();
  dir = await mkdtemp(join(tmpdir(), 'yurt-cli-'));
});
after(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

void test('job run monitors the evaluation and the allocation until the batch job completes', async () => {
  const path = await jobFile('example');
  const { code, io } = await yurt('job', 'run', path);
  assert.equal(io.stderr(), '');
  assert.equal(code, 0);
  const evalId = /Monitoring evaluation "([0-9a-f]{8})"/.exec(io.stdout())?.[1] ?? '';
  const allocId = /Allocation "([0-9a-f]{8})" created/.exec(io.stdout())?.[1] ?? '';
  const expected = [
    `==> ${T}: Monitoring evaluation "${evalId}"`,
    `    ${T}: Evaluation triggered by job "example"`,
    `    ${T}: Allocation "${allocId}" created: node "1f2c3d4e", group "cache"`,
    `    ${T}: Evaluation status changed: "pending" -> "complete"`,
    `==> ${T}: Evaluation "${evalId}" finished with status "complete"`,
    `    ${T}: Allocation "${allocId}" status changed: "pending" -> "running" (Tasks are running)`,
    `    ${T}: Allocation "${allocId}" status changed: "running" -> "complete" (All tasks have completed)`,
    `==> ${T}: All 1 allocation of job "example" (version 0) is complete`,
  ];
  const lines = io.stdout().split('\n');
  assert.equal(lines.pop(), '', 'output ends with a newline');
  // Every line, once. The allocation may start running before or after the evaluation's own
  // completion is seen (both are true histories); everything else has a fixed order.
  assert.deepEqual([...lines].sort(), [...expected].sort());
  const at = (i: number): number => lines.indexOf(expected[i]!);
  assert.equal(at(0), 0, 'the monitor starts with the evaluation');
  assert.equal(at(7), lines.length - 1, 'and ends with the allocations done');
  assert.ok(at(1) < at(3) && at(3) < at(4), 'evaluation lines in order');
  assert.ok(at(2) < at(5) && at(5) < at(6), 'allocation lines in order');
  // Blocking queries carried the last index and a wait; nothing was polled in a loop.
  const evalGets = api.requests.filter((r) => r.startsWith('GET /v1/evaluation/') && !r.includes('/allocations'));
  assert.ok(evalGets.some((r) => /[?&]index=\d+&wait=30s/.test(r)), evalGets.join('\n'));
  assert.ok(evalGets.length <= 3, `eval polled ${evalGets.length} times`);
  const allocGets = api.requests.filter((r) => r.startsWith('GET /v1/job/example/allocations'));
  // The first look may already find the job done; every later one blocks on the last index.
  assert.ok(allocGets.slice(1).every((r) => /[?&]index=\d+&wait=30s/.test(r)), allocGets.join('\n'));
  assert.ok(allocGets.length <= 4, `allocations polled ${allocGets.length} times`);
});

void test('job status lists jobs and shows one job in Nomad layout', async () => {
  const list = await yurt('status');
  assert.equal(list.code, 0);
  assert.match(list.io.stdout(), /^ID +Type +Priority +Status +Submit Date\nexample +batch +50 +dead +2026-11-22T09:59:00Z\n/);

  const detail = await yurt('job', 'status', 'exa');
  assert.equal(detail.code, 0, detail.io.stderr());
  const out = detail.io.stdout();
  assert.match(out, /^ID +?= example\nName +?= example\nSubmit Date += 2026-11-22T09:59:00Z\nType += batch\n/);
  assert.match(out, /\nSummary\nTask Group +Queued +Starting +Running +Failed +Complete +Lost +Unknown\ncache +0 +0 +0 +0 +1 +0 +0\n/);
  assert.match(out, /\nAllocations\nID +Node ID +Task Group +Version +Desired +Status +Created +Modified\n[0-9a-f]{8} +1f2c3d4e +cache +0 +run +complete +\S+ ago +\S+ ago\n$/);
});

void test('alloc logs by short ID: whole log, -tail -n, -stderr', async () => {
  const allocId = [...api.logs.keys()][0] ?? '';
  const all = await yurt('alloc', 'logs', shortId(allocId));
  assert.equal(all.code, 0, all.io.stderr());
  assert.equal(all.io.stdout(), 'hello from example\nline 2\nline 3\ndone\n');

  const tail = await yurt('alloc', 'logs', '-tail', '-n', '2', shortId(allocId), 'redis');
  assert.equal(tail.io.stdout(), 'line 3\ndone\n');

  const stderr = await yurt('alloc', 'logs', '-stderr', shortId(allocId));
  assert.equal(stderr.code, 0);
  assert.equal(stderr.io.stdout(), '');

  const wrongTask = await yurt('alloc', 'logs', shortId(allocId), 'nginx');
  assert.equal(wrongTask.code, 1);
  assert.equal(wrongTask.io.stderr(), 'Could not find task named: nginx\n');
});

void test('alloc logs -f follows a running task until it finishes', async () => {
  const path = await jobFile('follow');
  const run = await yurt('job', 'run', '-detach', path);
  assert.equal(run.code, 0);
  assert.match(run.io.stdout(), /^Job registration successful\nEvaluation ID: e0a1[0-9a-f-]{32}\n$/);
  let allocId = '';
  while (allocId === '') {
    await new Promise((r) => setTimeout(r, 20));
    allocId = [...api.logs.keys()].find((k) => api.logs.get(k)?.startsWith('hello from follow')) ?? '';
  }
  const f = await yurt('alloc', 'logs', '-f', allocId);
  assert.equal(f.code, 0, f.io.stderr());
  assert.equal(f.io.stdout(), 'hello from follow\nline 2\nline 3\ndone\n');
});

void test('placement failures are printed with reasons and exit 2', async () => {
  const path = await jobFile('big', { unplaceable: 'true' });
  const { code, io } = await yurt('job', 'run', path);
  assert.equal(code, 2);
  const out = io.stdout();
  assert.match(out, /==> \S+: Evaluation "[0-9a-f]{8}" finished with status "complete" but failed to place all allocations:\n {4}\S+: Task Group "cache" \(failed to place 1 allocation\):\n {6}\* Resources exhausted on 1 nodes\n {6}\* Dimension "memory" exhausted on 1 nodes\n {4}\S+: Evaluation "b10c[0-9a-f]{4}" waiting for additional capacity to place remainder\n$/);

  const evalId = /Monitoring evaluation "([0-9a-f]{8})"/.exec(out)?.[1] ?? '';
  const ev = await yurt('eval', 'status', evalId);
  assert.equal(ev.code, 0, ev.io.stderr());
  assert.match(ev.io.stdout(), /Placement Failures = true\n/);
  assert.match(ev.io.stdout(), /\n\nFailed Placements\nTask Group "cache" \(failed to place 1 allocation\):\n {2}\* Resources exhausted on 1 nodes\n/);
});

void test('a failed allocation makes job run exit 2', async () => {
  const path = await jobFile('broken', { fail: 'true' });
  const { code, io } = await yurt('job', 'run', path);
  assert.equal(code, 2);
  assert.match(io.stdout(), /status changed: "running" -> "failed" \(Failed tasks\)\n==> \S+: 1 of 1 allocation of job "broken" \(version 0\) failed\n {4}\S+: Allocation "([0-9a-f]{8})" failed; see "yurt alloc status \1"\n$/);

  const allocId = /Allocation "([0-9a-f]{8})" failed/.exec(io.stdout())?.[1] ?? '';
  const st = await yurt('alloc', 'status', allocId);
  assert.equal(st.code, 0, st.io.stderr());
  assert.match(st.io.stdout(), /^Client Status +?= failed$/m);
  assert.match(st.io.stdout(), /\n\nTask "redis" is "dead"\n/);
  assert.match(st.io.stdout(), /Recent Events:\nTime +Type +Description\n\S+ +Not Restarting +Error was unrecoverable\n/);
});

void test('job run -output prints the API JSON without contacting a server', async () => {
  const path = await jobFile('offline');
  const io = captureIo({ env: { YURT_ADDR: 'http://127.0.0.1:9' }, cwd: dir });
  assert.equal(await runCli(['job', 'run', '-output', path], io), 0);
  const printed = JSON.parse(io.stdout()) as { Job: { ID: string; TaskGroups: Array<{ Name: string }> } };
  assert.equal(printed.Job.ID, 'offline');
  assert.equal(printed.Job.TaskGroups[0]?.Name, 'cache');
  assert.match(io.stdout(), /^\{\n {4}"Job": \{\n/);
});

void test('job stop: a prefix asks first; -yes stops and monitors the evaluation', async () => {
  const cancelled = captureIo({ env: { YURT_ADDR: api.address }, lines: ['n'] });
  assert.equal(await runCli(['job', 'stop', 'exam'], cancelled), 0);
  assert.equal(cancelled.stdout(), 'Are you sure you want to stop job "example"? [y/N]\nCancelling job stop\n');

  const { code, io } = await yurt('job', 'stop', '-yes', 'exam');
  assert.equal(code, 0, io.stderr());
  assert.match(io.stdout(), /Evaluation triggered by job "example"\n.*Evaluation status changed: "pending" -> "complete"\n==> \S+: Evaluation "[0-9a-f]{8}" finished with status "complete"\n$/s);
  const st = await yurt('job', 'status', 'example');
  assert.match(st.io.stdout(), /^Status += dead \(stopped\)$/m);
});

void test('unknown and ambiguous IDs exit 1 with Nomad messages', async () => {
  const none = await yurt('job', 'status', 'nope');
  assert.equal(none.code, 1);
  assert.equal(none.io.stderr(), 'No job(s) with prefix or id "nope" found\n');

  // "broken" and "big" both start with "b".
  const many = await yurt('job', 'inspect', 'b');
  assert.equal(many.code, 1);
  assert.match(many.io.stderr(), /^Prefix matched multiple jobs\n\nID +Type +Priority +Status +Submit Date\nbig +batch/);
});

void test('job inspect prints the job wrapped in "Job"', async () => {
  const { code, io } = await yurt('job', 'inspect', 'example');
  assert.equal(code, 0);
  assert.equal((JSON.parse(io.stdout()) as { Job: { ID: string } }).Job.ID, 'example');
});
