/**
 * Real agent processes: a client whose `servers` list starts with a dead address registers
 * through the next one, and when that server restarts the client registers again and its
 * running allocation carries on: not restarted, not replaced. Then `alloc stop` through the
 * HTTP API kills the task (which ignores SIGINT) within its kill_timeout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Allocation, AllocListStub } from '../../structs/alloc.js';
import type { Job } from '../../structs/job.js';
import type { Node } from '../../structs/node.js';
import { eventually, freePort } from '../testing/agent-process.js';

const BIN = fileURLToPath(new URL('../../bin/yurt.js', import.meta.url));

interface Proc {
  proc: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Like testing/agent-process.ts, but on ports the test chooses, so a restart keeps its address. */
async function spawnAgent(args: string[]): Promise<Proc> {
  const proc = spawn(process.execPath, [BIN, 'agent', '-bind', '127.0.0.1', ...args], {
    env: { ...process.env, YURT_FROM_SOURCE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  while (!out.includes('yurt agent started')) {
    if (proc.exitCode !== null) throw new Error(`agent exited early (${proc.exitCode}):\n${out}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`agent did not start in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    proc,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

const JOB = `
job "steady" {
  type = "service"
  group "g" {
    task "stubborn" {
      driver       = "exec"
      kill_timeout = "2s"
      config {
        command = "/bin/sh"
        args    = ["-c", "trap '' INT TERM; echo up; while :; do sleep 0.2; done"]
      }
      resources {
        memory = 32
      }
    }
  }
}
`;

const get = async <T>(url: string): Promise<T> => (await fetch(url)).json() as Promise<T>;

async function stopJob(api: string): Promise<void> {
  await fetch(`${api}/v1/job/steady`, { method: 'DELETE' });
  await eventually(
    async () => ((await get<AllocListStub[]>(`${api}/v1/job/steady/allocations`)).every((a) => a.ClientStatus !== 'running' && a.ClientStatus !== 'pending') ? true : undefined),
    30_000,
    'the job stopped',
  );
}

void test('client fails over past a dead server, survives a server restart, and alloc stop honours kill_timeout', { timeout: 150_000 }, async () => {
  const serverDir = mkdtempSync(join(tmpdir(), 'yurt-fo-server-'));
  const clientDir = mkdtempSync(join(tmpdir(), 'yurt-fo-client-'));
  const [deadRpc, srvHttp, srvRpc, cliHttp, cliRpc] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const api = `http://127.0.0.1:${srvHttp}`;
  const serverArgs = ['-server', '-bootstrap-expect', '1', '-data-dir', serverDir, '-http-port', String(srvHttp), '-rpc-port', String(srvRpc)];
  let server = await spawnAgent(serverArgs);
  let client: Proc | null = null;
  try {
    client = await spawnAgent([
      '-client',
      '-servers',
      `127.0.0.1:${deadRpc},127.0.0.1:${srvRpc}`,
      '-data-dir',
      clientDir,
      '-http-port',
      String(cliHttp),
      '-rpc-port',
      String(cliRpc),
    ]);
    const cli = client;
    const node = await eventually(async () => (await get<Node[]>(`${api}/v1/nodes`)).find((n) => n.Status === 'ready'), 30_000, 'client node ready');
    // The node shows as ready a moment before the client logs that it is watching its allocations.
    await eventually(async () => (new RegExp(`node registered.*127\\.0\\.0\\.1:${srvRpc}`).test(cli.output()) ? true : undefined), 10_000, 'registered through the second server');

    const parsed = await fetch(`${api}/v1/jobs/parse`, { method: 'POST', body: JSON.stringify({ JobHCL: JOB }) });
    assert.equal(parsed.status, 200, await parsed.clone().text());
    const submitted = await fetch(`${api}/v1/jobs`, { method: 'POST', body: JSON.stringify({ Job: (await parsed.json()) as Job }) });
    assert.equal(submitted.status, 200);
    const running = await eventually(
      async () => (await get<AllocListStub[]>(`${api}/v1/job/steady/allocations`)).find((a) => a.ClientStatus === 'running'),
      30_000,
      'allocation running',
    );
    assert.equal(running.NodeID, node.ID);

    // The server goes away and comes back on the same address and data dir.
    await server.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    server = await spawnAgent(serverArgs);
    await eventually(async () => ((cli.output().match(/node registered/g) ?? []).length >= 2 ? true : undefined), 30_000, 'client registered again');
    await eventually(async () => (await get<Node[]>(`${api}/v1/nodes`)).find((n) => n.ID === node.ID && n.Status === 'ready'), 30_000, 'node ready after restart');

    const after = await get<Allocation>(`${api}/v1/allocation/${running.ID}`);
    assert.equal(after.ClientStatus, 'running');
    assert.equal(after.TaskStates['stubborn']?.Restarts, 0);
    assert.equal(after.TaskStates['stubborn']?.Events.filter((e) => e.Type === 'Started').length, 1, 'the task was not started again');
    const allocs = await get<AllocListStub[]>(`${api}/v1/job/steady/allocations`);
    assert.equal(allocs.filter((a) => a.DesiredStatus === 'run').length, 1, 'no replacement allocation');

    // alloc stop: the task ignores SIGINT, so only the SIGKILL after kill_timeout (2 s) ends it.
    const t0 = Date.now();
    const stop = await fetch(`${api}/v1/allocation/${running.ID}/stop`, { method: 'POST' });
    assert.equal(stop.status, 200, await stop.clone().text());
    const stopped = await eventually(
      async () => {
        const a = await get<Allocation>(`${api}/v1/allocation/${running.ID}`);
        return a.TaskStates['stubborn']?.State === 'dead' ? a : undefined;
      },
      30_000,
      'task killed',
    );
    const took = Date.now() - t0;
    assert.ok(took >= 1800 && took < 10_000, `task stopped after ${took} ms with kill_timeout 2 s`);
    const types = stopped.TaskStates['stubborn']!.Events.map((e) => e.Type);
    assert.ok(types.includes('Killing') && types.includes('Killed'), types.join(', '));
  } catch (e) {
    process.stderr.write(`server output:\n${server.output()}\nclient output:\n${client?.output() ?? ''}\n`);
    throw e;
  } finally {
    // `alloc stop` places a replacement, and a client that shuts down leaves its tasks running
    // (as Nomad's does): stop the job and wait for its tasks so nothing outlives the test.
    await stopJob(api).catch(() => undefined);
    await client?.stop('SIGINT');
    await server.stop('SIGINT');
    rmSync(serverDir, { recursive: true, force: true });
    rmSync(clientDir, { recursive: true, force: true });
  }
});
