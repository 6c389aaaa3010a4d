/**
 * Nomad's restart rules, first on the tracker with a fake clock (every branch, exactly), then
 * with real processes through the alloc runner: fail mode gives up and fails the allocation
 * (siblings killed), delay mode waits out the interval and keeps trying, a failure after the
 * interval has passed opens a new window.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { Driver } from '../../drivers/driver.js';
import { ExecDriver } from '../../drivers/exec/exec-driver.js';
import { RawExecDriver } from '../../drivers/raw-exec/raw-exec-driver.js';
import type { TaskState } from '../../structs/alloc.js';
import type { RestartPolicy } from '../../structs/job.js';
import { AllocRunner } from './alloc-runner.js';
import { REASON_DELAY, REASON_NO_RESTARTS, REASON_UNNECESSARY, REASON_WITHIN_POLICY, RestartTracker } from './restart-policy.js';
import { testAllocation } from './testing/alloc-fixture.js';

const MS = 1_000_000;

void describe('restart tracker', () => {
  const policy = (p: Partial<RestartPolicy>): RestartPolicy => ({ Attempts: 2, Interval: 1000 * MS, Delay: 100 * MS, Mode: 'fail', ...p });

  void it('restarts within the policy, then fails with Nomad\'s reason in mode "fail"', () => {
    const t = new RestartTracker(policy({}), 'service', () => 0);
    assert.deepEqual(t.next(false, 0), { kind: 'restart', delayMs: 100, reason: REASON_WITHIN_POLICY });
    assert.deepEqual(t.next(false, 200), { kind: 'restart', delayMs: 100, reason: REASON_WITHIN_POLICY });
    assert.deepEqual(t.next(false, 400), { kind: 'fail', reason: 'Exceeded allowed attempts 2 in interval 1s and mode is "fail"' });
  });

  void it('jitters the delay by up to 25%', () => {
    const t = new RestartTracker(policy({}), 'service', () => 0.999);
    const d = t.next(false, 0);
    assert.equal(d.kind, 'restart');
    assert.ok(d.kind === 'restart' && d.delayMs > 124 && d.delayMs < 125);
  });

  void it('in mode "delay" waits for the interval to end, then opens a new one', () => {
    const t = new RestartTracker(policy({ Mode: 'delay' }), 'service', () => 0);
    t.next(false, 0);
    t.next(false, 200);
    assert.deepEqual(t.next(false, 300), { kind: 'restart', delayMs: 700, reason: REASON_DELAY });
    // The restart after the wait fails past the interval's end: a fresh window, within policy.
    assert.deepEqual(t.next(false, 1001), { kind: 'restart', delayMs: 100, reason: REASON_WITHIN_POLICY });
  });

  void it('failures further apart than the interval never exhaust the attempts', () => {
    const t = new RestartTracker(policy({ Attempts: 1 }), 'service', () => 0);
    for (let i = 0; i < 10; i++) assert.equal(t.next(false, i * 1500).kind, 'restart');
  });

  void it('batch tasks that exit 0 are done; service tasks restart; zero attempts never restart', () => {
    assert.deepEqual(new RestartTracker(policy({}), 'batch').next(true, 0), { kind: 'done', reason: REASON_UNNECESSARY });
    assert.equal(new RestartTracker(policy({}), 'service').next(true, 0).kind, 'restart');
    // A prestart (non-sidecar) task of a service job is done once it succeeds; a failure still restarts.
    assert.deepEqual(new RestartTracker(policy({}), 'service', () => 0, true).next(true, 0), { kind: 'done', reason: REASON_UNNECESSARY });
    assert.equal(new RestartTracker(policy({}), 'service', () => 0, true).next(false, 0).kind, 'restart');
    assert.deepEqual(new RestartTracker(policy({ Attempts: 0, Mode: 'delay' }), 'service').next(false, 0), { kind: 'fail', reason: REASON_NO_RESTARTS });
  });
});

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yurt-restart-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface TaskSpec {
  name: string;
  script: string;
  driver?: 'exec' | 'raw_exec';
  restart?: Partial<RestartPolicy>;
}

function startGroup(id: string, type: 'service' | 'batch', tasks: TaskSpec[]): AllocRunner {
  const alloc = testAllocation(
    {
      ID: id,
      Type: type,
      TaskGroups: [
        {
          Name: 'g',
          Tasks: tasks.map((t) => ({
            Name: t.name,
            Driver: t.driver ?? 'raw_exec',
            KillTimeout: 2e9,
            Config: { command: '/bin/sh', args: ['-c', t.script] },
            ...(t.restart ? { RestartPolicy: t.restart } : {}),
          })),
        },
      ],
    },
    `${id}-${Date.now()}`,
  );
  const drivers = new Map<string, Driver>([
    ['raw_exec', new RawExecDriver({ enabled: true })],
    ['exec', new ExecDriver({ pollIntervalMs: 50 })],
  ]);
  const runner = new AllocRunner(alloc, {
    allocsRoot: join(dir, 'allocs'),
    drivers,
    logger: pino({ level: 'silent' }),
    node: () => ({ id: 'n', name: 'n', region: 'global', datacenter: 'dc1', nodeClass: '', nodePool: 'default', attributes: {}, meta: {} }),
    onUpdate: () => undefined,
    persist: () => Promise.resolve(),
  });
  runner.run();
  return runner;
}

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const types = (s: TaskState | undefined): string[] => (s?.Events ?? []).map((e) => e.Type);
/** Start times (ms) a task script appended to its marker file. */
async function starts(file: string): Promise<number[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => Number(l) / 1e6);
}

