// The exec driver against the real kernel: cgroups, the OOM killer, namespaces. These tests
// need Linux, root and writable cgroups (the dev/CI machine has them: root, cgroup v1).
// Elsewhere each test checks that exec fingerprints as undetected with a reason, and says
// why it did not exercise the rest.
import assert from 'node:assert/strict';
import { access, readFile, rmdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TaskHandle } from '../driver.js';
import { YurtError } from '../../structs/errors.js';
import { readProcStat } from '../process/proc-stat.js';
import { taskFixture, type FixtureOptions, type TaskFixture } from '../process/task-config-fixture.js';
import { detectCgroups } from './cgroup-host.js';
import { v1ParentDir } from './cgroup-v1.js';
import { ExecDriver } from './exec-driver.js';

const fixtures: TaskFixture[] = [];
const drivers: ExecDriver[] = [];
let unsupported: string | null = null;

function newDriver(): ExecDriver {
  const d = new ExecDriver({ pollIntervalMs: 50 });
  drivers.push(d);
  return d;
}

async function fixture(config: Record<string, unknown>, o: Partial<FixtureOptions> = {}): Promise<TaskFixture> {
  const f = await taskFixture({ driver: 'exec', config, ...o });
  fixtures.push(f);
  return f;
}

const sh = (script: string, extra: Record<string, unknown> = {}) => ({ command: '/bin/sh', args: ['-c', script], ...extra });

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

const exists = (p: string) => access(p).then(() => true, () => false);
const dirsOf = (h: TaskHandle) => (h.state['isolation'] as { dirs: Record<string, string> }).dirs;
const control = async (h: TaskHandle, ctrl: string, file: string) => (await readFile(join(dirsOf(h)[ctrl] ?? '/nonexistent', file), 'utf8')).trim();

/** True when the host cannot run exec: the test then checks the fingerprint says why. */
async function skipIfUnsupported(): Promise<boolean> {
  if (unsupported === null) return false;
  const fp = await new ExecDriver().fingerprint();
  assert.equal(fp.detected, false);
  assert.ok(fp.healthDescription.length > 0);
  console.log(`exec not exercised on this host: ${unsupported}`);
  return true;
}

before(async () => {
  const fp = await new ExecDriver().fingerprint();
  if (!fp.detected || !fp.healthy) unsupported = fp.healthDescription;
});

after(async () => {
  for (const d of drivers) for (const f of fixtures) await d.destroy(f.cfg.id).catch(() => undefined);
  for (const f of fixtures) await f.cleanup();
  // The shared parent groups stay in production; a test run leaves nothing behind.
  const det = await detectCgroups();
  if (det.host?.version === 1) {
    for (const c of Object.keys(det.host.own)) await rmdir(v1ParentDir(det.host, c, 'yurt')).catch(() => undefined);
  }
});

