/**
 * A client built from an agent config file (clientOptionsFromConfig) against a real server
 * agent on loopback: the node the servers see reflects the config (host volumes, driver and
 * fingerprint deny lists), the client allocation endpoints work when asked of the server
 * (forwarded to the client's own HTTP API), and drain_on_shutdown migrates the node's
 * allocations away before the client stops.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { Allocation, AllocListStub } from '../../structs/alloc.js';
import type { Node } from '../../structs/node.js';
import { Agent } from '../agent.js';
import { resolveAgentConfig, type AgentConfig } from '../config/index.js';
import { HttpApi } from '../http/http-server.js';
import { freePort } from '../testing/agent-process.js';
import type { AllocResourceUsage } from './alloc-stats.js';
import { Client } from './client.js';
import { clientOptionsFromConfig } from './client-options-from-config.js';

const logger = pino({ level: 'silent' });
let dir = '';
let server: Agent;
let serverHttp = '';
let rpcAddr = '';
let client: Client;
let clientApi: HttpApi;
let clientConfig: AgentConfig;

async function api<T>(path: string, init?: RequestInit & { expect?: number }): Promise<{ status: number; body: T; text: string }> {
  const r = await fetch(serverHttp + path, init);
  const text = await r.text();
  if (init?.expect === undefined && !r.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: ${r.status} ${text}`);
  return { status: r.status, body: (text !== '' && r.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined) as T, text };
}

async function eventually<T>(f: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const lines = async (f: string): Promise<string[]> => (await readFile(f, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yurt-client-agent-'));
  const [http, rpc, clientHttp] = [await freePort(), await freePort(), await freePort()];
  const serverConfig = await resolveAgentConfig(
    ['-server', '-bootstrap-expect', '1', '-data-dir', join(dir, 'server'), '-bind', '127.0.0.1', '-http-port', String(http), '-rpc-port', String(rpc)],
    { hostname: 'srv', cpuCount: 1 },
  );
  server = new Agent(serverConfig, logger);
  await server.start();
  serverHttp = `http://127.0.0.1:${http}`;
  rpcAddr = `127.0.0.1:${rpc}`;

  const file = join(dir, 'client.hcl');
  await writeFile(
    file,
    `client {
  enabled = true
  gc_max_allocs = 7
  gc_disk_usage_threshold = 95
  gc_interval = "1h"
  options = {
    "driver.raw_exec.enable" = "1"
    "driver.denylist"        = "docker, wasi"
    "fingerprint.denylist"   = "storage"
    "env.denylist"           = "DB_PASSWORD, VAULT_TOKEN"
  }
  host_volume "scratch" {
    path      = "${dir}"
    read_only = true
  }
  drain_on_shutdown {
    deadline = "20s"
  }
}
`,
  );
  clientConfig = await resolveAgentConfig(
    ['-client', '-config', file, '-data-dir', join(dir, 'client'), '-servers', rpcAddr, '-bind', '127.0.0.1', '-http-port', String(clientHttp)],
    { hostname: 'worker-1', cpuCount: 1 },
  );
  client = new Client(clientOptionsFromConfig(clientConfig, { servers: clientConfig.client.servers, httpAddr: `127.0.0.1:${clientHttp}`, logger }));
  clientApi = new HttpApi(
    { server: null, endpoints: null, client, region: 'global', datacenter: 'dc1', nodeName: 'worker-1', version: 'test', members: () => [], config: () => ({}) },
    logger,
  );
  await clientApi.listen('127.0.0.1', clientHttp);
  await client.start();
  await client.waitRegistered(20_000);
});

after(async () => {
  await client.stopAllocs().catch(() => undefined);
  await client.stop().catch(() => undefined);
  await clientApi.close();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

void describe('a client configured from an agent config file', { timeout: 180_000 }, () => {
  void it('maps the client stanza onto the client options', () => {
    const o = clientOptionsFromConfig(clientConfig, { servers: [rpcAddr], httpAddr: 'x:1', logger });
    assert.equal(o.gcMaxAllocs, 7);
    assert.equal(o.gcDiskUsageThreshold, 95);
    assert.equal(o.gcIntervalMs, 3_600_000);
    assert.deepEqual(o.driverDenylist, ['docker', 'wasi']);
    assert.deepEqual(o.fingerprintDenylist, ['storage']);
    assert.deepEqual(o.envDenylist, ['DB_PASSWORD', 'VAULT_TOKEN']);
    assert.deepEqual(o.drainOnShutdown, { deadlineMs: 20_000, force: false, ignoreSystemJobs: false });
    assert.equal(o.dataDir, join(dir, 'client', 'client'));
  });

  void it('registers a node with its host volumes, without denied drivers or fingerprints', async () => {
    const node = await eventually(async () => {
      const n = (await api<Node>(`/v1/node/${client.nodeId()}`)).body;
      return n.Status === 'ready' ? n : undefined;
    }, 20_000, 'node ready');
    assert.deepEqual(node.HostVolumes, { scratch: { Name: 'scratch', Path: dir, ReadOnly: true } });
    assert.ok(node.Drivers['raw_exec']?.Detected);
    assert.ok(node.Drivers['exec']);
    assert.equal(node.Drivers['docker'], undefined);
    assert.equal(node.Drivers['wasi'], undefined);
    assert.equal(Object.keys(node.Attributes).filter((k) => k.startsWith('unique.storage.')).length, 0);
    assert.ok(node.Attributes['kernel.name'], 'other fingerprints remain');
  });

  void it('restarts, signals and measures an allocation through the server, which forwards to the client', async () => {
    const marks = join(dir, 'web-marks');
    const job = {
      ID: 'web',
      Type: 'service',
      Datacenters: ['dc1'],
      TaskGroups: [
        {
          Name: 'g',
          Count: 1,
          Tasks: [
            {
              Name: 'web',
              Driver: 'raw_exec',
              KillTimeout: 2e9,
              KillSignal: 'SIGTERM',
              Resources: { CPU: 100, MemoryMB: 32 },
              Config: { command: '/bin/sh', args: ['-c', `echo $$ >> ${marks}; trap 'echo hup >> ${marks}' HUP; trap 'exit 0' TERM; while :; do sleep 0.05; done`] },
            },
          ],
        },
      ],
    };
    await api('/v1/jobs', { method: 'POST', body: JSON.stringify({ Job: job }) });
    const alloc = await eventually(async () => {
      const a = (await api<AllocListStub[]>('/v1/job/web/allocations')).body.find((x) => x.ClientStatus === 'running');
      return a && (await lines(marks)).length === 1 ? a : undefined;
    }, 30_000, 'allocation running');
    const base = `/v1/client/allocation/${alloc.ID}`;

    await api(`${base}/signal`, { method: 'POST', body: JSON.stringify({ Task: 'web', Signal: 'SIGHUP' }) });
    await eventually(async () => ((await lines(marks)).includes('hup') ? true : undefined), 10_000, 'the task got SIGHUP');

    const bad = await api(`${base}/signal`, { method: 'POST', body: JSON.stringify({ Task: 'web', Signal: 'SIGBOGUS' }), expect: 400 });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /unknown signal "SIGBOGUS"/);
    const badBody = await api(`${base}/restart`, { method: 'POST', body: JSON.stringify({ TaskName: 7 }), expect: 400 });
    assert.equal(badBody.status, 400);
    assert.match(badBody.text, /TaskName/);

    await api(`${base}/restart`, { method: 'POST', body: JSON.stringify({ TaskName: 'web' }) });
    await eventually(async () => ((await lines(marks)).filter((l) => /^\d+$/.test(l)).length === 2 ? true : undefined), 10_000, 'the task restarted');

    const stats = await eventually(async () => {
      const s = (await api<AllocResourceUsage>(`${base}/stats`)).body;
      return s.Tasks['web'] ? s : undefined;
    }, 10_000, 'stats of the restarted task');
    assert.ok(stats.Tasks['web']!.ResourceUsage.MemoryStats.RSS > 0);
    assert.equal(typeof stats.ResourceUsage.CpuStats.Percent, 'number');

    const events = await eventually(async () => {
      const a = (await api<Allocation>(`/v1/allocation/${alloc.ID}`)).body;
      const types = a.TaskStates['web']?.Events.map((e) => e.Type) ?? [];
      return types.includes('Restart Signaled') && types.includes('Signaling') ? types : undefined;
    }, 10_000, 'the events reached the server');
    assert.ok(events.includes('Restarting'));

    const missing = await api(`/v1/client/allocation/00000000-0000-4000-8000-000000000000/stats`, { expect: 404 });
    assert.equal(missing.status, 404);
  });

  void it('drain_on_shutdown: the node is drained and its allocations stopped before the client stops', async () => {
    // The allocation from the previous test runs again after its restart.
    const running = await eventually(
      async () => (await api<AllocListStub[]>('/v1/job/web/allocations')).body.find((x) => x.ClientStatus === 'running'),
      10_000,
      'the allocation running',
    );
    const pids = (await lines(join(dir, 'web-marks'))).filter((l) => /^\d+$/.test(l));
    const pid = Number(pids.at(-1));
    await client.shutdown();
    const a = (await api<Allocation>(`/v1/allocation/${running.ID}`)).body;
    assert.equal(a.DesiredStatus, 'stop');
    assert.equal(a.DesiredTransition.Migrate, true);
    assert.equal(a.ClientStatus, 'complete', 'the final status reached the server before the client stopped');
    const node = (await api<Node>(`/v1/node/${client.nodeId()}`)).body;
    assert.equal(node.SchedulingEligibility, 'ineligible');
    assert.throws(() => process.kill(pid, 0), 'the task process is gone');
  });
});