void describe('restart policy with real tasks', { timeout: 120_000 }, () => {
  void it('mode "fail": attempts exhausted → task dead and failed, allocation failed, sibling killed (exec driver)', async () => {
    const runner = startGroup('fail', 'service', [
      { name: 'crash', driver: 'exec', script: 'exit 3', restart: { Attempts: 2, Interval: 30_000 * MS, Delay: 50 * MS, Mode: 'fail' } },
      { name: 'long', script: 'exec sleep 60', restart: { Attempts: 0, Mode: 'fail' } },
    ]);
    await runner.wait();
    const crash = runner.taskStates()['crash']!;
    const long = runner.taskStates()['long']!;
    assert.equal(runner.clientStatus(), 'failed');
    assert.equal(crash.State, 'dead');
    assert.equal(crash.Failed, true);
    assert.equal(crash.Restarts, 2);
    const last = crash.Events.at(-1)!;
    assert.equal(last.Type, 'Not Restarting');
    assert.equal(last.DisplayMessage, 'Exceeded allowed attempts 2 in interval 30s and mode is "fail"');
    assert.equal(last.FailsTask, true);
    assert.equal(types(crash).filter((t) => t === 'Restarting').length, 2);
    const restarting = crash.Events.find((e) => e.Type === 'Restarting')!;
    assert.equal(restarting.RestartReason, 'Restart within policy');
    assert.match(restarting.DisplayMessage, /^Task restarting in \d+(\.\d+)?ms$/);
    assert.equal(crash.Events.filter((e) => e.Type === 'Terminated').at(-1)?.ExitCode, 3);
    assert.equal(long.State, 'dead');
    assert.ok(types(long).includes('Sibling Task Failed'), `sibling events: ${types(long).join(', ')}`);
    assert.equal(long.Failed, false);
  });

  void it('mode "delay": past the attempts it waits out the interval and keeps trying', async () => {
    const marks = join(dir, 'delay-marks');
    const runner = startGroup('delay', 'service', [
      { name: 'flappy', script: `date +%s%N >> ${marks}; exit 1`, restart: { Attempts: 1, Interval: 2000 * MS, Delay: 50 * MS, Mode: 'delay' } },
    ]);
    try {
      await until(async () => (await starts(marks)).length >= 4, 20_000, 'four starts');
      const s = await starts(marks);
      const state = runner.taskStates()['flappy']!;
      assert.equal(state.Failed, false, 'delay mode never fails the task');
      assert.notEqual(state.State, 'dead');
      assert.ok(state.Events.some((e) => e.Type === 'Restarting' && e.RestartReason === REASON_DELAY), `events: ${types(state).join(', ')}`);
      // Start 2 is the one restart the policy allows; start 3 waits for the 2 s window to close.
      assert.ok(s[2]! - s[0]! >= 1900, `third start ${Math.round(s[2]! - s[0]!)} ms after the first, expected the interval (2000 ms)`);
      // After the wait a new window opened: start 4 is one plain delay later, not another interval.
      assert.ok(s[3]! - s[2]! < 1500, `fourth start ${Math.round(s[3]! - s[2]!)} ms after the third`);
    } finally {
      await runner.stop('test done');
    }
  });

  void it('a task failing less often than the interval never exhausts its attempts; more often, it does', async () => {
    const marks = join(dir, 'window-marks');
    // Each run lasts 0.4 s, longer than the 0.3 s interval: every failure opens a new window.
    const spaced = startGroup('spaced', 'service', [
      { name: 't', script: `date +%s%N >> ${marks}; sleep 0.4; exit 1`, restart: { Attempts: 1, Interval: 300 * MS, Delay: 10 * MS, Mode: 'fail' } },
    ]);
    // The same task with a 30 s interval: the second failure exceeds the one attempt.
    const dense = startGroup('dense', 'service', [
      { name: 't', script: 'sleep 0.4; exit 1', restart: { Attempts: 1, Interval: 30_000 * MS, Delay: 10 * MS, Mode: 'fail' } },
    ]);
    try {
      await dense.wait();
      assert.equal(dense.taskStates()['t']!.Failed, true);
      assert.equal(dense.taskStates()['t']!.Restarts, 1);
      await until(async () => (await starts(marks)).length >= 4, 20_000, 'four starts of the spaced task');
      const t = spaced.taskStates()['t']!;
      assert.equal(t.Failed, false);
      assert.ok(t.Restarts >= 3);
      assert.notEqual(spaced.clientStatus(), 'failed');
    } finally {
      await spaced.stop('test done');
    }
  });
});
