/**
 * Test support: certificates made by the CLI's own `yurt tls` commands (a CA with server
 * and CLI certificates, and a second CA that signed nothing the agent trusts), and a real
 * `yurt agent -dev` process serving its API over HTTPS with `verify_https_client`, started
 * through bin/yurt.js. Talks to the agent over HTTPS only (the CLI may not import it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../run-cli.js';
import { captureIo } from './capture-io.js';

const BIN = fileURLToPath(new URL('../../bin/yurt.js', import.meta.url));

export interface CliPki {
  dir: string;
  caFile: string;
  serverCert: string;
  serverKey: string;
  cliCert: string;
  cliKey: string;
  /** A CA of its own, unrelated to the agent's. */
  rogueCaFile: string;
}

async function yurtIn(cwd: string, ...argv: string[]): Promise<void> {
  const io = captureIo({ cwd, nowMs: Date.now() });
  const code = await runCli(argv, io);
  if (code !== 0) throw new Error(`yurt ${argv.join(' ')} failed (${code}): ${io.stderr()}`);
}

export async function makeCliPki(): Promise<CliPki> {
  const dir = await mkdtemp(join(tmpdir(), 'yurt-cli-pki-'));
  const rogue = join(dir, 'rogue');
  await mkdir(rogue);
  await yurtIn(dir, 'tls', 'ca', 'create');
  await yurtIn(rogue, 'tls', 'ca', 'create');
  await yurtIn(dir, 'tls', 'cert', 'create', '-server');
  await yurtIn(dir, 'tls', 'cert', 'create', '-cli');
  return {
    dir,
    caFile: join(dir, 'yurt-agent-ca.pem'),
    serverCert: join(dir, 'global-server-yurt.pem'),
    serverKey: join(dir, 'global-server-yurt-key.pem'),
    cliCert: join(dir, 'global-cli-yurt.pem'),
    cliKey: join(dir, 'global-cli-yurt-key.pem'),
    rogueCaFile: join(rogue, 'yurt-agent-ca.pem'),
  };
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

export interface HttpsAgentProcess {
  /** https://127.0.0.1:<port> */
  address: string;
  output(): string;
  stop(): Promise<void>;
}

/** `yurt agent -dev` with `tls { http = true, verify_https_client = true }`, ready when its banner is out. */
export async function startHttpsAgent(pki: CliPki, timeoutMs = 60_000): Promise<HttpsAgentProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), 'yurt-cli-tls-agent-'));
  const config = join(dataDir, 'tls.hcl');
  await writeFile(
    config,
    `tls {\n  http = true\n  verify_https_client = true\n  ca_file = "${pki.caFile}"\n  cert_file = "${pki.serverCert}"\n  key_file = "${pki.serverKey}"\n}\n`,
  );
  const httpPort = await freePort();
  const rpcPort = await freePort();
  const proc: ChildProcess = spawn(
    process.execPath,
    [BIN, 'agent', '-dev', '-data-dir', join(dataDir, 'data'), '-config', config, '-bind', '127.0.0.1', '-http-port', String(httpPort), '-rpc-port', String(rpcPort)],
    { env: { ...process.env, YURT_FROM_SOURCE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null) proc.kill('SIGTERM');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  while (!out.includes('yurt agent started')) {
    if (proc.exitCode !== null) throw new Error(`agent exited early (${proc.exitCode}):\n${out}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`agent not ready in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { address: `https://127.0.0.1:${httpPort}`, output: () => out, stop };
}
