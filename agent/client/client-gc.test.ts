import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { RawExecDriver } from '../../drivers/raw-exec/raw-exec-driver.js';
import type { TaskEvent } from '../../structs/alloc.js';
import { Client, type ClientOptions } from './client.js';
import { ClientStateDB } from './client-state.js';
import { shellJob, testAllocation } from './testing/alloc-fixture.js';
import { startRecordingServer, type RecordingServer } from './testing/recording-server.js';

const S = 1_000_000_000;

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const exists = (p: string) => access(p).then(() => true, () => false);

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yurt-client-gc-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function clientOptions(srv: RecordingServer, name: string, over: Partial<ClientOptions>): ClientOptions {
  return {
    dataDir: join(dir, name),
    servers: [srv.addr],
    region: 'global',
    datacenter: 'dc1',
    name,
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
    ...over,
  };
}

void describe('client allocation GC and stop', () => {
  void it('over gc_max_allocs, removes the oldest terminal allocations (dirs and state), never a running one', async () => {
    const srv = await startRecordingServer();
    const client = new Client(clientOptions(srv, 'max', { gcMaxAllocs: 2, gcDiskUsageThreshold: 100 }));
    const ids = ['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b', '00000000-0000-4000-8000-00000000000c'];
    const running = '00000000-0000-4000-8000-00000000000d';
    try {
      await client.start();
      await client.waitRegistered(5000);
      for (const id of ids) {
        srv.push([testAllocation(shellJob(`done-${id.slice(-1)}`, 'exit 0'), id)]);
        await until(() => srv.lastUpdate(id)?.ClientStatus === 'complete', 10_000, `alloc ${id} complete`);
      }
      // The third arrival made 3 tracked > 2: the oldest finished one went to make room.
      await until(() => client.trackedAllocCount() === 2, 10_000, 'garbage collection on arrival');
      assert.equal(await exists(join(client.allocsRoot, ids[0]!)), false);
      assert.ok(await exists(join(client.allocsRoot, ids[1]!)));

      // A fourth allocation arrives: the next oldest finished one goes.
      srv.push([testAllocation(shellJob('long', 'sleep 30'), running)]);
      await until(() => !client.allocDir(ids[1]!), 10_000, 'second garbage collection');
      assert.equal(client.trackedAllocCount(), 2);
      assert.equal(await exists(join(client.allocsRoot, ids[1]!)), false);
      assert.ok(await exists(join(client.allocsRoot, ids[2]!)));
      assert.ok(await exists(join(client.allocsRoot, running)));
      // Nothing terminal left over the limit: another pass removes nothing, and never the running one.
      await client.collectGarbage(); // (joins a pass still finishing, if any)
      assert.deepEqual(await client.collectGarbage(), []);

      // A stale push of a collected allocation does not run it again.
      srv.push([testAllocation(shellJob('done-a', 'exit 0'), ids[0]!)]);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await exists(join(client.allocsRoot, ids[0]!)), false);
      await client.stopAllocs();
    } finally {
      await client.stop();
      await srv.close();
    }
    // The local state forgot the collected allocations too.
    const state = ClientStateDB.open(join(dir, 'max', 'state'));
    try {
      assert.deepEqual(state.all().map((s) => s.alloc.ID).sort(), [ids[2], running]);
    } finally {
      await state.close();
    }
  });

  void it('over gc_disk_usage_threshold, removes terminal allocations even under gc_max_allocs', async () => {
    const srv = await startRecordingServer();
    // Threshold 0 %: any used disk is "too full".
    const client = new Client(clientOptions(srv, 'disk', { gcMaxAllocs: 50, gcDiskUsageThreshold: 0 }));
    const id = '00000000-0000-4000-8000-0000000000d1';
    try {
      await client.start();
      await client.waitRegistered(5000);
      srv.push([testAllocation(shellJob('d', 'exit 0'), id)]);
      await until(() => srv.lastUpdate(id)?.ClientStatus === 'complete', 10_000, 'alloc complete');
      // The GC waits until the allocation's last status update has been sent.
      let removed: string[] = [];
      const deadline = Date.now() + 5000;
      while (removed.length === 0 && Date.now() < deadline) {
        removed = await client.collectGarbage();
        if (removed.length === 0) await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(removed, [id]);
      assert.equal(await exists(join(client.allocsRoot, id)), false);
    } finally {
      await client.stop();
      await srv.close();
    }
  });

  /**
   * Runs a task that ignores SIGINT/SIGTERM (only the SIGKILL after its kill timeout ends it),
   * has the server stop it once it is up, and returns how long the stop took and the task's
   * Killing event.
   */
  async function stopStubborn(name: string, id: string, killTimeoutNs: number, opts: Partial<ClientOptions>): Promise<{ took: number; killing: TaskEvent | undefined }> {
    const srv = await startRecordingServer();
    const client = new Client(clientOptions(srv, name, opts));
    const alloc = testAllocation(shellJob('stubborn', 'trap "" INT TERM; echo up; while :; do sleep 0.1; done', { KillTimeout: killTimeoutNs }), id);
    try {
      await client.start();
      await client.waitRegistered(5000);
      srv.push([alloc]);
      await until(() => srv.lastUpdate(id)?.ClientStatus === 'running', 10_000, 'alloc running');
      // Running means started, not that the shell has set its trap yet: a stop before the trap
      // would end it at once. It prints once the trap is set.
      const stdout = join(client.allocsRoot, id, 'alloc', 'logs', 'main.stdout.0');
      const deadline = Date.now() + 10_000;
      while (!(await readFile(stdout, 'utf8').catch(() => '')).includes('up')) {
        if (Date.now() > deadline) throw new Error('the task never printed that its trap is set');
        await new Promise((r) => setTimeout(r, 20));
      }
      const t0 = Date.now();
      srv.push([{ ...alloc, DesiredStatus: 'stop', DesiredDescription: 'alloc is being stopped by user' }]);
      await until(() => srv.lastUpdate(id)?.TaskStates['main']?.State === 'dead', 40_000, 'task dead');
      const took = Date.now() - t0;
      const events = srv.lastUpdate(id)!.TaskStates['main']!.Events;
      assert.ok(events.some((e) => e.Type === 'Killed'), events.map((e) => e.Type).join(', '));
      assert.equal(srv.lastUpdate(id)?.ClientStatus, 'complete');
      return { took, killing: events.find((e) => e.Type === 'Killing') };
    } finally {
      await client.stop();
      await srv.close();
    }
  }

  void it('a server stop of a running allocation kills a task that ignores signals within kill_timeout', async () => {
    const { took, killing } = await stopStubborn('stop', '00000000-0000-4000-8000-0000000000e1', 1 * S, {});
    assert.ok(took >= 900 && took < 3000, `stopped after ${took} ms; kill_timeout is 1 s`);
    assert.equal(killing?.KillTimeout, 1 * S);
  });

  void it("the client's max_kill_timeout caps a task's longer kill_timeout", async () => {
    const { took, killing } = await stopStubborn('cap', '00000000-0000-4000-8000-0000000000e2', 60 * S, { maxKillTimeoutMs: 1000 });
    assert.ok(took >= 900 && took < 3000, `stopped after ${took} ms; kill_timeout 60 s capped at 1 s`);
    assert.equal(killing?.KillTimeout, 1 * S, 'the Killing event shows the timeout in force');
  });
});
