/**
 * Three real server agents (`yurt agent -server`, bootstrap_expect = 3) on loopback for the
 * heartbeat benchmark, each in its own process so the leader's CPU and memory can be read
 * alone from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../agent/testing/agent-process.js';

const BIN = fileURLToPath(new URL('../../bin/yurt.js', import.meta.url));

export interface BenchServer {
  name: string;
  rpc: string;
  http: string;
  proc: ChildProcess;
}

export interface BenchCluster {
  servers: BenchServer[];
  leader(): Promise<BenchServer>;
  stop(): Promise<void>;
}

export async function startBenchCluster(serverHcl: string): Promise<BenchCluster> {
  const root = mkdtempSync(join(tmpdir(), 'yurt-bench-cluster-'));
  const config = join(root, 'server.hcl');
  writeFileSync(config, serverHcl);
  const ports = await Promise.all([0, 1, 2].map(async () => ({ rpc: await freePort(), http: await freePort() })));
  const join3 = ports.flatMap((p) => ['-retry-join', `127.0.0.1:${p.rpc}`]);
  const servers = ports.map((p, i): BenchServer => {
    const name = `bench-s${i + 1}`;
    const proc = spawn(
      process.execPath,
      [BIN, 'agent', '-server', '-bootstrap-expect', '3', '-node', name, '-data-dir', join(root, name), '-config', config, '-bind', '127.0.0.1', '-http-port', String(p.http), '-rpc-port', String(p.rpc), '-log-level', 'warn', ...join3],
      // BENCH_FROM_DIST=1 runs the compiled build (npm run build), as production does: no tsx in memory.
      { env: { ...process.env, ...(process.env['BENCH_FROM_DIST'] === '1' ? {} : { YURT_FROM_SOURCE: '1' }) }, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    return { name, rpc: `127.0.0.1:${p.rpc}`, http: `http://127.0.0.1:${p.http}`, proc };
  });
  const leader = async (): Promise<BenchServer> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const addr = await fetch(`${servers[0]!.http}/v1/status/leader`)
        .then((r) => r.json() as Promise<string>)
        .catch(() => '');
      const found = servers.find((s) => s.rpc === addr);
      if (found) return found;
      if (Date.now() > deadline) throw new Error('the bench cluster elected no leader within 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  return {
    servers,
    leader,
    stop: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              if (s.proc.exitCode !== null) return resolve();
              s.proc.once('exit', () => resolve());
              s.proc.kill('SIGINT');
            }),
        ),
      );
      rmSync(root, { recursive: true, force: true });
    },
  };
}
