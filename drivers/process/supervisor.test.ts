import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { YurtError } from '../../structs/errors.js';
import { findProgram } from './command-config.js';
import { parseProcStat } from './proc-stat.js';
import { parseSignal } from './signals.js';
import { exitResultFromStatus, launchSupervised, readExitStatus, type LaunchSpec } from './supervisor.js';
import { decodeTaskState } from './task-state.js';

let dir = '';
let setsid = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yurt-sup-'));
  setsid = (await findProgram('setsid')) ?? assert.fail('setsid (util-linux) is needed');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const spec = (name: string, argv: string[], extra: Partial<LaunchSpec> = {}): LaunchSpec => ({
  argv, setsid, cwd: dir, env: {}, joinFiles: [],
  stdoutPath: join(dir, `${name}.out`), stderrPath: join(dir, `${name}.err`), statusPath: join(dir, `${name}.status`),
  ...extra,
});
const exists = (p: string) => access(p).then(() => true, () => false);

void describe('supervisor', () => {
  void it('starts the task in its own session and records its exit status', async () => {
    const s = spec('ok', ['/bin/sh', '-c', 'echo "sid=$(cut -d" " -f6 /proc/$$/stat)"; exit 5']);
    const l = await launchSupervised(s);
    await new Promise<void>((r) => (l.child.exitCode !== null ? r() : l.child.once('exit', () => r())));
    assert.equal(await readFile(s.stdoutPath, 'utf8'), `sid=${l.pid}\n`);
    assert.equal(await readExitStatus(s.statusPath), 5);
  });

  void it('a failed cgroup join fails the launch with the reason and leaves no record', async () => {
    const s = spec('join', ['/bin/true'], { joinFiles: [join(dir, 'no-such-cgroup', 'cgroup.procs')] });
    await assert.rejects(launchSupervised(s), (e: unknown) => e instanceof YurtError && /cannot join cgroup .*no-such-cgroup/.test(e.message));
    assert.equal(await exists(s.statusPath), false);
  });

  void it('a program line that never reports ready fails the launch', async () => {
    const s = spec('noready', ['/bin/sh', '-c', 'exit 0'], { reportsReady: true });
    await assert.rejects(launchSupervised(s), /exited before the task started/);
    assert.equal(await exists(s.statusPath), false);
  });

  void it('maps shell statuses to exit code and signal as Nomad reports them', () => {
    assert.deepEqual(exitResultFromStatus(0), { exitCode: 0, signal: 0, oomKilled: false });
    assert.deepEqual(exitResultFromStatus(137, true), { exitCode: 137, signal: 9, oomKilled: true });
    assert.deepEqual(exitResultFromStatus(255), { exitCode: 255, signal: 0, oomKilled: false });
  });
});

void describe('process helpers', () => {
  void it('parses /proc/<pid>/stat even when the command name holds spaces and parentheses', () => {
    const fields = ['S', '1', '42', '42', '0', '-1', '4194560', '0', '0', '0', '0', '7', '3', '0', '0', '20', '0', '1', '0', '123456', '1000', '100'];
    const st = parseProcStat(`42 (a) b (c) ${fields.join(' ')}\n`);
    assert.deepEqual(st, { pid: 42, state: 'S', ppid: 1, pgrp: 42, session: 42, utime: 7, stime: 3, starttime: 123456 });
    assert.equal(parseProcStat('garbage'), null);
  });

  void it('parses signal names the ways job files write them', () => {
    assert.deepEqual(parseSignal('SIGINT'), { name: 'SIGINT', number: 2 });
    assert.deepEqual(parseSignal('term'), { name: 'SIGTERM', number: 15 });
    assert.deepEqual(parseSignal('9'), { name: 'SIGKILL', number: 9 });
    assert.throws(() => parseSignal('SIGFOO'), (e: unknown) => e instanceof YurtError && e.code === 'invalid_argument');
  });

  void it('refuses task handle state of the wrong shape, naming the field', () => {
    const good = { version: 1, runId: 'r', supervisorPid: 10, supervisorStart: 5, pid: 11, pidStart: 6, statusPath: '/x' };
    assert.equal(decodeTaskState(good).pid, 11);
    assert.throws(() => decodeTaskState({ ...good, version: 2 }), /version/);
    assert.throws(() => decodeTaskState({ ...good, pidStart: -1 }), /pidStart/);
    assert.throws(() => decodeTaskState({ ...good, statusPath: '' }), /statusPath/);
    assert.throws(() => decodeTaskState({ ...good, pid: 1 }), /real process id/);
  });
});
