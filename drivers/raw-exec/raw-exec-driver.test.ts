import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TaskHandle } from '../driver.js';
import { ValidationError, YurtError } from '../../structs/errors.js';
import { readProcStat, sessionMembers } from '../process/proc-stat.js';
import { taskFixture, type TaskFixture } from '../process/task-config-fixture.js';
import { RawExecDriver } from './raw-exec-driver.js';

const fixtures: TaskFixture[] = [];
const drivers: RawExecDriver[] = [];

function newDriver(): RawExecDriver {
  const d = new RawExecDriver({ enabled: true, pollIntervalMs: 50 });
  drivers.push(d);
  return d;
}

async function fixture(config: Record<string, unknown>): Promise<TaskFixture> {
  const f = await taskFixture({ driver: 'raw_exec', config });
  fixtures.push(f);
  return f;
}

const sh = (script: string) => ({ command: '/bin/sh', args: ['-c', script] });

/** Poll `f` until it gives something other than null, undefined, false or ''. */
async function until<T>(what: string, f: () => Promise<T | null | undefined | false | ''>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== null && v !== undefined && v !== false && v !== '') return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function alive(pid: number): Promise<boolean> {
  const st = await readProcStat(pid);
  return st !== null && st.state !== 'Z';
}

/** A pending promise stays pending for `ms`. */
async function stillPending(p: Promise<unknown>, ms = 150): Promise<boolean> {
  return Promise.race([p.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), ms))]);
}

after(async () => {
  for (const d of drivers) for (const f of fixtures) await d.destroy(f.cfg.id).catch(() => undefined);
  for (const f of fixtures) await f.cleanup();
});

