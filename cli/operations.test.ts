/**
 * The plan/history/revert/eval, alloc stop, eval list, `status <id>`, node drain and
 * eligibility, operator, agent-info and system gc commands end to end against the API
 * stand-in (testdata/api-stand-in.ts), in-process with captured output and a fixed clock.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from './run-cli.js';
import { NODE_ID, startStandIn } from './testdata/api-stand-in.js';
import type { StandIn } from './testdata/api-stand-in.js';
import { captureIo } from './testdata/capture-io.js';
import { runYurt, type YurtRun } from './testdata/run-yurt.js';

let api: StandIn;
let dir: string;
const T = '2026-11-22T10:00:00Z';

async function jobFile(name: string, opts: { command?: string; meta?: Record<string, string> } = {}): Promise<string> {
  const path = join(dir, `${name}-${opts.command?.replace(/\W/g, '') ?? 'true'}.json`);
  const job = {
    ID: name,
    Name: name,
    Type: 'batch',
    Datacenters: ['dc1'],
    Meta: opts.meta ?? {},
    TaskGroups: [{ Name: 'cache', Count: 1, Tasks: [{ Name: 'redis', Driver: 'raw_exec', Config: { command: opts.command ?? '/bin/true' } }] }],
  };
  await writeFile(path, JSON.stringify({ Job: job }));
  return path;
}

function yurt(...argv: string[]): Promise<YurtRun> {
  return runYurt(argv, { env: { YURT_ADDR: api.address }, cwd: dir });
}

async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(async () => {
  api = await startStandIn();
  dir = await mkdtemp(join(tmpdir(), 'yurt-cli-ops-'));
});
after(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

const modifyIndexHelp = (index: number, path: string): string => `Job Modify Index: ${index}
To submit the job with version verification run:

yurt job run -check-index ${index} ${path}

When running the job with the check-index flag, the job will only be run if the
job modify index given matches the server-side version. If the index has
changed, another user has modified the job and the plan's results are
potentially invalid.
`;

void test('job plan: a new job would be created (exit 1), in Nomad layout', async () => {
  const path = await jobFile('planned');
  const r = await yurt('job', 'plan', path);
  assert.equal(r.err, '');
  assert.equal(r.code, 1);
  assert.equal(
    r.out,
    `+ Job: "planned"
+ Task Group: "cache" (1 create)
  + Task: "redis" (forces create)

Scheduler dry-run:
- All tasks successfully allocated.

${modifyIndexHelp(0, path)}`,
  );
  const verbose = await yurt('plan', '-verbose', path);
  assert.match(verbose.out, /^\+ Job: "planned"\n\+ Task Group: "cache" \(1 create\)\n  \+ Count: "1"\n  \+ Task: "redis" \(forces create\)\n    \+ Driver: "raw_exec"\n\n/);
});

void test('job plan: an unchanged job exits 0, an edited one shows the field diff and exits 1', async () => {
  const v0 = await jobFile('planned');
  assert.equal((await yurt('job', 'run', '-detach', v0)).code, 0);
  const same = await yurt('job', 'plan', v0);
  assert.equal(same.code, 0, same.err);
  assert.match(same.out, /^Job: "planned"\nTask Group: "cache" \(1 ignore\)\n  Task: "redis"\n\nScheduler dry-run:\n/);
  const index = Number(/Job Modify Index: (\d+)/.exec(same.out)?.[1]);
  assert.ok(index > 0);

  const v1 = await jobFile('planned', { command: '/bin/false' });
  const edited = await yurt('job', 'plan', v1);
  assert.equal(edited.code, 1, edited.err);
  assert.equal(
    edited.out.split('\n\nScheduler')[0],
    `+/- Job: "planned"
+/- Task Group: "cache" (1 create/destroy update)
  +/- Task: "redis" (forces create/destroy update)
    +/- Config {
      +/- command: "/bin/true" => "/bin/false"
        }`,
  );
  assert.match(edited.out, new RegExp(`\\nJob Modify Index: ${index}\\n`));

  const noDiff = await yurt('job', 'plan', '-diff=false', v1);
  assert.match(noDiff.out, /^Scheduler dry-run:\n- All tasks successfully allocated\.\n/);

  const json = await yurt('job', 'plan', '-json', v1);
  assert.equal((JSON.parse(json.out) as { Diff: { Type: string } }).Diff.Type, 'Edited');

  // -check-index: the index plan printed is accepted once; a stale one is refused.
  const stale = await yurt('job', 'run', '-detach', '-check-index', String(index - 1), v1);
  assert.equal(stale.code, 1);
  assert.equal(stale.err, `Error submitting job: Enforcing job modify index ${index - 1}: job exists with conflicting job modify index: ${index}\n`);
  const fresh = await yurt('job', 'run', '-detach', '-check-index', String(index), v1);
  assert.equal(fresh.code, 0, fresh.err);
  const exists = await yurt('job', 'run', '-detach', '-check-index', '0', v1);
  assert.equal(exists.err, 'Error submitting job: Enforcing job modify index 0: job already exists\n');
});

void test('job plan: placement failures are listed; errors exit 255', async () => {
  const big = await jobFile('huge', { meta: { unplaceable: 'true' } });
  const r = await yurt('job', 'plan', big);
  assert.equal(r.code, 1);
  assert.match(
    r.out,
    /\nScheduler dry-run:\n- WARNING: Failed to place all allocations\.\n {2}Task Group "cache" \(failed to place 1 allocation\):\n {4}\* Resources exhausted on 1 nodes\n {4}\* Dimension "memory" exhausted on 1 nodes\n\nJob Modify Index: 0\n/,
  );

  const missingFile = await yurt('job', 'plan', join(dir, 'nope.hcl'));
  assert.equal(missingFile.code, 255);
  assert.match(missingFile.err, /^Error getting job struct: /);

  const usage = await yurt('job', 'plan');
  assert.equal(usage.code, 255);

  api.missing.add('POST /v1/job/:id/plan');
  try {
    const noRoute = await yurt('job', 'plan', big);
    assert.equal(noRoute.code, 255);
    assert.equal(noRoute.err, 'Error during plan: Invalid URL path\n');
  } finally {
    api.missing.delete('POST /v1/job/:id/plan');
  }
});

void test('job history -p shows each version with its diff; revert registers an old version', async () => {
  const h = await yurt('job', 'history', '-p', 'planned');
  assert.equal(h.code, 0, h.err);
  assert.match(
    h.out,
    /^Version += 1\nStable += false\nSubmit Date = 2026-11-22T09:59:00Z\nDiff +=\n\+\/- Job: "planned"\n\+\/- Task Group: "cache"\n  \+\/- Task: "redis" \(forces create\/destroy update\)\n    \+\/- Config \{\n      \+\/- command: "\/bin\/true" => "\/bin\/false"\n        \}\n\n/,
  );
  assert.match(h.out, /\n\nVersion += 0\nStable += false\nSubmit Date = \S+\n$/);

  const one = await yurt('job', 'history', '-version', '0', 'planned');
  assert.equal(one.out, 'Version     = 0\nStable      = false\nSubmit Date = 2026-11-22T09:59:00Z\n');
  const none = await yurt('job', 'history', '-version', '9', 'planned');
  assert.equal(none.code, 1);
  assert.equal(none.err, 'Could not find job version 9 for job "planned"\n');

  const rev = await yurt('job', 'revert', 'planned', '0');
  assert.equal(rev.code, 0, rev.err);
  assert.match(rev.out, /^==> \S+: Monitoring evaluation "[0-9a-f]{8}"\n[\s\S]*finished with status "complete"\n$/);
  const after = await yurt('job', 'inspect', 'planned');
  const job = (JSON.parse(after.out) as { Job: { Version: number; TaskGroups: Array<{ Tasks: Array<{ Config: { command: string } }> }> } }).Job;
  assert.equal(job.Version, 2);
  assert.equal(job.TaskGroups[0]?.Tasks[0]?.Config.command, '/bin/true');

  const bad = await yurt('job', 'revert', 'planned', 'x');
  assert.equal(bad.code, 2);
  const unknown = await yurt('job', 'revert', 'planned', '42');
  assert.equal(unknown.code, 1);
  assert.equal(unknown.err, 'Error retrieving job version: job "planned" has no version 42\n');
});

void test('job eval creates and monitors an evaluation; job allocs lists the allocations', async () => {
  const d = await yurt('job', 'eval', '-detach', 'planned');
  assert.equal(d.code, 0, d.err);
  assert.match(d.out, /^Created eval ID: "e0a1[0-9a-f-]{32}"\n$/);
  const m = await yurt('job', 'eval', 'planned');
  assert.equal(m.code, 0, m.err);
  assert.match(m.out, /Evaluation "[0-9a-f]{8}" finished with status "complete"\n$/);

  const a = await yurt('job', 'allocs', 'planned');
  assert.equal(a.code, 0, a.err);
  assert.match(a.out, /^ID +Node ID +Task Group +Version +Desired +Status +Created +Modified\n[0-9a-f]{8} +1f2c3d4e +cache +/);
  const json = await yurt('job', 'allocs', '-json', 'planned');
  assert.ok((JSON.parse(json.out) as unknown[]).length >= 1);
});

void test('eval list shows Nomad columns and filters by job', async () => {
  let r = await yurt('eval', 'list', '-job', 'planned');
  // Evaluations of detached runs may still be finishing.
  for (let i = 0; / pending /.test(r.out); i++) {
    assert.ok(i < 100, r.out);
    await new Promise((res) => setTimeout(res, 50));
    r = await yurt('eval', 'list', '-job', 'planned');
  }
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^ID +Priority +Triggered By +Job ID +Namespace +Node ID +Status +Placement Failures$/);
  assert.ok(lines.length > 2);
  for (const l of lines.slice(1)) assert.match(l, /^[0-9a-f]{8} +50 +job-register +planned +default +<none> +complete +false$/);
  const none = await yurt('eval', 'list', '-job', 'nothing');
  assert.equal(none.out, 'No evals found\n');
});

void test('alloc stop stops the allocation and monitors the follow-up evaluation', async () => {
  const path = await jobFile('longrun', { meta: { long: 'true' } });
  assert.equal((await yurt('job', 'run', '-detach', path)).code, 0);
  let allocId = '';
  await until('a running allocation', () => {
    allocId = [...api.logs.keys()].find((k) => api.logs.get(k)?.startsWith('hello from longrun')) ?? '';
    return allocId !== '';
  });
  const r = await yurt('alloc', 'stop', allocId.slice(0, 8));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^==> \S+: Monitoring evaluation "[0-9a-f]{8}"\n/);
  assert.match(r.out, /Evaluation "[0-9a-f]{8}" finished with status "complete"\n$/);
  const st = await yurt('alloc', 'status', allocId.slice(0, 8));
  assert.match(st.out, /^Desired Status +?= stop$/m);
});

void test('status <id> finds jobs, allocations, nodes and evaluations by prefix', async () => {
  const job = await yurt('status', 'planned');
  assert.equal(job.code, 0, job.err);
  assert.match(job.out, /^ID +?= planned\n/);

  const node = await yurt('status', '1f2c');
  assert.equal(node.code, 0, node.err);
  assert.match(node.out, /^ID += 1f2c3d4e\nName += node1\n/);

  const evals = await yurt('status', 'e0a1');
  assert.equal(evals.code, 1);
  assert.match(evals.err, /^Multiple matches found for id "e0a1"\n\nEvals:\ne0a1[0-9a-f-]{32}, e0a1/);

  const allocId = [...api.logs.keys()][0] ?? '';
  const alloc = await yurt('status', allocId.slice(0, 8));
  assert.equal(alloc.code, 0, alloc.err);
  assert.match(alloc.out, new RegExp(`^ID += ${allocId}\\n`));

  const none = await yurt('status', 'zzz');
  assert.equal(none.code, 1);
  assert.equal(none.err, 'No matches found for id "zzz"\n');

  const list = await yurt('status');
  assert.match(list.out, /^ID +Type +Priority +Status +Submit Date\n/);
});

void test('node eligibility and node status -self', async () => {
  const off = await yurt('node', 'eligibility', '-disable', '1f2c');
  assert.equal(off.code, 0, off.err);
  assert.equal(off.out, `Node "${NODE_ID}" scheduling eligibility set: ineligible for scheduling\n`);
  const self = await yurt('node', 'status', '-self', '-verbose');
  assert.equal(self.code, 0, self.err);
  assert.match(self.out, new RegExp(`^ID += ${NODE_ID}\\n`));
  assert.match(self.out, /^Eligibility += ineligible$/m);
  assert.match(self.out, /\nAttributes\ncpu\.arch += amd64\nkernel\.name += linux\n/);
  const on = await yurt('node', 'eligibility', '-enable', '-self');
  assert.equal(on.out, `Node "${NODE_ID}" scheduling eligibility set: eligible for scheduling\n`);
  const neither = await yurt('node', 'eligibility', '1f2c');
  assert.equal(neither.code, 2);
  assert.match(neither.err, /^Either the '-enable' or '-disable' flag must be set\n/);
});

void test('node drain -enable monitors each allocation until the node is empty', async () => {
  const path = await jobFile('drained', { meta: { long: 'true' } });
  assert.equal((await yurt('job', 'run', '-detach', path)).code, 0);
  let allocId = '';
  await until('a running allocation', () => {
    allocId = [...api.logs.keys()].find((k) => api.logs.get(k)?.startsWith('hello from drained')) ?? '';
    return allocId !== '' && api.requests.length > 0;
  });
  // Wait until it runs, so the drain has a running allocation to move.
  for (let i = 0; !(await yurt('alloc', 'status', allocId)).out.includes('Client Status       = running'); i++) {
    assert.ok(i < 100, 'allocation never started');
    await new Promise((r) => setTimeout(r, 50));
  }

  const cancelled = captureIo({ env: { YURT_ADDR: api.address }, lines: ['n'] });
  assert.equal(await runCli(['node', 'drain', '-enable', '-self'], cancelled), 0);
  assert.equal(cancelled.stdout(), `Are you sure you want to enable drain mode for node "${NODE_ID}"? [y/N]\nCanceling drain toggle\n`);

  const r = await yurt('node', 'drain', '-enable', '-yes', '-deadline', '10m', '-self');
  assert.equal(r.code, 0, r.err);
  // Allocations of earlier detached jobs may still be on the node; this job's is followed exactly.
  const lines = r.out.split('\n');
  for (const l of lines.filter((x) => x.includes('Alloc "') && !x.includes(allocId))) {
    assert.match(l, /^\S+: Alloc "a110[0-9a-f-]{32}" (marked for migration|draining|status \w+ -> \w+)$/);
  }
  assert.equal(
    lines.filter((x) => !x.includes('Alloc "') || x.includes(allocId)).join('\n'),
    [
      `${T}: Node "${NODE_ID}" drain strategy set`,
      `${T}: Ctrl-C to stop monitoring: will not cancel the node drain`,
      `${T}: Alloc "${allocId}" marked for migration`,
      `${T}: Alloc "${allocId}" draining`,
      `${T}: Alloc "${allocId}" status running -> complete`,
      `${T}: Node "${NODE_ID}" has marked all allocations for migration`,
      `${T}: All allocations on node "${NODE_ID}" have stopped`,
      '',
    ].join('\n'),
  );
  const drainReq = api.requests.filter((q) => q.startsWith(`POST /v1/node/${NODE_ID}/drain`));
  assert.equal(drainReq.length, 1);

  const off = await yurt('node', 'drain', '-disable', '-yes', '1f2c');
  assert.equal(off.code, 0, off.err);
  assert.equal(off.out, `${T}: Node "${NODE_ID}" drain strategy unset\n`);
  const both = await yurt('node', 'drain', '-enable', '-force', '-no-deadline', '-self');
  assert.equal(both.code, 2);
});

void test('operator raft list-peers and scheduler get-config / set-config', async () => {
  const peers = await yurt('operator', 'raft', 'list-peers');
  assert.equal(peers.code, 0, peers.err);
  assert.equal(
    peers.out,
    'Node            ID  Address         State     Voter  RaftProtocol\nserver1.global  s1  127.0.0.1:4647  leader    true   3\ns2              s2  127.0.0.2:4647  follower  true   3\n',
  );

  const get = await yurt('operator', 'scheduler', 'get-config');
  assert.equal(
    get.out,
    `Scheduler Algorithm           = binpack
Memory Oversubscription       = false
Reject Job Registration       = false
Pause Eval Broker             = false
Preemption System Scheduler   = true
Preemption Service Scheduler  = false
Preemption Batch Scheduler    = false
Preemption SysBatch Scheduler = false
`,
  );
  const set = await yurt('operator', 'scheduler', 'set-config', '-scheduler-algorithm=spread', '-memory-oversubscription=true');
  assert.equal(set.code, 0, set.err);
  assert.equal(set.out, 'Scheduler configuration updated!\n');
  const after = await yurt('operator', 'scheduler', 'get-config', '-json');
  const cfg = JSON.parse(after.out) as { SchedulerAlgorithm: string; MemoryOversubscriptionEnabled: boolean; PreemptionConfig: { SystemSchedulerEnabled: boolean } };
  assert.deepEqual([cfg.SchedulerAlgorithm, cfg.MemoryOversubscriptionEnabled, cfg.PreemptionConfig.SystemSchedulerEnabled], ['spread', true, true]);

  const stale = await yurt('operator', 'scheduler', 'set-config', '-check-index', '1', '-pause-eval-broker=true');
  assert.equal(stale.code, 1);
  assert.equal(stale.err, 'Scheduler configuration could not be atomically updated, try again\n');
  const bad = await yurt('operator', 'scheduler', 'set-config', '-scheduler-algorithm=random');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /^Invalid scheduler algorithm "random"/);
});

void test('agent-info prints the stats sections; system gc is silent, and fails clearly where the route is missing', async () => {
  const info = await yurt('agent-info');
  assert.equal(info.code, 0, info.err);
  assert.equal(info.out, `client\n  known_servers = 127.0.0.1:4647\n  node_id = ${NODE_ID}\nnomad\n  leader = true\n  server = true\nraft\n  state = Leader\n`);

  const gc = await yurt('system', 'gc');
  assert.equal(gc.code, 0, gc.err);
  assert.equal(gc.out, '');
  assert.ok(api.requests.includes('PUT /v1/system/gc'));

  api.missing.add('PUT /v1/system/gc');
  const missing = await yurt('system', 'gc');
  assert.equal(missing.code, 1);
  assert.equal(missing.err, 'Error running system garbage-collection: Invalid URL path\n');
});
