/**
 * Operator actions on a running allocation, with real processes: restart in place ("Restart
 * Signaled", a new process, not counted against the restart policy), signals ("Signaling",
 * delivered to the task), and resource usage in Nomad's AllocResourceUsage shape.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { Driver } from '../../drivers/driver.js';
import { RawExecDriver } from '../../drivers/raw-exec/raw-exec-driver.js';
import { ValidationError, YurtError } from '../../structs/errors.js';
import { AllocRunner } from './alloc-runner.js';
import { testAllocation } from './testing/alloc-fixture.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yurt-alloc-lifecycle-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The runner knows the tasks run (their process may start a little before the driver says so). */
const isRunning = (runner: AllocRunner, ...tasks: string[]): boolean => tasks.every((t) => runner.taskStates()[t]?.State === 'running');

const lines = async (f: string): Promise<string[]> => (await readFile(f, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');

/** raw_exec whose start() answers late, as a loaded host's would: the task runs before the runner knows it. */
function slowStartDriver(delayMs: number): Driver {
  const d = new RawExecDriver({ enabled: true });
  return new Proxy(d, {
    get(target, prop, recv) {
      if (prop === 'start') {
        return async (cfg: Parameters<Driver['start']>[0]) => {
          const h = await target.start(cfg);
          await new Promise((r) => setTimeout(r, delayMs));
          return h;
        };
      }
      const v: unknown = Reflect.get(target, prop, recv);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** A service group of long-running shell tasks that write their pid, and "usr1" when sent SIGUSR1. */
function startServiceGroup(name: string, tasks: string[], driver: Driver = new RawExecDriver({ enabled: true })): { runner: AllocRunner; marks: (task: string) => string } {
  const marks = (task: string): string => join(dir, `${name}-${task}`);
  const alloc = testAllocation(
    {
      ID: name,
      Type: 'service',
      TaskGroups: [
        {
          Name: 'g',
          // No restarts allowed: a restart that counted against the policy would fail the task.
          RestartPolicy: { Attempts: 0, Mode: 'fail' },
          Tasks: tasks.map((t) => ({
            Name: t,
            Driver: 'raw_exec',
            KillTimeout: 2e9,
            KillSignal: 'SIGTERM',
            Config: {
              command: '/bin/sh',
              args: ['-c', `echo $$ >> ${marks(t)}; trap 'echo usr1 >> ${marks(t)}' USR1; trap 'exit 0' TERM; while :; do sleep 0.05; done`],
            },
          })),
        },
      ],
    },
    `${name}-${Date.now()}`,
  );
  const runner = new AllocRunner(alloc, {
    allocsRoot: join(dir, 'allocs'),
    drivers: new Map([['raw_exec', driver]]),
    logger: pino({ level: 'silent' }),
    node: () => ({ id: 'n', name: 'n', region: 'global', datacenter: 'dc1', nodeClass: '', nodePool: 'default', attributes: {}, meta: {} }),
    onUpdate: () => undefined,
    persist: () => Promise.resolve(),
  });
  runner.run();
  return { runner, marks };
}

void describe('alloc restart, signal and stats', { timeout: 120_000 }, () => {
  void it('restarts a task in place without counting it against the restart policy', async () => {
    const { runner, marks } = startServiceGroup('restart', ['web', 'side']);
    try {
      await until(async () => (await lines(marks('web'))).length === 1 && (await lines(marks('side'))).length === 1 && isRunning(runner, 'web', 'side'), 10_000, 'both tasks started');
      await runner.restartTasks('web');
      await until(async () => (await lines(marks('web'))).length === 2, 10_000, 'web started again');
      await until(() => runner.taskStates()['web']!.State === 'running', 10_000, 'web running');
      const [pid1, pid2] = await lines(marks('web'));
      assert.notEqual(pid1, pid2, 'a new process');
      const web = runner.taskStates()['web']!;
      const types = web.Events.map((e) => e.Type);
      assert.ok(types.includes('Restart Signaled'), types.join(', '));
      assert.equal(web.Events.find((e) => e.Type === 'Restart Signaled')!.DisplayMessage, 'User requested restart');
      assert.ok(types.indexOf('Restarting') > types.indexOf('Restart Signaled'));
      assert.equal(web.Failed, false, 'Attempts = 0, yet the requested restart did not fail the task');
      assert.equal(web.Restarts, 1);
      assert.equal(runner.clientStatus(), 'running');
      assert.equal((await lines(marks('side'))).length, 1, 'the sibling was not restarted');

      // Without a task name, every running task restarts.
      await runner.restartTasks();
      await until(async () => (await lines(marks('web'))).length === 3 && (await lines(marks('side'))).length === 2 && isRunning(runner, 'web', 'side'), 10_000, 'both restarted');
      await assert.rejects(runner.restartTasks('nope'), (e: unknown) => e instanceof YurtError && e.code === 'not_found');
    } finally {
      await runner.stop('test done');
    }
  });

  void it('sends a signal to the task and records "Signaling"; an unknown signal is a validation error', async () => {
    const { runner, marks } = startServiceGroup('signal', ['web']);
    try {
      await until(async () => (await lines(marks('web'))).length === 1 && isRunning(runner, 'web'), 10_000, 'task started');
      await runner.signalTasks('SIGUSR1', 'web');
      await until(async () => (await lines(marks('web'))).includes('usr1'), 10_000, 'the trap ran');
      const ev = runner.taskStates()['web']!.Events.find((e) => e.Type === 'Signaling');
      assert.equal(ev?.DisplayMessage, 'Task being sent signal SIGUSR1');
      await assert.rejects(runner.signalTasks('SIGNOPE'), (e: unknown) => e instanceof ValidationError && /unknown signal "SIGNOPE"/.test(e.errors[0]!.message));
      assert.equal(runner.taskStates()['web']!.State, 'running');
    } finally {
      await runner.stop('test done');
    }
    await assert.rejects(runner.signalTasks('SIGUSR1', 'web'), (e: unknown) => e instanceof YurtError && e.code === 'conflict');
  });

  void it('a stop that arrives while the driver is still starting the task stops it', async () => {
    const { runner, marks } = startServiceGroup('slowstart', ['web'], slowStartDriver(500));
    await until(async () => (await lines(marks('web'))).length === 1, 10_000, 'task process started');
    const pid = Number((await lines(marks('web')))[0]);
    const stopped = await Promise.race([runner.stop('stop during start').then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
    assert.equal(stopped, true, 'the stop completed');
    assert.equal(runner.taskStates()['web']!.State, 'dead');
    assert.throws(() => process.kill(pid, 0), 'the task process is gone');
  });

  void it('reports usage in the AllocResourceUsage shape', async () => {
    const { runner, marks } = startServiceGroup('stats', ['web']);
    try {
      await until(async () => (await lines(marks('web'))).length === 1 && isRunning(runner, 'web'), 10_000, 'task started');
      const s = await runner.stats(2000);
      const web = s.Tasks['web'];
      assert.ok(web, 'the running task is listed');
      assert.ok(web.ResourceUsage.MemoryStats.RSS > 0);
      assert.deepEqual(web.ResourceUsage.MemoryStats.Measured, ['RSS']);
      assert.equal(web.ResourceUsage.CpuStats.TotalTicks, (web.ResourceUsage.CpuStats.Percent / 100) * 2000);
      assert.equal(s.ResourceUsage.MemoryStats.RSS, web.ResourceUsage.MemoryStats.RSS);
      assert.ok(s.Timestamp > 1e18, 'Unix nanoseconds');
    } finally {
      await runner.stop('test done');
    }
    assert.deepEqual((await runner.stats(2000)).Tasks, {}, 'nothing runs after the stop');
  });
});