void describe('raw_exec driver', () => {
  void it('inspect: running with its pid while it runs, exited with the exit code after, null when unknown', async () => {
    const d = newDriver();
    const f = await fixture(sh('exec sleep 30'));
    assert.equal(await d.inspect('no-such-task'), null);
    await d.start(f.cfg);
    const running = await d.inspect(f.cfg.id);
    assert.equal(running?.state, 'running');
    assert.equal(running?.exit, null);
    assert.equal(typeof running?.details['pid'], 'number');
    await d.stop(f.cfg.id, 'SIGTERM', 1000);
    const exited = await d.inspect(f.cfg.id);
    assert.equal(exited?.state, 'exited');
    assert.equal(exited?.exit?.signal, 15);
  });

  void it('is undetected unless enabled, detected and healthy when enabled', async () => {
    const off = await new RawExecDriver().fingerprint();
    assert.equal(off.detected, false);
    assert.match(off.healthDescription, /disabled/);
    const on = await newDriver().fingerprint();
    assert.deepEqual([on.detected, on.healthy], [true, true]);
    assert.equal(on.attributes['driver.raw_exec'], '1');
  });

  void it('refuses to start while disabled', async () => {
    const f = await fixture(sh('true'));
    await assert.rejects(new RawExecDriver().start(f.cfg), (e: unknown) => e instanceof YurtError && e.code === 'unavailable');
  });

  void it('runs a command: stdout and stderr land in the files, exit 0', async () => {
    const d = newDriver();
    const f = await fixture(sh('echo hello; echo err >&2'));
    const t0 = performance.now();
    const h = await d.start(f.cfg);
    const startMs = performance.now() - t0;
    assert.equal(h.driver, 'raw_exec');
    assert.deepEqual(await d.wait(f.cfg.id), { exitCode: 0, signal: 0, oomKilled: false });
    assert.equal(await f.stdout(), 'hello\n');
    assert.equal(await f.stderr(), 'err\n');
    assert.ok(startMs < 1000, `start took ${startMs} ms`);
    console.log(`raw_exec start latency: ${startMs.toFixed(1)} ms`);
  });

  void it('appends to existing log files instead of truncating them', async () => {
    const d = newDriver();
    const f = await fixture(sh('echo second'));
    await import('node:fs/promises').then(async (fs) => {
      await fs.mkdir(join(f.dir, 'logs'), { recursive: true });
      await fs.writeFile(f.cfg.stdoutPath, 'first\n');
    });
    await d.start(f.cfg);
    await d.wait(f.cfg.id);
    assert.equal(await f.stdout(), 'first\nsecond\n');
  });

  void it('reports exit codes, and death by signal as 128+N with the signal', async () => {
    const d = newDriver();
    const f1 = await fixture(sh('exit 42'));
    await d.start(f1.cfg);
    assert.deepEqual(await d.wait(f1.cfg.id), { exitCode: 42, signal: 0, oomKilled: false });
    const f2 = await fixture(sh('kill -USR1 $$'));
    await d.start(f2.cfg);
    assert.deepEqual(await d.wait(f2.cfg.id), { exitCode: 138, signal: 10, oomKilled: false });
  });

  void it('passes the task env and runs in the task dir; resolves a relative command there', async () => {
    const d = newDriver();
    const f = await taskFixture({ driver: 'raw_exec', config: { command: './run.sh', args: ['a b'] }, env: { GREETING: 'hi there' } });
    fixtures.push(f);
    await writeFile(join(f.dir, 'run.sh'), '#!/bin/sh\necho "$GREETING|$1|$(pwd)"\n');
    await chmod(join(f.dir, 'run.sh'), 0o755);
    await d.start(f.cfg);
    assert.equal((await d.wait(f.cfg.id)).exitCode, 0);
    assert.equal(await f.stdout(), `hi there|a b|${f.dir}\n`);
  });

  void it('rejects bad config and missing commands with clear errors', async () => {
    const d = newDriver();
    assert.deepEqual(d.validateConfig({ command: 'x', args: ['y'] }), []);
    assert.deepEqual(d.validateConfig({ args: [1], image: 'busybox' }), [
      'config.command: must be a non-empty string',
      'config.args: must be a list of strings',
      'config.image: unknown option (supported: command, args)',
    ]);
    const bad = await fixture({ args: [] });
    await assert.rejects(d.start(bad.cfg), (e: unknown) => e instanceof ValidationError && e.errors[0]?.path === 'config.command');
    const missing = await fixture({ command: 'no-such-program-xyz' });
    await assert.rejects(d.start(missing.cfg), (e: unknown) => e instanceof YurtError && /not found in PATH/.test(e.message));
    await assert.rejects(d.wait('nope'), (e: unknown) => e instanceof YurtError && e.code === 'not_found');
  });

  void it('stop: a task that traps SIGTERM exits on its own, cleanly', async () => {
    const d = newDriver();
    const f = await fixture(sh('trap "echo got-term; exit 0" TERM; echo ready; while :; do sleep 0.05; done'));
    await d.start(f.cfg);
    await until('ready', async () => (await f.stdout()).includes('ready'));
    const t0 = Date.now();
    await d.stop(f.cfg.id, 'SIGTERM', 5000);
    assert.ok(Date.now() - t0 < 2000, 'exited well before the timeout');
    assert.deepEqual(await d.wait(f.cfg.id), { exitCode: 0, signal: 0, oomKilled: false });
    assert.match(await f.stdout(), /got-term/);
  });

  void it('stop: a task that ignores SIGTERM is killed after the timeout', async () => {
    const d = newDriver();
    const f = await fixture(sh('trap "" TERM; echo ready; sleep 100'));
    const h = await d.start(f.cfg);
    await until('ready', async () => (await f.stdout()).includes('ready'));
    const t0 = Date.now();
    await d.stop(f.cfg.id, 'SIGTERM', 400);
    const took = Date.now() - t0;
    assert.ok(took >= 400 && took < 3000, `stop took ${took} ms`);
    assert.deepEqual(await d.wait(f.cfg.id), { exitCode: 137, signal: 9, oomKilled: false });
    assert.deepEqual(await sessionMembers(h.state['pid'] as number), []);
  });

  void it('stop leaves no process of the group behind (sh with a background child)', async () => {
    const d = newDriver();
    const f = await fixture(sh('sleep 100 & echo $!; wait'));
    const h = await d.start(f.cfg);
    const child = Number(await until('child pid', async () => (await f.stdout()).trim()));
    assert.ok(await alive(child));
    await d.stop(f.cfg.id, 'SIGTERM', 2000);
    const r = await d.wait(f.cfg.id);
    assert.equal(r.signal, 15);
    assert.equal(await alive(child), false);
    assert.deepEqual(await sessionMembers(h.state['pid'] as number), []);
    // stop again is a no-op once the task is gone.
    await d.stop(f.cfg.id, 'SIGTERM', 10);
  });

  void it('when the main process exits, what it left running in its session is killed', async () => {
    const d = newDriver();
    const f = await fixture(sh('sleep 100 & echo $!'));
    await d.start(f.cfg);
    assert.equal((await d.wait(f.cfg.id)).exitCode, 0);
    const child = Number((await f.stdout()).trim());
    assert.equal(await alive(child), false);
  });

  void it('signal() delivers a signal to the running task; unknown signals are user errors', async () => {
    const d = newDriver();
    const f = await fixture(sh('trap "echo usr1" USR1; echo ready; while :; do sleep 0.05; done'));
    await d.start(f.cfg);
    await until('ready', async () => (await f.stdout()).includes('ready'));
    await d.signal(f.cfg.id, 'SIGUSR1');
    await until('usr1 handled', async () => (await f.stdout()).includes('usr1'));
    await assert.rejects(d.signal(f.cfg.id, 'SIGNOPE'), (e: unknown) => e instanceof YurtError && e.code === 'invalid_argument');
    await d.stop(f.cfg.id, 'SIGKILL', 0);
    assert.equal((await d.wait(f.cfg.id)).signal, 9);
  });

  void it('stats: CPU percent and RSS of a busy task', async () => {
    const d = newDriver();
    const f = await fixture(sh('while :; do :; done'));
    await d.start(f.cfg);
    await d.stats(f.cfg.id);
    await new Promise((r) => setTimeout(r, 500));
    const s = await d.stats(f.cfg.id);
    assert.ok(s !== null);
    // A busy loop shows clearly non-zero CPU; its exact share depends on what else runs on this 2-core machine.
    assert.ok(s.cpuPercent > 5 && s.cpuPercent < 250, `cpu ${s.cpuPercent}%`);
    assert.ok(s.memoryRssBytes > 100_000, `rss ${s.memoryRssBytes}`);
    await d.destroy(f.cfg.id);
    await assert.rejects(d.wait(f.cfg.id), (e: unknown) => e instanceof YurtError && e.code === 'not_found');
  });

  void it('recover: a new driver instance reattaches to a running task and gets its exit code', async () => {
    const first = newDriver();
    const f = await fixture(sh('echo ready; while [ ! -e go ]; do sleep 0.02; done; exit 3'));
    const h = await first.start(f.cfg);
    const persisted = JSON.parse(JSON.stringify(h)) as TaskHandle;
    await until('ready', async () => (await f.stdout()).includes('ready'));

    const second = newDriver();
    assert.equal(await second.recover(persisted), true);
    const exit = second.wait(f.cfg.id);
    assert.equal(await stillPending(exit), true, 'still running after recovery');
    assert.ok((await second.stats(f.cfg.id)) !== null);
    await writeFile(join(f.dir, 'go'), '');
    assert.deepEqual(await exit, { exitCode: 3, signal: 0, oomKilled: false });
  });

  void it('recover: a new instance can stop a recovered task', async () => {
    const first = newDriver();
    const f = await fixture(sh('sleep 100 & wait'));
    const h = await first.start(f.cfg);
    const second = newDriver();
    assert.equal(await second.recover(h), true);
    await second.stop(f.cfg.id, 'SIGTERM', 2000);
    assert.equal((await second.wait(f.cfg.id)).signal, 15);
    assert.deepEqual(await sessionMembers(h.state['pid'] as number), []);
  });

  void it('recover: a task that ended while the agent was away reports its recorded exit at once', async () => {
    const first = newDriver();
    const f = await fixture(sh('exit 7'));
    const h = await first.start(f.cfg);
    await first.wait(f.cfg.id);
    const second = newDriver();
    assert.equal(await second.recover(h), true);
    assert.deepEqual(await second.wait(f.cfg.id), { exitCode: 7, signal: 0, oomKilled: false });
  });

  void it('recover: false when the supervisor is gone without a record, and the orphaned task is killed', async () => {
    const first = newDriver();
    const f = await fixture(sh('echo ready; sleep 100'));
    const h = await first.start(f.cfg);
    await until('ready', async () => (await f.stdout()).includes('ready'));
    process.kill(h.state['supervisorPid'] as number, 'SIGKILL');
    const r = await first.wait(f.cfg.id);
    assert.equal(r.exitCode, -1);
    assert.match(r.err ?? '', /without recording/);
    assert.deepEqual(await sessionMembers(h.state['pid'] as number), [], 'the first driver killed the orphan');

    // A second instance given the same handle finds nothing and says so.
    const second = newDriver();
    assert.equal(await second.recover(h), false);
    await assert.rejects(second.wait(f.cfg.id), (e: unknown) => e instanceof YurtError && e.code === 'not_found');
  });

  void it('recover: rejects a malformed handle with a clear error', async () => {
    const d = newDriver();
    await assert.rejects(
      d.recover({ driver: 'raw_exec', taskId: 'x/y', startedAt: 0, state: { version: 1, runId: 'r', supervisorPid: 'abc' } }),
      (e: unknown) => e instanceof YurtError && e.code === 'invalid_argument' && /supervisorPid/.test(e.message),
    );
    await assert.rejects(
      d.recover({ driver: 'exec', taskId: 'x/y', startedAt: 0, state: {} }),
      (e: unknown) => e instanceof YurtError && e.code === 'invalid_argument',
    );
  });

  void it('the task survives the agent process dying, and a new agent recovers it', async () => {
    const f = await fixture(sh('echo ready; while [ ! -e go ]; do sleep 0.02; done; exit 3'));
    const helper = fileURLToPath(new URL('./testdata/start-then-exit.ts', import.meta.url));
    const agent = spawn(process.execPath, ['--import', 'tsx', helper, JSON.stringify(f.cfg), 'raw_exec'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    agent.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    const code = await new Promise<number | null>((r) => agent.on('exit', (c) => r(c)));
    assert.equal(code, 0);
    const h = JSON.parse(out) as TaskHandle;
    await until('ready', async () => (await f.stdout()).includes('ready'));
    assert.ok(await alive(h.state['pid'] as number), 'task outlived its agent');

    const d = newDriver();
    assert.equal(await d.recover(h), true);
    await writeFile(join(f.dir, 'go'), '');
    assert.deepEqual(await d.wait(f.cfg.id), { exitCode: 3, signal: 0, oomKilled: false });
  });

  void it('runs as the agent user by default and as task.User when set; an unknown user fails the start', async (t) => {
    const d = newDriver();
    const own = await fixture(sh('id -u'));
    await d.start(own.cfg);
    await d.wait(own.cfg.id);
    assert.equal((await own.stdout()).trim(), String(process.getuid?.()));
    const unknown = await fixture(sh('true'));
    unknown.cfg.task.User = 'no-such-user-yurt';
    await assert.rejects(d.start(unknown.cfg), (e: unknown) => e instanceof YurtError && e.code === 'invalid_argument' && /no-such-user-yurt/.test(e.message));
    if (process.getuid?.() !== 0) {
      t.diagnostic('not root: dropping to another user is not exercised');
      return;
    }
    const f = await fixture(sh('id -u; id -g; echo x > "$PWD/local/f" && echo wrote'));
    f.cfg.task.User = 'nobody';
    // The fixture dir is private to root (mkdtemp); a data dir is traversable by task users.
    await chmod(f.dir, 0o755);
    await d.start(f.cfg);
    assert.deepEqual(await d.wait(f.cfg.id), { exitCode: 0, signal: 0, oomKilled: false });
    assert.equal(await f.stdout(), '65534\n65534\nwrote\n');
  });
});
