/**
 * ACLs across a server agent and a client-only agent, both started with `-acl-enabled`
 * (real agents in this process: LMDB, Raft, websocket RPC and HTTP on loopback, a raw_exec
 * task writing a log):
 *   - a request for logs, files or stats sent to the server is relayed to the client's
 *     agent with the caller's token, and the client enforces it too (it resolves the token
 *     by asking the servers over RPC, ACL.ResolveToken);
 *   - the client agent's own endpoints refuse unknown tokens and tokens without the
 *     capability, and fail closed (503) when no server can tell it who a token is.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import type { ACLToken } from '../../structs/acl.js';
import { Agent } from '../agent.js';
import { resolveAgentConfig } from '../config/index.js';
import { freePort } from '../testing/agent-process.js';
import { sleeperJob } from '../testing/sleeper-job.js';

const logger = pino({ level: 'silent' });
let dir = '';
let server: Agent | null = null;
let client: Agent | null = null;
let serverHttp = '';
let clientHttp = '';
let mgmt: ACLToken;
let allocId = '';

interface Res {
  status: number;
  text: string;
}

async function call(base: string, method: string, path: string, opts: { token?: string; bearer?: string; body?: unknown } = {}): Promise<Res> {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers['X-Nomad-Token'] = opts.token;
  if (opts.bearer !== undefined) headers['Authorization'] = `Bearer ${opts.bearer}`;
  const res = await fetch(`${base}${path}`, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  return { status: res.status, text: await res.text() };
}

async function ok<T>(base: string, method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<T> {
  const r = await call(base, method, path, opts);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  return JSON.parse(r.text) as T;
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

async function tokenWith(name: string, capabilities: string[]): Promise<ACLToken> {
  const rules = `namespace "default" {\n  capabilities = [${capabilities.map((c) => `"${c}"`).join(', ')}]\n}\n`;
  await ok(serverHttp, 'POST', `/v1/acl/policy/${name}`, { token: mgmt.SecretID, body: { Name: name, Rules: rules } });
  return ok<ACLToken>(serverHttp, 'POST', '/v1/acl/token', { token: mgmt.SecretID, body: { Name: name, Type: 'client', Policies: [name] } });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yurt-acl-client-'));
  const [sHttp, sRpc, cHttp] = [await freePort(), await freePort(), await freePort()];
  const serverConfig = await resolveAgentConfig(
    ['-server', '-bootstrap-expect', '1', '-acl-enabled', '-data-dir', join(dir, 'server'), '-bind', '127.0.0.1', '-http-port', String(sHttp), '-rpc-port', String(sRpc)],
    { hostname: 'srv', cpuCount: 1 },
  );
  server = new Agent(serverConfig, logger);
  await server.start();
  serverHttp = `http://127.0.0.1:${sHttp}`;

  const file = join(dir, 'client.hcl');
  await writeFile(file, 'client {\n  options = {\n    "driver.raw_exec.enable" = "1"\n  }\n}\n');
  const clientConfig = await resolveAgentConfig(
    ['-client', '-acl-enabled', '-config', file, '-data-dir', join(dir, 'client'), '-servers', `127.0.0.1:${sRpc}`, '-bind', '127.0.0.1', '-http-port', String(cHttp)],
    { hostname: 'worker', cpuCount: 1 },
  );
  client = new Agent(clientConfig, logger);
  await client.start();
  clientHttp = `http://127.0.0.1:${cHttp}`;

  mgmt = await until('ACL bootstrap', () => ok<ACLToken>(serverHttp, 'POST', '/v1/acl/bootstrap'));
  await until('the client node', async () => {
    const nodes = await ok<Array<{ Status: string }>>(serverHttp, 'GET', '/v1/nodes', { token: mgmt.SecretID });
    return nodes.some((n) => n.Status === 'ready') ? true : undefined;
  });
  const job = sleeperJob('talker', 'hello-from-the-node');

  await ok(serverHttp, 'POST', '/v1/jobs', { token: mgmt.SecretID, body: job });
  allocId = await until('a running allocation', async () => {
    const allocs = await ok<Array<{ ID: string; ClientStatus: string }>>(serverHttp, 'GET', '/v1/job/talker/allocations', { token: mgmt.SecretID });
    return allocs.find((a) => a.ClientStatus === 'running')?.ID;
  });
  await until('the task\'s first log line', async () => {
    const r = await call(clientHttp, 'GET', `/v1/client/fs/logs/${allocId}?task=t&type=stdout&plain=true`, { token: mgmt.SecretID });
    return r.text.includes('hello-from-the-node') ? true : undefined;
  });
});

after(async () => {
  await client?.stop({ stopAllocs: true }).catch(() => undefined);
  await server?.stop().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

const logsPath = (): string => `/v1/client/fs/logs/${allocId}?task=t&type=stdout&plain=true`;

void test('through the server: the caller\'s token reaches the node, which enforces it', { timeout: 60_000 }, async () => {
  const logs = await tokenWith('logs', ['read-logs', 'read-fs']);
  const reader = await tokenWith('reader', ['read-job']);

  const viaServer = await call(serverHttp, 'GET', logsPath(), { token: logs.SecretID });
  assert.equal(viaServer.status, 200, viaServer.text);
  assert.match(viaServer.text, /hello-from-the-node/);
  // The token is relayed whichever header carried it.
  const bearer = await call(serverHttp, 'GET', logsPath(), { bearer: logs.SecretID });
  assert.equal(bearer.status, 200, bearer.text);
  const cat = await call(serverHttp, 'GET', `/v1/client/fs/cat/${allocId}?path=/alloc/logs/t.stdout.0`, { token: logs.SecretID });
  assert.equal(cat.status, 200, cat.text);
  assert.match(cat.text, /hello-from-the-node/);
  const stats = await call(serverHttp, 'GET', `/v1/client/allocation/${allocId}/stats`, { token: reader.SecretID });
  assert.equal(stats.status, 200, stats.text);

  const refused = await call(serverHttp, 'GET', logsPath(), { token: reader.SecretID });
  assert.equal(refused.status, 403);
  assert.equal(refused.text.trim(), 'Permission denied');
  const noLifecycle = await call(serverHttp, 'POST', `/v1/client/allocation/${allocId}/signal`, { token: reader.SecretID, body: { Signal: 'SIGUSR1' } });
  assert.equal(noLifecycle.status, 403);
});

void test('on the client agent: tokens resolved through the servers', { timeout: 60_000 }, async () => {
  const logs = await tokenWith('logs2', ['read-logs']);
  const reader = await tokenWith('reader2', ['read-job']);
  const direct = await call(clientHttp, 'GET', logsPath(), { token: logs.SecretID });
  assert.equal(direct.status, 200, direct.text);
  assert.match(direct.text, /hello-from-the-node/);

  const unknown = await call(clientHttp, 'GET', logsPath(), { token: '6f1d7f4e-0000-4000-8000-00000000dead' });
  assert.equal(unknown.status, 403);
  assert.equal(unknown.text.trim(), 'ACL token not found');
  const anonymous = await call(clientHttp, 'GET', logsPath());
  assert.equal(anonymous.status, 403);
  const withoutCapability = await call(clientHttp, 'GET', logsPath(), { token: reader.SecretID });
  assert.equal(withoutCapability.status, 403);
  assert.equal(withoutCapability.text.trim(), 'Permission denied');
  const execRefused = await call(clientHttp, 'GET', `/v1/client/fs/ls/${allocId}?path=/`, { token: logs.SecretID });
  assert.equal(execRefused.status, 403, 'read-logs does not grant read-fs');
});

void test('with no server to ask, the client agent fails closed', { timeout: 60_000 }, async () => {
  const resolvedBefore = await tokenWith('logs3', ['read-logs']);
  const neverSeen = await tokenWith('logs4', ['read-logs']);
  assert.equal((await call(clientHttp, 'GET', logsPath(), { token: resolvedBefore.SecretID })).status, 200);

  await server?.stop();
  server = null;
  const r = await call(clientHttp, 'GET', logsPath(), { token: neverSeen.SecretID });
  assert.ok(r.status >= 500 && r.status < 600, `want a 5xx, got ${r.status} ${r.text}`);
  assert.match(r.text, /cannot check the ACL token: no server answered/);
  const unknown = await call(clientHttp, 'GET', logsPath(), { token: '6f1d7f4e-0000-4000-8000-00000000beef' });
  assert.ok(unknown.status >= 500 && unknown.status < 600, `an unknown token is never allowed: ${unknown.status}`);
  // A token this client resolved within its TTL is still known.
  assert.equal((await call(clientHttp, 'GET', logsPath(), { token: resolvedBefore.SecretID })).status, 200);
});
