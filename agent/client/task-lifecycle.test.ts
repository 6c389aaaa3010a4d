/**
 * Nomad's task lifecycle, with real processes: prestart before main, sidecars beside it and
 * stopped when main is done, poststart after main starts, poststop last; a failed prestart
 * keeps main from running; a dead leader stops its siblings.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { RawExecDriver } from '../../drivers/raw-exec/raw-exec-driver.js';
import { AllocRunner } from './alloc-runner.js';
import { testAllocation } from './testing/alloc-fixture.js';

type TaskSpec = { name: string; script: string; hook?: 'prestart' | 'poststart' | 'poststop'; sidecar?: boolean; leader?: boolean };

async function runGroup(tasks: TaskSpec[]): Promise<{ runner: AllocRunner; events: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'yurt-lifecycle-'));
  const events = join(dir, 'events');
  const alloc = testAllocation(
    {
      ID: 'life',
      Type: 'batch',
      TaskGroups: [
        {
          Name: 'g',
          RestartPolicy: { Attempts: 0, Mode: 'fail' },
          Tasks: tasks.map((t) => ({
            Name: t.name,
            Driver: 'raw_exec',
            Leader: t.leader ?? false,
            KillTimeout: 1e9,
            Config: { command: '/bin/sh', args: ['-c', t.script.replaceAll('LOG', events)] },
            ...(t.hook ? { Lifecycle: { Hook: t.hook, Sidecar: t.sidecar ?? false } } : {}),
          })),
        },
      ],
    },
    `life-${Date.now()}`,
  );
  const runner = new AllocRunner(alloc, {
    allocsRoot: join(dir, 'allocs'),
    drivers: new Map([['raw_exec', new RawExecDriver({ enabled: true })]]),
    logger: pino({ level: 'silent' }),
    node: () => ({ id: 'n', name: 'n', region: 'global', datacenter: 'dc1', nodeClass: '', nodePool: 'default', attributes: {}, meta: {} }),
    onUpdate: () => undefined,
    persist: () => Promise.resolve(),
  });
  runner.run();
  await runner.wait();
  const text = await readFile(events, 'utf8').catch(() => '');
  return { runner, events: text, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

void describe('task lifecycle', () => {
  void it('runs prestart, then main with its sidecar, poststart after main starts, poststop last', async () => {
    const { runner, events, cleanup } = await runGroup([
      { name: 'init', hook: 'prestart', script: 'echo init >> LOG' },
      { name: 'side', hook: 'prestart', sidecar: true, script: 'echo side-up >> LOG; trap "echo side-stopped >> LOG; exit 0" INT TERM; while :; do sleep 0.05; done' },
      { name: 'main', script: 'sleep 0.5; echo main >> LOG' },
      { name: 'after', hook: 'poststart', script: 'echo poststart >> LOG' },
      { name: 'cleanup', hook: 'poststop', script: 'echo poststop >> LOG' },
    ]);
    try {
      const lines = events.trim().split('\n');
      assert.ok(lines.indexOf('init') >= 0 && lines.indexOf('init') < lines.indexOf('main'), 'prestart ran before main');
      assert.ok(lines.indexOf('side-up') >= 0 && lines.indexOf('side-up') < lines.indexOf('main'), 'the prestart sidecar started before main');
      assert.ok(lines.indexOf('poststart') < lines.indexOf('main'), 'poststart ran while main was running');
      assert.ok(lines.indexOf('side-stopped') > lines.indexOf('main'), 'the sidecar was stopped after main finished');
      assert.equal(lines.at(-1), 'poststop', 'poststop runs last');
      assert.equal(runner.clientStatus(), 'complete');
      const side = runner.taskStates()['side']!;
      assert.ok(side.Events.some((e) => e.Type === 'Main Tasks Completed'));
      assert.equal(side.Failed, false);
    } finally {
      await cleanup();
    }
  });

  void it('a failed prestart task keeps the main task from running and fails the allocation', async () => {
    const { runner, events, cleanup } = await runGroup([
      { name: 'init', hook: 'prestart', script: 'echo init >> LOG; exit 1' },
      { name: 'main', script: 'echo main >> LOG' },
    ]);
    try {
      assert.equal(events, 'init\n');
      assert.equal(runner.clientStatus(), 'failed');
      assert.equal(runner.taskStates()['main']!.State, 'dead');
      assert.equal(runner.taskStates()['main']!.StartedAt, null, 'main never started');
    } finally {
      await cleanup();
    }
  });

  void it('when the leader task finishes, the other tasks are stopped', async () => {
    const t0 = Date.now();
    const { runner, cleanup } = await runGroup([
      { name: 'lead', leader: true, script: 'sleep 0.3' },
      { name: 'helper', script: 'exec sleep 30' },
    ]);
    try {
      assert.ok(Date.now() - t0 < 15_000, 'the helper did not run its 30 s');
      const helper = runner.taskStates()['helper']!;
      assert.ok(helper.Events.some((e) => e.Type === 'Leader Task Dead'));
      assert.equal(runner.clientStatus(), 'complete');
    } finally {
      await cleanup();
    }
  });
});
