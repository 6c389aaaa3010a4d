/**
 * Relays from a server to the node running an allocation when every agent serves its API
 * over HTTPS with `verify_https_client`: a server agent and a client-only agent in this
 * process (LMDB, Raft, websocket RPC, HTTPS on loopback, a raw_exec task). Logs, stats and
 * exec asked of the server reach the node over HTTPS, the server presenting its own
 * certificate, and come back to the caller.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import WebSocket from 'ws';
import { Agent } from '../agent.js';
import { resolveAgentConfig } from '../config/index.js';
import { freePort } from '../testing/agent-process.js';
import { makeTestPki, type TestCert, type TestPki } from './testing/test-pki.js';
import { sleeperJob } from '../testing/sleeper-job.js';

const logger = pino({ level: 'silent' });
let pki: TestPki;
let dir = '';
let server: Agent | null = null;
let client: Agent | null = null;
let serverPort = 0;
let allocId = '';

function get(port: number, path: string, method = 'GET', body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, ca: pki.ca, cert: pki.cli.cert, key: pki.cli.key }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function tlsConfig(name: string, cert: TestCert, extra = ''): Promise<string> {
  const file = join(dir, `${name}.hcl`);
  await writeFile(
    file,
    `tls {\n  http = true\n  verify_https_client = true\n  ca_file = "${pki.caFile}"\n  cert_file = "${cert.certFile}"\n  key_file = "${cert.keyFile}"\n}\n${extra}`,
  );
  return file;
}

before(async () => {
  pki = await makeTestPki();
  dir = await mkdtemp(join(tmpdir(), 'yurt-tls-relay-'));
  const [sHttp, sRpc, cHttp] = [await freePort(), await freePort(), await freePort()];
  serverPort = sHttp;
  const serverConfig = await resolveAgentConfig(
    ['-server', '-bootstrap-expect', '1', '-config', await tlsConfig('server', pki.server), '-data-dir', join(dir, 'server'), '-bind', '127.0.0.1', '-http-port', String(sHttp), '-rpc-port', String(sRpc)],
    { hostname: 'srv', cpuCount: 1 },
  );
  server = new Agent(serverConfig, logger);
  await server.start();
  const clientFile = await tlsConfig('client', pki.client, 'client {\n  options = {\n    "driver.raw_exec.enable" = "1"\n  }\n}\n');
  const clientConfig = await resolveAgentConfig(
    ['-client', '-config', clientFile, '-data-dir', join(dir, 'client'), '-servers', `127.0.0.1:${sRpc}`, '-bind', '127.0.0.1', '-http-port', String(cHttp)],
    { hostname: 'worker', cpuCount: 1 },
  );
  client = new Agent(clientConfig, logger);
  await client.start();

  await until('the client node', async () => {
    const r = await get(sHttp, '/v1/nodes');
    return (JSON.parse(r.text) as Array<{ Status: string }>).some((n) => n.Status === 'ready') ? true : undefined;
  });
  const job = sleeperJob('talker', 'over-tls');

  const reg = await get(sHttp, '/v1/jobs', 'POST', JSON.stringify(job));
  assert.equal(reg.status, 200, reg.text);
  allocId = await until('a running allocation', async () => {
    const r = await get(sHttp, '/v1/job/talker/allocations');
    return (JSON.parse(r.text) as Array<{ ID: string; ClientStatus: string }>).find((a) => a.ClientStatus === 'running')?.ID;
  });
});

after(async () => {
  await client?.stop({ stopAllocs: true }).catch(() => undefined);
  await server?.stop().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
  await pki?.cleanup();
});

void test('logs and stats asked of the server come from the node over HTTPS', { timeout: 60_000 }, async () => {
  const logs = await until('the log line, relayed', async () => {
    const r = await get(serverPort, `/v1/client/fs/logs/${allocId}?task=t&type=stdout&plain=true`);
    return r.status === 200 && r.text.includes('over-tls') ? r : undefined;
  });
  assert.match(logs.text, /over-tls/);
  const stats = await get(serverPort, `/v1/client/allocation/${allocId}/stats`);
  assert.equal(stats.status, 200, stats.text);
  assert.ok('ResourceUsage' in (JSON.parse(stats.text) as object), stats.text);
});

void test('alloc exec through the server relays the websocket over wss', { timeout: 60_000 }, async () => {
  const command = encodeURIComponent(JSON.stringify(['/bin/echo', 'exec-over-tls']));
  const ws = new WebSocket(`wss://127.0.0.1:${serverPort}/v1/client/allocation/${allocId}/exec?task=t&tty=false&command=${command}`, {
    ca: pki.ca,
    cert: pki.cli.cert,
    key: pki.cli.key,
  });
  const result = await new Promise<{ out: string; code: number | undefined }>((resolve, reject) => {
    let out = '';
    ws.on('message', (d: Buffer) => {
      const f = JSON.parse(d.toString('utf8')) as { stdout?: { data?: string }; exited?: boolean; result?: { exit_code?: number } };
      if (f.stdout?.data) out += Buffer.from(f.stdout.data, 'base64').toString('utf8');
      if (f.exited) resolve({ out, code: f.result?.exit_code });
    });
    ws.on('open', () => ws.send(JSON.stringify({ stdin: { close: true } })));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode ?? 0}`)));
    ws.on('error', reject);
  });
  ws.close();
  assert.equal(result.code, 0);
  assert.match(result.out, /exec-over-tls/);
});
