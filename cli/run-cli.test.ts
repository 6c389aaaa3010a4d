import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runYurt, type YurtRun } from './testdata/run-yurt.js';

function yurt(...argv: string[]): Promise<YurtRun> {
  return runYurt(argv);
}

void test('bare `yurt` lists the commands', async () => {
  const r = await yurt();
  assert.equal(r.code, 0);
  assert.match(r.out, /^Usage: yurt \[-version\] \[-help\] <command> \[args\]\n\nCommon commands:\n {4}run +Run a new job or update an existing job\n/);
  assert.match(r.out, /\n {4}job +Interact with jobs\n/);
  // The other commands in alphabetical order, the version last.
  const other = /\nOther commands:\n((?: {4}\S+ +.*\n)+)$/.exec(r.out);
  assert.ok(other, r.out);
  const names = other[1]!.trim().split('\n').map((l) => l.trim().split(/ +/)[0]!);
  for (const n of ['agent-info', 'eval', 'operator', 'server', 'system', 'version']) assert.ok(names.includes(n), `${n} in ${names.join(',')}`);
  assert.deepEqual(names, [...names].sort());
  assert.match(r.out, /\n {4}eval +Interact with evaluations\n/);
  assert.match(r.out, /\n {4}version +Prints the Yurt version\n$/);
});

void test('`yurt job` shows the group help with its subcommands', async () => {
  const r = await yurt('job');
  assert.equal(r.code, 0);
  assert.match(r.out, /^Usage: yurt job <subcommand> \[options\] \[args\]\n/);
  assert.match(r.out, /\nSubcommands:\n {4}allocs +.*\n {4}eval +.*\n {4}history +.*\n {4}init +Create an example job file\n {4}inspect +.*\n {4}plan +.*\n {4}revert +.*\n {4}run +Run a new job or update an existing job\n {4}scale +Change the count of a job and task group\n {4}status +.*\n {4}stop +.*\n {4}validate +.*\n$/);
});

void test('`yurt job run -h` prints the command help with general and run options', async () => {
  for (const flag of ['-h', '-help', '--help']) {
    const r = await yurt('job', 'run', flag);
    assert.equal(r.code, 0);
    assert.match(r.out, /^Usage: yurt job run \[options\] <path>\n\n {2}Starts running a new job/);
    assert.match(r.out, /\nGeneral Options:\n\n {2}-address=<addr>\n {4}The address of the Yurt server\./);
    assert.match(r.out, /\nRun Options:\n\n {2}-detach\n/);
    assert.match(r.out, /\n {2}-var=<key=value>\n/);
  }
});

void test('usage errors exit 2 with a pointer to -help', async () => {
  const bad = await yurt('job', 'status', '-bogus');
  assert.equal(bad.code, 2);
  assert.equal(bad.err, "flag provided but not defined: -bogus\nFor additional help try 'yurt job status -help'\n");

  const extra = await yurt('alloc', 'status');
  assert.equal(extra.code, 2);
  assert.match(extra.err, /^This command takes one argument: <allocation>\n/);

  const unknown = await yurt('job', 'frobnicate');
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /^Unknown command: yurt job frobnicate\n\nUsage: yurt job/);

  const top = await yurt('frobnicate');
  assert.equal(top.code, 2);
  assert.match(top.err, /^Unknown command: yurt frobnicate\n/);
});

void test('version, -version and -v print the package version', async () => {
  for (const argv of [['version'], ['-version'], ['-v']]) {
    const r = await yurt(...argv);
    assert.equal(r.code, 0);
    assert.match(r.out, /^Yurt v\d+\.\d+\.\d+\n$/);
  }
});
