/**
 * Test support: certificates made by the CLI's own `yurt tls` commands (a CA with server
 * and CLI certificates, and a second CA that signed nothing the agent trusts), and a real
 * `yurt agent -dev` process serving its API over HTTPS with `verify_https_client`, started
 * through bin/yurt.js. Talks to the agent over HTTPS only (the CLI may not import it).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../run-cli.js';
import { captureIo } from './capture-io.js';
import { startDevAgentProcess } from './dev-agent.js';

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

export interface HttpsAgentProcess {
  /** https://127.0.0.1:<port> */
  address: string;
  output(): string;
  stop(): Promise<void>;
}

/** `yurt agent -dev` with `tls { http = true, verify_https_client = true }`, ready when its banner is out. */
export async function startHttpsAgent(pki: CliPki, timeoutMs = 60_000): Promise<HttpsAgentProcess> {
  const configDir = await mkdtemp(join(tmpdir(), 'yurt-cli-tls-agent-'));
  const config = join(configDir, 'tls.hcl');
  await writeFile(
    config,
    `tls {\n  http = true\n  verify_https_client = true\n  ca_file = "${pki.caFile}"\n  cert_file = "${pki.serverCert}"\n  key_file = "${pki.serverKey}"\n}\n`,
  );
  const agent = await startDevAgentProcess({ timeoutMs, args: ['-config', config], scheme: 'https', ready: (_address, out) => Promise.resolve(out.includes('yurt agent started')) });
  return {
    ...agent,
    stop: async () => {
      await agent.stop();
      await rm(configDir, { recursive: true, force: true });
    },
  };
}
