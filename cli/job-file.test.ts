import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { YurtError } from '../structs/errors.js';
import { EXAMPLE_JOB, EXAMPLE_JOB_SHORT } from '../structs/jobspec/index.js';
import { loadJobFile, looksLikeJson, parseJsonText } from './job-file.js';
import { runCli } from './run-cli.js';
import { captureIo } from './testdata/capture-io.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yurt-jobfile-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const jsonJob = JSON.stringify({
  Job: { ID: 'web', Name: 'web', Type: 'service', Datacenters: ['dc1'], TaskGroups: [{ Name: 'g', Count: 1, Tasks: [{ Name: 't', Driver: 'raw_exec', Config: { command: '/bin/true' } }] }] },
});

const hclJob = `variable "image" {
  type    = string
  default = "redis:7"
}

job "cache" {
  datacenters = ["dc1"]
  group "cache" {
    task "redis" {
      driver = "docker"
      config {
        image = var.image
      }
    }
  }
}
`;

void test('JSON is recognised by its first character', () => {
  assert.equal(looksLikeJson('  \n{"Job": {}}'), true);
  assert.equal(looksLikeJson('job "x" {}'), false);
});

void test('JSON syntax errors say where', () => {
  assert.throws(
    () => parseJsonText('{\n  "Job": {\n    "ID": "x",\n  }\n}', 'job.json'),
    (e: unknown) => e instanceof YurtError && e.code === 'parse_error' && /^job\.json(:4,3)?: invalid JSON: /.test(e.message),
  );
});

void test('a missing file is reported as the Go client words it', async () => {
  const io = captureIo({ cwd: dir });
  await assert.rejects(loadJobFile(io, 'nope.hcl', { vars: [], varFiles: [] }), (e: unknown) => e instanceof YurtError && e.message === 'Error getting jobfile from "nope.hcl": open nope.hcl: no such file or directory');
});

void test('variables cannot be used with JSON job files', async () => {
  await writeFile(join(dir, 'web.json'), jsonJob);
  const io = captureIo({ cwd: dir });
  await assert.rejects(loadJobFile(io, 'web.json', { vars: ['a=1'], varFiles: [] }), /cannot use variables with JSON files/);
});

void test('job run -output reads a JSON job from stdin', async () => {
  const io = captureIo({ cwd: dir, stdin: jsonJob });
  assert.equal(await runCli(['job', 'run', '-output', '-'], io), 0, io.stderr());
  assert.equal((JSON.parse(io.stdout()) as { Job: { ID: string } }).Job.ID, 'web');
});

void test('job run -output parses HCL with -var overriding a variable default', async () => {
  await writeFile(join(dir, 'cache.hcl'), hclJob);
  const io = captureIo({ cwd: dir });
  assert.equal(await runCli(['job', 'run', '-output', '-var', 'image=redis:8', 'cache.hcl'], io), 0, io.stderr());
  const job = (JSON.parse(io.stdout()) as { Job: { ID: string; TaskGroups: Array<{ Tasks: Array<{ Config: { image: string } }> }> } }).Job;
  assert.equal(job.ID, 'cache');
  assert.equal(job.TaskGroups[0]?.Tasks[0]?.Config.image, 'redis:8');
});

void test('job validate: success, and a parse error naming the file with exit 1', async () => {
  await writeFile(join(dir, 'ok.json'), jsonJob);
  const ok = captureIo({ cwd: dir });
  assert.equal(await runCli(['job', 'validate', 'ok.json'], ok), 0, ok.stderr());
  assert.equal(ok.stdout(), 'Job validation successful\n');

  await writeFile(join(dir, 'bad.hcl'), 'job "x" {\n  group "g" {\n');
  const bad = captureIo({ cwd: dir });
  assert.equal(await runCli(['job', 'validate', 'bad.hcl'], bad), 1);
  assert.match(bad.stderr(), /^Error getting job struct: Error parsing job file from bad\.hcl:\n.*bad\.hcl/);
});

void test('job run with a malformed -var is a usage error', async () => {
  const io = captureIo({ cwd: dir });
  assert.equal(await runCli(['job', 'run', '-output', '-var', 'novalue', 'cache.hcl'], io), 2);
  assert.match(io.stderr(), /^invalid -var "novalue": expected key=value\n/);
});

void test('job init writes the example, never overwrites, and -short writes the short one', async () => {
  const io = captureIo({ cwd: dir });
  assert.equal(await runCli(['job', 'init'], io), 0);
  assert.equal(io.stdout(), 'Example job file written to example.hcl\n');
  assert.equal(await readFile(join(dir, 'example.hcl'), 'utf8'), EXAMPLE_JOB);

  const again = captureIo({ cwd: dir });
  assert.equal(await runCli(['job', 'init'], again), 1);
  assert.equal(again.stderr(), "Job 'example.hcl' already exists\n");
  assert.equal(await readFile(join(dir, 'example.hcl'), 'utf8'), EXAMPLE_JOB, 'the existing file is untouched');

  const short = captureIo({ cwd: dir });
  assert.equal(await runCli(['job', 'init', '-short', 'short.hcl'], short), 0);
  assert.equal(await readFile(join(dir, 'short.hcl'), 'utf8'), EXAMPLE_JOB_SHORT);
});
