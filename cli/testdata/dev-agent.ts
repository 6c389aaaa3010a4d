/**
 * Test support: a real `yurt agent -dev` process (server + client, raw_exec enabled) started
 * through bin/yurt.js as a user would, for CLI tests that must meet the real API. The CLI
 * may not import the agent's code, so this talks to it over HTTP only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/yurt.js', import.meta.url));

export interface DevAgentProcess {
  address: string;
  output(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function startDevAgentProcess(timeoutMs = 60_000): Promise<DevAgentProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'yurt-cli-agent-'));
  const httpPort = await freePort();
  const rpcPort = await freePort();
  const proc: ChildProcess = spawn(
    process.execPath,
    [BIN, 'agent', '-dev', '-data-dir', dataDir, '-bind', '127.0.0.1', '-http-port', String(httpPort), '-rpc-port', String(rpcPort)],
    { env: { ...process.env, YURT_FROM_SOURCE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const address = `http://127.0.0.1:${httpPort}`;
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null) proc.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`agent exited early (${proc.exitCode}):\n${out}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`agent not ready in time:\n${out}`);
    }
    try {
      const nodes = (await (await fetch(`${address}/v1/nodes`)).json()) as Array<{ Status: string }>;
      if (nodes.some((n) => n.Status === 'ready')) break;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { address, output: () => out, stop };
}
