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

export interface DevAgentOptions {
  timeoutMs?: number;
  /** More agent flags (a `-config` file, say). */
  args?: string[];
  /** `https` when the extra config serves the API over TLS. */
  scheme?: 'http' | 'https';
  /**
   * When the agent counts as ready. Default: a client node reports ready over plain HTTP. An
   * HTTPS agent that wants client certificates cannot be asked that way: wait for its banner.
   */
  ready?: (address: string, output: string) => Promise<boolean>;
}

async function nodeReady(address: string): Promise<boolean> {
  try {
    const nodes = (await (await fetch(`${address}/v1/nodes`)).json()) as Array<{ Status: string }>;
    return nodes.some((n) => n.Status === 'ready');
  } catch {
    // Not listening yet.
    return false;
  }
}

export async function startDevAgentProcess(opts: DevAgentOptions = {}): Promise<DevAgentProcess> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const ready = opts.ready ?? nodeReady;
  const dataDir = mkdtempSync(join(tmpdir(), 'yurt-cli-agent-'));
  const httpPort = await freePort();
  const rpcPort = await freePort();
  const proc: ChildProcess = spawn(
    process.execPath,
    [BIN, 'agent', '-dev', '-data-dir', dataDir, '-bind', '127.0.0.1', '-http-port', String(httpPort), '-rpc-port', String(rpcPort), ...(opts.args ?? [])],
    { env: { ...process.env, YURT_FROM_SOURCE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const address = `${opts.scheme ?? 'http'}://127.0.0.1:${httpPort}`;
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
    if (await ready(address, out)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { address, output: () => out, stop };
}
