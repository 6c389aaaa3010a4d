/**
 * Deployment health of an allocation (`update { health_check = "task_states" }`): first the
 * rules on a fake clock, then a real service task through a real client, whose status update
 * to the servers carries DeploymentStatus.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { RawExecDriver } from '../../drivers/raw-exec/raw-exec-driver.js';
import type { AllocDeploymentStatus, TaskState } from '../../structs/alloc.js';
import type { JobInput } from '../../structs/job-defaults.js';
import { AllocHealthTracker, type HealthClock } from './alloc-health.js';
import { Client } from './client.js';
import { testAllocation } from './testing/alloc-fixture.js';
import { startRecordingServer } from './testing/recording-server.js';

const S = 1e9;

class FakeClock implements HealthClock {
  t = 1_700_000_000_000;
  private timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.t + ms, fn, live: true };
    this.timers.push(timer);
    return { cancel: () => (timer.live = false) };
  }
  advance(ms: number): void {
    this.t += ms;
    for (const timer of this.timers.filter((x) => x.live && x.at <= this.t)) {
      timer.live = false;
      timer.fn();
    }
  }
}

const state = (s: TaskState['State'], failed = false): TaskState => ({ State: s, Failed: failed, Restarts: 0, LastRestart: null, StartedAt: null, FinishedAt: null, Events: [] });

function serviceJob(update: Record<string, unknown> | undefined, tasks: Array<Record<string, unknown>> = [{ Name: 'web' }]): JobInput {
  return {
    ID: 'svc',
    Type: 'service',
    ...(update ? { Update: update } : {}),
    TaskGroups: [{ Name: 'g', Tasks: tasks.map((t) => ({ Driver: 'raw_exec', Config: { command: '/bin/sleep', args: ['30'] }, ...t })) }],
  };
}

function tracker(job: JobInput, clock: FakeClock): { t: AllocHealthTracker | null; verdicts: AllocDeploymentStatus[] } {
  const verdicts: AllocDeploymentStatus[] = [];
  const t = AllocHealthTracker.forAlloc(testAllocation(job, 'a1'), (v) => verdicts.push(v), clock);
  return { t, verdicts };
}

void describe('allocation health rules', () => {
  const update = { HealthCheck: 'task_states', MinHealthyTime: 2 * S, HealthyDeadline: 10 * S };

  void it('healthy once every task has run for min_healthy_time; a restart starts the count again', () => {
    const clock = new FakeClock();
    const { t, verdicts } = tracker(serviceJob(update, [{ Name: 'web' }, { Name: 'side', Lifecycle: { Hook: 'prestart', Sidecar: true } }, { Name: 'init', Lifecycle: { Hook: 'prestart' } }]), clock);
    assert.ok(t);
    t.observe({ web: state('running'), side: state('pending'), init: state('dead') });
    clock.advance(5_000);
    assert.equal(verdicts.length, 0, 'the sidecar is not running yet');
    t.observe({ web: state('running'), side: state('running'), init: state('dead') });
    clock.advance(1_500);
    t.observe({ web: state('pending'), side: state('running'), init: state('dead') });
    t.observe({ web: state('running'), side: state('running'), init: state('dead') });
    clock.advance(1_500);
    assert.equal(verdicts.length, 0, 'the restart reset the count');
    clock.advance(600);
    assert.equal(verdicts.length, 1);
    assert.equal(verdicts[0]!.Healthy, true);
    assert.equal(verdicts[0]!.Canary, false);
    assert.equal(verdicts[0]!.Timestamp, new Date(clock.t).toISOString());
    clock.advance(60_000);
    assert.equal(verdicts.length, 1, 'one verdict only: the deadline no longer applies');
  });

  void it('unhealthy when a task fails, or when healthy_deadline passes first', () => {
    const clock = new FakeClock();
    const failed = tracker(serviceJob(update), clock);
    failed.t!.observe({ web: state('dead', true) });
    assert.equal(failed.verdicts[0]?.Healthy, false);

    const slow = tracker(serviceJob(update), clock);
    slow.t!.observe({ web: state('pending') });
    clock.advance(9_999);
    assert.equal(slow.verdicts.length, 0);
    clock.advance(1);
    assert.equal(slow.verdicts[0]?.Healthy, false);
  });

  void it('only service jobs with an update block and automatic health are tracked', () => {
    const clock = new FakeClock();
    assert.equal(tracker(serviceJob({ ...update, HealthCheck: 'manual' }), clock).t, null);
    assert.equal(tracker({ ...serviceJob(update), Type: 'batch' }, clock).t, null);
    // Nomad gives every service job a default update block (health_check "checks", 10 s).
    assert.ok(tracker(serviceJob(undefined), clock).t);
  });
});

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yurt-health-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

void describe('allocation health through a client', { timeout: 60_000 }, () => {
  void it('the status update to the servers carries DeploymentStatus: healthy, or unhealthy on failure', async () => {
    const srv = await startRecordingServer();
    const client = new Client({
      dataDir: join(dir, 'c'),
      servers: [srv.addr],
      region: 'global',
      datacenter: 'dc1',
      name: 'health',
      nodeClass: '',
      nodePool: 'default',
      meta: {},
      reserved: { cpu: 0, memoryMB: 0, diskMB: 0 },
      httpAddr: '127.0.0.1:0',
      drivers: () => [new RawExecDriver({ enabled: true })],
      logger: pino({ level: 'silent' }),
      devices: [],
      fingerprintIntervalMs: 0,
      gcIntervalMs: 0,
      updateBatchMs: 20,
    });
    const good = '00000000-0000-4000-8000-0000000000a1';
    const bad = '00000000-0000-4000-8000-0000000000a2';
    try {
      await client.start();
      await client.waitRegistered(5000);
      const upd = { HealthCheck: 'task_states', MinHealthyTime: 0.3 * S, HealthyDeadline: 30 * S };
      srv.push([
        testAllocation(serviceJob(upd), good),
        testAllocation({ ...serviceJob(upd, [{ Name: 'web', Config: { command: '/bin/sh', args: ['-c', 'exit 2'] }, RestartPolicy: { Attempts: 0 } }]), ID: 'bad' }, bad),
      ]);
      await until(() => srv.lastUpdate(good)?.DeploymentStatus !== undefined, 15_000, 'health of the good allocation');
      const first = srv.updates.find((u) => u.ID === good && u.ClientStatus === 'running')!;
      assert.equal(first.DeploymentStatus, undefined, 'not healthy the moment it starts');
      assert.equal(srv.lastUpdate(good)!.DeploymentStatus!.Healthy, true);
      assert.equal(srv.lastUpdate(good)!.ClientStatus, 'running');
      await until(() => srv.lastUpdate(bad)?.DeploymentStatus !== undefined, 15_000, 'health of the failing allocation');
      assert.equal(srv.lastUpdate(bad)!.DeploymentStatus!.Healthy, false);
    } finally {
      await client.stopAllocs();
      await client.stop();
      await srv.close();
    }
  });
});
