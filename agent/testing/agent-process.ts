/**
 * Test support: run a real `yurt agent` process on free loopback ports, wait for its banner,
 * and stop it with a signal, as a user would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../consensus/testing/process-cluster.js';

/** A free loopback port outside the ephemeral range (see consensus/testing/process-cluster.ts). */
export { freePort };

const BIN = fileURLToPath(new URL('../../bin/yurt.js', import.meta.url));

export interface AgentProcess {
  proc: ChildProcess;
  http: string;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startAgent(args: string[], opts: { timeoutMs?: number; httpPort?: number; rpcPort?: number } = {}): Promise<AgentProcess> {
  const httpPort = opts.httpPort ?? (await freePort());
  const rpcPort = opts.rpcPort ?? (await freePort());
  const proc = spawn(process.execPath, [BIN, 'agent', ...args, '-bind', '127.0.0.1', '-http-port', String(httpPort), '-rpc-port', String(rpcPort)], {
    env: { ...process.env, YURT_FROM_SOURCE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
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
    http: `http://127.0.0.1:${httpPort}`,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** Poll `fn` until it returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