void describe('exec driver', () => {
  void it('fingerprints as detected and healthy with its cgroup version and namespaces', async () => {
    if (await skipIfUnsupported()) return;
    const fp = await newDriver().fingerprint();
    assert.equal(fp.healthDescription, 'Healthy');
    assert.equal(fp.attributes['driver.exec'], '1');
    assert.match(fp.attributes['driver.exec.cgroup.version'] ?? '', /^[12]$/);
    assert.equal(fp.attributes['driver.exec.namespaces'], 'pid,mount,uts,ipc');
  });

  void it('runs a task inside its own cgroup and PID namespace', async () => {
    if (await skipIfUnsupported()) return;
    const d = newDriver();
    const f = await fixture(sh('echo "pid=$$"; ls /proc | grep -c "^[0-9][0-9]*$"; grep memory /proc/self/cgroup; echo err >&2'));
    const t0 = performance.now();
    const h = await d.start(f.cfg);
    const startMs = performance.now() - t0;
    assert.deepEqual(await d.wait(f.cfg.id), { exitCode: 0, signal: 0, oomKilled: false });
    const [pidLine, procCount, cgLine] = (await f.stdout()).trim().split('\n');
    // pid 1 is the namespace's init shim, pid 2 was its mount of /proc, the task is pid 3.
    assert.equal(pidLine, 'pid=3');
    assert.ok(Number(procCount) <= 5, `${procCount} processes visible in the namespace`);
    const memDir = dirsOf(h)['memory'] ?? '';
    assert.ok(cgLine?.endsWith(memDir.slice(memDir.indexOf('/yurt/'))), `${cgLine} vs ${memDir}`);
    assert.equal(await f.stderr(), 'err\n');
    console.log(`exec start latency: ${startMs.toFixed(1)} ms`);
  });

  void it('pid_mode = "host" runs the task in the host PID namespace', async () => {
    if (await skipIfUnsupported()) return;
    const d = newDriver();
    const f = await fixture(sh('echo $$', { pid_mode: 'host', ipc_mode: 'host' }));
    const h = await d.start(f.cfg);
    await d.wait(f.cfg.id);
    assert.equal(Number((await f.stdout()).trim()), h.state['pid']);
  });

  void it('applies memory (hard and soft), cpu shares and pids limits to the cgroup', async () => {
    if (await skipIfUnsupported()) return;
    const d = newDriver();
    const f = await fixture(sh('echo ready; sleep 100', { pids_limit: 64 }), { cpu: 250, memoryMB: 64, memoryMaxMB: 128 });
    const h = await d.start(f.cfg);
    if (h.state['isolation'] !== undefined && (h.state['isolation'] as { cgroupVersion: number }).cgroupVersion === 1) {
      assert.equal(await control(h, 'memory', 'memory.limit_in_bytes'), String(128 * 1024 * 1024));
      assert.equal(await control(h, 'memory', 'memory.soft_limit_in_bytes'), String(64 * 1024 * 1024));
      assert.equal(await control(h, 'cpu', 'cpu.shares'), '250');
      assert.equal(await control(h, 'pids', 'pids.max'), '64');
    }
    await d.destroy(f.cfg.id);
    for (const dir of Object.values(dirsOf(h))) assert.equal(await exists(dir), false, `${dir} removed`);
  });

  void it('reports an OOM kill when the task exceeds its memory limit', async () => {
    if (await skipIfUnsupported()) return;
    const d = newDriver();
    // dd's 256 MB block buffer is touched in full, far above the 32 MB limit.
    const f = await fixture(sh('dd if=/dev/zero of=/dev/null bs=256M count=1'), { memoryMB: 32 });
    await d.start(f.cfg);
    assert.deepEqual(await d.wait(f.cfg.id), { exitCode: 137, signal: 9, oomKilled: true });
  });

  void it('a task within its memory limit is not reported as OOM killed', async () => {
    if (await skipIfUnsupported()) return;
    const d = newDriver();
    const f = await fixture(sh('dd if=/dev/zero of=/dev/null bs=8M count=1 2>/dev/null'), { memoryMB: 64 });
    await d.start(f.cfg);
    assert.deepEqual(await d.wait(f.cfg.id), { exitCode: 0, signal: 0, oomKilled: false });
  });

  void it('enforces the pids limit: forks beyond it fail', async () => {
    if (await skipIfUnsupported()) return;
    const d = newDriver();
    const f = await fixture(sh('n=0; for i in $(seq 40); do sleep 30 & n=$((n+1)); done; echo started=$n', { pids_limit: 12 }));
    await d.start(f.cfg);
    const r = await d.wait(f.cfg.id);
    assert.notEqual(r.exitCode, 0, 'the shell failed to fork');
    assert.match(await f.stderr(), /fork/i);
    assert.doesNotMatch(await f.stdout(), /started=40/);
  });

  void it('stop: SIGTERM reaches a task in its PID namespace (it is not pid 1)', async () => {
    if (await skipIfUnsupported()) return;
    const d = newDriver();
    const f = await fixture({ command: 'sleep', args: ['100'] });
    await d.start(f.cfg);
    const t0 = Date.now();
    await d.stop(f.cfg.id, 'SIGTERM', 5000);
    assert.ok(Date.now() - t0 < 2000, 'ended by SIGTERM, not by the SIGKILL after the timeout');
    assert.deepEqual(await d.wait(f.cfg.id), { exitCode: 143, signal: 15, oomKilled: false });
  });

  void it('stop kills processes that left the task session, through the cgroup', async () => {
    if (await skipIfUnsupported()) return;
    const d = newDriver();
    // setsid(1) in a background job is no group leader: it calls setsid() in place, so $! is the daemon.
    const f = await fixture(sh('trap "" TERM; setsid sleep 100 & echo $!; sleep 100', { pid_mode: 'host' }));
    const h = await d.start(f.cfg);
    const escaped = Number(await until('daemon pid', async () => (await f.stdout()).trim()));
    await until('the daemon left the session', async () => (await readProcStat(escaped))?.session === escaped);
    await d.stop(f.cfg.id, 'SIGTERM', 300);
    assert.equal((await d.wait(f.cfg.id)).signal, 9);
    assert.equal(await alive(escaped), false);
    assert.equal(await control(h, 'freezer', 'cgroup.procs'), '');
  });

  void it('when the main process exits, processes left in its cgroup are killed', async () => {
    if (await skipIfUnsupported()) return;
    const d = newDriver();
    const f = await fixture(sh('setsid sleep 100 & echo $!', { pid_mode: 'host' }));
    await d.start(f.cfg);
    assert.equal((await d.wait(f.cfg.id)).exitCode, 0);
    assert.equal(await alive(Number((await f.stdout()).trim())), false);
  });

  void it('reserved cores pin the task with cpuset', async () => {
    if (await skipIfUnsupported()) return;
    const core = cpus().length - 1;
    const d = newDriver();
    const f = await fixture(sh('grep Cpus_allowed_list /proc/self/status'), { reservedCores: [core] });
    await d.start(f.cfg);
    assert.equal((await d.wait(f.cfg.id)).exitCode, 0);
    assert.equal((await f.stdout()).trim().split(/\s+/)[1], String(core));
  });

  void it('stats: CPU percent and RSS from the cgroup', async () => {
    if (await skipIfUnsupported()) return;
    const d = newDriver();
    const f = await fixture(sh('while :; do :; done'));
    await d.start(f.cfg);
    await d.stats(f.cfg.id);
    await new Promise((r) => setTimeout(r, 500));
    const s = await d.stats(f.cfg.id);
    assert.ok(s !== null);
    // A busy loop shows clearly non-zero CPU; its exact share depends on what else runs on this 2-core machine.
    assert.ok(s.cpuPercent > 5 && s.cpuPercent < 250, `cpu ${s.cpuPercent}%`);
    assert.ok(s.memoryRssBytes > 0, `rss ${s.memoryRssBytes}`);
    await d.destroy(f.cfg.id);
  });

  void it('recover: a new driver instance reattaches, sees the exit code, and destroy frees the cgroup', async () => {
    if (await skipIfUnsupported()) return;
    const first = newDriver();
    const f = await fixture(sh('echo ready; while [ ! -e /local/go ]; do sleep 0.02; done; exit 3'));
    const h = JSON.parse(JSON.stringify(await first.start(f.cfg))) as TaskHandle;
    await until('ready', async () => (await f.stdout()).includes('ready'));
    const second = newDriver();
    assert.equal(await second.recover(h), true);
    assert.ok((await second.stats(f.cfg.id)) !== null);
    await writeFile(join(f.dir, 'local', 'go'), '');
    assert.deepEqual(await second.wait(f.cfg.id), { exitCode: 3, signal: 0, oomKilled: false });
    await second.destroy(f.cfg.id);
    for (const dir of Object.values(dirsOf(h))) assert.equal(await exists(dir), false);
  });

  void it('recover: an OOM kill that happened while the agent was away is still reported', async () => {
    if (await skipIfUnsupported()) return;
    const first = newDriver();
    const f = await fixture(sh('while [ ! -e /local/go ]; do sleep 0.02; done; dd if=/dev/zero of=/dev/null bs=256M count=1'), { memoryMB: 32 });
    const h = await first.start(f.cfg);
    const second = newDriver();
    assert.equal(await second.recover(h), true);
    await writeFile(join(f.dir, 'local', 'go'), '');
    assert.deepEqual(await second.wait(f.cfg.id), { exitCode: 137, signal: 9, oomKilled: true });
  });

  void it('validates its extra config keys', () => {
    const d = new ExecDriver();
    assert.deepEqual(d.validateConfig({ command: 'x', pid_mode: 'host', ipc_mode: 'private', pids_limit: 10 }), []);
    assert.deepEqual(d.validateConfig({ command: 'x', pid_mode: 'shared', pids_limit: -1 }), [
      'config.pid_mode: must be "private" or "host"',
      'config.pids_limit: must be a non-negative integer',
    ]);
  });

  void it('refuses a handle without cgroup state', async () => {
    const d = new ExecDriver();
    const state = { version: 1, runId: 'r', supervisorPid: 2, supervisorStart: 1, pid: 3, pidStart: 1, statusPath: '/x' };
    await assert.rejects(
      d.recover({ driver: 'exec', taskId: 'a/b', startedAt: 0, state }),
      (e: unknown) => e instanceof YurtError && e.code === 'invalid_argument' && /cgroup/.test(e.message),
    );
  });
});
