import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { jobToApiJSON, parseJobJSON } from './parse-json.js';
import { parseJobHCL } from './parse-hcl.js';
import { EXAMPLE_JOB, EXAMPLE_JOB_SHORT } from './example-job.js';
import { ValidationError, YurtError } from '../errors.js';

async function testdata(name: string): Promise<string> {
  return readFile(new URL(`./testdata/${name}`, import.meta.url), 'utf8');
}

function rejects(body: unknown, message: string): void {
  assert.throws(
    () => parseJobJSON(body),
    (e: unknown) => {
      assert.ok(e instanceof ValidationError, `not a ValidationError: ${String(e)}`);
      assert.equal(e.message, message);
      return true;
    },
  );
}

void test('round trip: HCL -> Job -> JSON text -> parseJobJSON gives the same job', async () => {
  const files: Array<[string, string]> = [
    ['full.hcl', await testdata('full.hcl')],
    ['periodic.hcl', await testdata('periodic.hcl')],
    ['dispatch.hcl', await testdata('dispatch.hcl')],
    ['example.hcl', EXAMPLE_JOB],
    ['short.hcl', EXAMPLE_JOB_SHORT],
  ];
  for (const [filename, src] of files) {
    const job = await parseJobHCL(src, { filename });
    const wire = JSON.stringify(jobToApiJSON(job));
    assert.deepStrictEqual(parseJobJSON(JSON.parse(wire)), job, `${filename} via the envelope`);
    assert.deepStrictEqual(parseJobJSON(JSON.stringify(job)), job, `${filename} as a bare job in JSON text`);
  }
});

void test('jobToApiJSON wraps the job the way Nomad\'s register request does', async () => {
  const job = await parseJobHCL(EXAMPLE_JOB_SHORT, { filename: 'short.hcl' });
  const wrapped = jobToApiJSON(job);
  assert.deepEqual(Object.keys(wrapped), ['Job']);
  assert.equal(wrapped.Job, job);
});

void test('Nomad API JSON, nulls and Nomad-only empty fields included, is accepted and completed', async () => {
  const job = parseJobJSON(JSON.parse(await testdata('nomad-api.json')));
  assert.equal(job.ID, 'example');
  assert.equal(job.Priority, 50);
  assert.equal(job.Region, 'global');
  const g = job.TaskGroups[0];
  const t = g?.Tasks[0];
  assert.equal(t?.Resources.CPU, 500);
  assert.equal(t.Resources.MemoryMB, 256);
  assert.deepEqual(t.Config, { image: 'redis:7', ports: ['db'] });
  assert.deepEqual(g?.Networks[0]?.DynamicPorts, [{ Label: 'db', Value: 0, To: 6379, HostNetwork: 'default' }]);
  assert.equal(g.Networks[0]?.Mode, 'host');
  assert.equal(g.ReschedulePolicy?.Unlimited, true);
});

void test('field names match case-insensitively, as in Go\'s encoding/json', () => {
  const job = parseJobJSON({ id: 'lower', taskgroups: [{ name: 'g', tasks: [{ name: 't', driver: 'exec' }] }] });
  assert.equal(job.ID, 'lower');
  assert.equal(job.TaskGroups[0]?.Tasks[0]?.Driver, 'exec');
});

void test('unknown fields of Job, TaskGroup and Task are refused', () => {
  rejects(
    { ID: 'x', Colour: 'red', TaskGroups: [{ Name: 'g', Cnt: 2, Tasks: [{ Name: 't', Driver: 'exec', Drivr: 'exec' }] }] },
    [
      'job "x": 3 errors occurred:',
      '  * Colour: unknown field "Colour"',
      '  * TaskGroups[0].Cnt: unknown field "Cnt"',
      '  * TaskGroups[0].Tasks[0].Drivr: unknown field "Drivr"',
    ].join('\n'),
  );
});

void test('Nomad fields yurt does not implement are refused when they carry a value', () => {
  rejects(
    { ID: 'x', Multiregion: { Regions: [{ Name: 'eu' }] }, TaskGroups: [{ Name: 'g', Scaling: null, Tasks: [{ Name: 't', Driver: 'exec', Vault: { Policies: ['db'] } }] }] },
    [
      'job "x": 2 errors occurred:',
      '  * Multiregion: Multiregion is not supported by yurt; leave it out or empty',
      '  * TaskGroups[0].Tasks[0].Vault: Vault is not supported by yurt; leave it out or empty',
    ].join('\n'),
  );
});

void test('values of the wrong JSON type are refused with their path', () => {
  rejects(
    { Job: { ID: 'x', Datacenters: 'dc1', Meta: { a: 1 }, TaskGroups: [{ Name: 'g', Count: '3', Tasks: [{ Name: 't', Driver: 'exec', KillTimeout: '5s' }] }, null] } },
    [
      'job "x": 5 errors occurred:',
      '  * Datacenters: must be a list, got string "dc1"',
      '  * Meta["a"]: must be a string, got number 1',
      '  * TaskGroups[0].Count: must be an integer, got string "3"',
      '  * TaskGroups[0].Tasks[0].KillTimeout: must be an integer number of nanoseconds, got string "5s"',
      '  * TaskGroups[1]: must not be null',
    ].join('\n'),
  );
});

void test('a well-typed job still has to be valid', () => {
  rejects(
    { ID: 'x', TaskGroups: [{ Name: 'g', Count: -1, Tasks: [{ Name: 't' }] }] },
    'job "x": 2 errors occurred:\n  * TaskGroups[0].Count: must be >= 0\n  * TaskGroups[0].Tasks[0].Driver: missing driver',
  );
});

void test('job-level Reschedule and Migrate, as Nomad clients send them, reach the groups', () => {
  const job = parseJobJSON({ ID: 'x', Reschedule: { Delay: 60_000_000_000 }, Migrate: { MaxParallel: 3 }, TaskGroups: [{ Name: 'g', Tasks: [{ Name: 't', Driver: 'exec' }] }] });
  assert.equal(job.TaskGroups[0]?.ReschedulePolicy?.Delay, 60_000_000_000);
  assert.equal(job.TaskGroups[0]?.Migrate?.MaxParallel, 3);
});

void test('bodies that are not a job object are refused', () => {
  rejects(42, 'job: 1 error occurred:\n  * Job: a job must be a JSON object');
  rejects({ Job: [] }, 'job: 1 error occurred:\n  * Job: a job must be a JSON object');
  assert.throws(
    () => parseJobJSON('{"Job": '),
    (e: unknown) => e instanceof YurtError && e.code === 'parse_error' && e.message.startsWith('invalid JSON: '),
  );
});
