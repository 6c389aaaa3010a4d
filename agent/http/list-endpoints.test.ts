/* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return --
   responses are Nomad's JSON, probed field by field; the assertions are the shape check. */
/**
 * The list and job endpoints added on top of the core API, against a real dev agent:
 * `filter` and paging on every list, /v1/evaluations/count, /v1/job/:id/scale, the
 * deployment reads, and the read-only allocation filesystem with its confinement.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '../testing/agent-process.js';
import { call } from './testing/api-harness.js';
import { findAllocDir, registerHcl, runningAllocs, sleeperHcl, startDevAgent, type DevAgent } from './testing/dev-agent.js';

let dev: DevAgent;

before(async () => {
  dev = await startDevAgent();
  await registerHcl(dev.url, sleeperHcl('alpha', 1, { team: 'red' }));
  await registerHcl(dev.url, sleeperHcl('beta', 1, { team: 'blue' }));
  await registerHcl(dev.url, sleeperHcl('gamma', 1, { team: 'red' }));
  await runningAllocs(dev.url, 'alpha', 1);
});

after(async () => {
  await dev.stop();
});

void test('filter on the list endpoints: matches, bad expressions are 400 with the parse error', async () => {
  const jobs = await call(dev.url, 'GET', `/v1/jobs?filter=${encodeURIComponent('ID matches "^(alpha|gamma)$"')}`);
  assert.equal(jobs.status, 200, jobs.text);
  assert.deepEqual(jobs.json.map((j: { ID: string }) => j.ID), ['alpha', 'gamma']);
  const byStatus = await call(dev.url, 'GET', `/v1/jobs?filter=${encodeURIComponent('Status == "running" and ID != "beta"')}`);
  assert.ok(byStatus.json.every((j: { ID: string; Status: string }) => j.ID !== 'beta' && j.Status === 'running'));
  const allocs = await call(dev.url, 'GET', `/v1/allocations?filter=${encodeURIComponent('JobID == "alpha"')}`);
  assert.equal(allocs.json.length, 1);
  assert.equal(allocs.json[0].JobID, 'alpha');
  const evals = await call(dev.url, 'GET', `/v1/evaluations?filter=${encodeURIComponent('JobID == "beta" and TriggeredBy == "job-register"')}`);
  assert.ok(evals.json.length >= 1);
  assert.ok(evals.json.every((e: { JobID: string }) => e.JobID === 'beta'));
  const nodes = await call(dev.url, 'GET', `/v1/nodes?filter=${encodeURIComponent('Status == "ready"')}`);
  assert.equal(nodes.json.length, 1);
  const none = await call(dev.url, 'GET', `/v1/nodes?filter=${encodeURIComponent('Status == "down"')}`);
  assert.deepEqual(none.json, []);

  for (const path of ['/v1/jobs', '/v1/allocations', '/v1/evaluations', '/v1/nodes', '/v1/deployments', '/v1/evaluations/count']) {
    const bad = await call(dev.url, 'GET', `${path}?filter=${encodeURIComponent('Status = "x"')}`);
    assert.equal(bad.status, 400, `${path}: ${bad.text}`);
    assert.match(bad.text, /failed to parse filter expression/);
  }
});

void test('paging: per_page and next_token walk a list without gaps or repeats; X-Nomad-NextToken marks more', async () => {
  const seen: string[] = [];
  let token = '';
  for (let page = 0; page < 10; page++) {
    const r = await call(dev.url, 'GET', `/v1/jobs?per_page=2${token !== '' ? `&next_token=${encodeURIComponent(token)}` : ''}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.length <= 2);
    seen.push(...r.json.map((j: { ID: string }) => j.ID));
    token = r.headers.get('x-nomad-nexttoken') ?? '';
    if (token === '') break;
  }
  assert.deepEqual(seen, ['alpha', 'beta', 'gamma']);
  const first = await call(dev.url, 'GET', '/v1/jobs?per_page=2');
  assert.equal(first.headers.get('x-nomad-nexttoken'), 'gamma');
  const last = await call(dev.url, 'GET', '/v1/jobs?per_page=2&next_token=gamma');
  assert.equal(last.headers.get('x-nomad-nexttoken'), null);
  const filteredPage = await call(dev.url, 'GET', `/v1/jobs?per_page=1&filter=${encodeURIComponent('Meta.team == "red"')}`);
  assert.deepEqual(filteredPage.json.map((j: { ID: string }) => j.ID), ['alpha']);
  assert.equal(filteredPage.headers.get('x-nomad-nexttoken'), 'gamma', 'the token skips what the filter drops');
  const reverse = await call(dev.url, 'GET', '/v1/jobs?reverse=true');
  assert.deepEqual(reverse.json.map((j: { ID: string }) => j.ID), ['gamma', 'beta', 'alpha']);
  const evalsPage = await call(dev.url, 'GET', '/v1/evaluations?per_page=1');
  assert.equal(evalsPage.json.length, 1);
  assert.ok(evalsPage.headers.get('x-nomad-nexttoken'));
  const bad = await call(dev.url, 'GET', '/v1/jobs?per_page=-1');
  assert.equal(bad.status, 400);
});

void test('GET /v1/evaluations/count counts what the filter keeps', async () => {
  const all = await call(dev.url, 'GET', '/v1/evaluations');
  const count = await call(dev.url, 'GET', '/v1/evaluations/count');
  assert.equal(count.status, 200, count.text);
  assert.deepEqual(Object.keys(count.json), ['Count']);
  assert.equal(count.json.Count, all.json.length);
  const beta = await call(dev.url, 'GET', `/v1/evaluations/count?filter=${encodeURIComponent('JobID == "beta"')}`);
  assert.equal(beta.json.Count, all.json.filter((e: { JobID: string }) => e.JobID === 'beta').length);
});

void test('/v1/job/:id/scale: status, a scale-up through a new job version, and bad requests that change nothing', async () => {
  const before = await call(dev.url, 'GET', '/v1/job/beta/scale');
  assert.equal(before.status, 200, before.text);
  assert.equal(before.json.JobID, 'beta');
  assert.equal(before.json.JobStopped, false);
  assert.deepEqual(Object.keys(before.json.TaskGroups), ['g']);
  assert.equal(before.json.TaskGroups.g.Desired, 1);
  const version = (await call(dev.url, 'GET', '/v1/job/beta')).json.Version as number;

  const up = await call(dev.url, 'POST', '/v1/job/beta/scale', { Count: 2, Target: { Group: 'g' }, Message: 'more' });
  assert.equal(up.status, 200, up.text);
  assert.ok(up.json.EvalID, 'scaling creates an evaluation');
  const job = (await call(dev.url, 'GET', '/v1/job/beta')).json;
  assert.equal(job.TaskGroups[0].Count, 2);
  assert.equal(job.Version, version + 1, 'a new job version');
  await runningAllocs(dev.url, 'beta', 2);
  const status = await eventually(async () => {
    const s = await call(dev.url, 'GET', '/v1/job/beta/scale');
    return s.json.TaskGroups.g.Running === 2 ? s.json : undefined;
  }, 20_000, 'two running');
  assert.equal(status.TaskGroups.g.Desired, 2);
  assert.equal(status.TaskGroups.g.Placed, 2);

  const index = (await call(dev.url, 'GET', '/v1/job/beta')).json.ModifyIndex as number;
  const bad: Array<[string, unknown, number]> = [
    ['/v1/job/beta/scale', '{nope', 400],
    ['/v1/job/beta/scale', { Count: -1, Target: { Group: 'g' } }, 400],
    ['/v1/job/beta/scale', { Count: 'two', Target: { Group: 'g' } }, 400],
    ['/v1/job/beta/scale', { Count: 1 }, 400],
    ['/v1/job/beta/scale', { Count: 1, Target: { Group: 'nope' } }, 404],
    ['/v1/job/beta/scale', { Count: 1, Target: { Group: 'g', Job: 'alpha' } }, 400],
    ['/v1/job/nope/scale', { Count: 1, Target: { Group: 'g' } }, 404],
  ];
  for (const [path, body, want] of bad) {
    const r = await call(dev.url, 'POST', path, body);
    assert.equal(r.status, want, `${JSON.stringify(body)}: ${r.text}`);
    assert.ok(r.text.trim().length > 0, 'an error says why');
  }
  assert.equal((await call(dev.url, 'GET', '/v1/job/beta')).json.ModifyIndex, index, 'nothing changed');
  assert.equal((await call(dev.url, 'GET', '/v1/job/nope/scale')).status, 404);
});

void test('deployment reads: the service job has its deployment; unknown IDs and jobs have none', async () => {
  const list = await call(dev.url, 'GET', '/v1/deployments');
  assert.equal(list.status, 200);
  assert.ok(list.json.some((d: { JobID: string }) => d.JobID === 'alpha'));
  assert.ok(list.headers.get('x-nomad-index'));
  const one = await call(dev.url, 'GET', '/v1/deployment/00000000-0000-0000-0000-000000000000');
  assert.equal(one.status, 404);
  const jobList = await call(dev.url, 'GET', '/v1/job/alpha/deployments');
  assert.equal(jobList.json.length, 1);
  const latest = await call(dev.url, 'GET', '/v1/job/alpha/deployment');
  assert.equal(latest.status, 200);
  assert.equal(latest.json.JobID, 'alpha');
  assert.deepEqual((await call(dev.url, 'GET', '/v1/job/nope/deployments')).json, []);
  assert.equal((await call(dev.url, 'GET', '/v1/job/nope/deployment')).json, null);
});

void test('/v1/client/fs/{ls,stat,cat}: read-only, confined to the allocation directory', async () => {
  const [alloc] = await runningAllocs(dev.url, 'alpha', 1);
  const id = alloc!.ID;
  const root = findAllocDir(dev.dataDir, id);
  await eventually(async () => {
    const r = await fetch(`${dev.url}/v1/client/fs/cat/${id}?path=alloc/logs/t.stdout.0`);
    return (await r.text()) === 'started\n' ? true : undefined;
  }, 20_000, 'task output');

  const ls = await call(dev.url, 'GET', `/v1/client/fs/ls/${id}?path=/`);
  assert.equal(ls.status, 200, ls.text);
  const names = ls.json.map((f: { Name: string }) => f.Name);
  assert.ok(names.includes('alloc'), names.join(','));
  const allocDir = ls.json.find((f: { Name: string }) => f.Name === 'alloc');
  assert.equal(allocDir.IsDir, true);
  assert.match(allocDir.FileMode, /^d[rwx-]{9}$/);
  assert.ok(!Number.isNaN(Date.parse(allocDir.ModTime)));

  const st = await call(dev.url, 'GET', `/v1/client/fs/stat/${id}?path=alloc/logs/t.stdout.0`);
  assert.equal(st.status, 200, st.text);
  assert.deepEqual(
    { Name: st.json.Name, IsDir: st.json.IsDir, Size: st.json.Size },
    { Name: 't.stdout.0', IsDir: false, Size: 'started\n'.length },
  );
  assert.match(st.json.FileMode, /^-[rwx-]{9}$/);

  // A link that stays inside is followed; one that leads out is refused.
  mkdirSync(join(root, 'alloc', 'data'), { recursive: true });
  writeFileSync(join(root, 'alloc', 'data', 'inside.txt'), 'inside');
  symlinkSync(join(root, 'alloc', 'data', 'inside.txt'), join(root, 'alloc', 'data', 'ok-link'));
  symlinkSync('/etc/passwd', join(root, 'alloc', 'data', 'escape'));
  symlinkSync('/etc', join(root, 'alloc', 'data', 'etc-dir'));
  execFileSync('mkfifo', [join(root, 'alloc', 'data', 'pipe')]);
  const ok = await fetch(`${dev.url}/v1/client/fs/cat/${id}?path=alloc/data/ok-link`);
  assert.equal(await ok.text(), 'inside');
  const refused: Array<[string, string, number]> = [
    ['cat', 'alloc/data/escape', 403],
    ['stat', 'alloc/data/escape', 403],
    ['ls', 'alloc/data/etc-dir', 403],
    ['cat', 'alloc/data/etc-dir/passwd', 403],
    ['cat', '../../../../etc/passwd', 400],
    ['ls', '..', 400],
    ['stat', 'alloc/../../x', 400],
    ['cat', 'alloc/nope.txt', 404],
    ['cat', '', 400],
    ['cat', 'alloc', 400],
    ['cat', 'alloc/data/pipe', 400],
  ];
  for (const [op, path, want] of refused) {
    const r = await call(dev.url, 'GET', `/v1/client/fs/${op}/${id}?path=${encodeURIComponent(path)}`);
    assert.equal(r.status, want, `${op} ${path}: ${r.text}`);
    assert.doesNotMatch(r.text, /root:/, 'no host file content leaks');
  }
  const unknown = await call(dev.url, 'GET', '/v1/client/fs/ls/00000000-0000-0000-0000-000000000000');
  assert.equal(unknown.status, 404);
});
