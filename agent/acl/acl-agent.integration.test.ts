/**
 * ACLs against a real in-process dev agent (server + client with raw_exec, LMDB state, Raft,
 * HTTP on loopback) started from an agent config with `acl { enabled = true }`.
 *
 * The capability matrix: for each grant (one namespace capability, or one node, agent or
 * operator disposition, or nothing at all), every endpoint is called; the endpoints the
 * grant opens must answer anything but 403, every other one exactly 403 "Permission
 * denied". What each endpoint needs is written out here from Nomad's API docs, apart from
 * the implementation's own table, so a wrong entry there shows up as a failure here.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import pino from 'pino';
import type { ACLToken } from '../../structs/acl.js';
import { Agent } from '../agent.js';
import { resolveAgentConfig } from '../config/index.js';
import { sleeperJob } from '../testing/sleeper-job.js';

let agent: Agent;
let base: string;
let dir: string;
let mgmt: ACLToken;
const logLines: string[] = [];
const secrets: string[] = [];

/** A node that does not exist, and other IDs that match nothing: write probes must not change anything. */
const NO_ID = '00000000-0000-4000-8000-000000000000';
let webAllocId = '';
let webEvalId = '';
let nodeId = '';

interface Res {
  status: number;
  text: string;
  json: unknown;
}

async function call(method: string, path: string, opts: { token?: string; bearer?: string; body?: unknown } = {}): Promise<Res> {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers['X-Nomad-Token'] = opts.token;
  if (opts.bearer !== undefined) headers['Authorization'] = `Bearer ${opts.bearer}`;
  const ac = new AbortController();
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    signal: ac.signal,
    ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
  });
  // The event stream never ends: its status is all a probe needs.
  if (path.startsWith('/v1/event/stream') && res.status === 200) {
    ac.abort();
    return { status: res.status, text: '', json: null };
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, text, json };
}

async function ok<T>(method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<T> {
  const r = await call(method, path, opts);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  return r.json as T;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function tokenWith(name: string, rules: string | null, extra: Record<string, unknown> = {}): Promise<ACLToken> {
  if (rules !== null) await ok('POST', `/v1/acl/policy/${name}`, { token: mgmt.SecretID, body: { Name: name, Description: `grants ${name}`, Rules: rules } });
  const t = await ok<ACLToken>('POST', '/v1/acl/token', { token: mgmt.SecretID, body: { Name: name, Type: 'client', Policies: [name], ...extra } });
  secrets.push(t.SecretID);
  return t;
}

async function runningAlloc(jobId: string, namespace: string): Promise<{ ID: string; EvalID: string }> {
  return until(`a running allocation of ${jobId}`, async () => {
    const allocs = await ok<Array<{ ID: string; EvalID: string; ClientStatus: string }>>('GET', `/v1/job/${jobId}/allocations?namespace=${namespace}`, { token: mgmt.SecretID });
    return allocs.find((a) => a.ClientStatus === 'running');
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'yurt-acl-'));
  const cfgFile = join(dir, 'acl.hcl');
  writeFileSync(cfgFile, 'acl {\n  enabled = true\n}\n');
  const config = await resolveAgentConfig(['-dev', '-data-dir', join(dir, 'data'), '-config', cfgFile]);
  assert.equal(config.acl.enabled, true);
  config.ports.http = 0;
  config.ports.rpc = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(chunk.toString('utf8'));
      cb();
    },
  });
  agent = new Agent(config, pino({ level: 'debug' }, sink));
  await agent.start();
  base = `http://127.0.0.1:${agent.httpAddr!.port}`;
  await until('a leader', async () => ((await call('GET', '/v1/status/leader')).json ? true : undefined));

  // Before bootstrap nothing but the public endpoints answers.
  assert.equal((await call('GET', '/v1/jobs')).status, 403);
  mgmt = await ok<ACLToken>('POST', '/v1/acl/bootstrap');
  secrets.push(mgmt.SecretID);

  nodeId = await until('a ready node', async () => {
    const nodes = await ok<Array<{ ID: string; Status: string }>>('GET', '/v1/nodes', { token: mgmt.SecretID });
    return nodes.find((n) => n.Status === 'ready')?.ID;
  });
  await ok('POST', '/v1/jobs', { token: mgmt.SecretID, body: sleeperJob('web', 'started') });
  const a = await runningAlloc('web', 'default');
  webAllocId = a.ID;
  webEvalId = a.EvalID;
});

after(async () => {
  await agent?.stop({ stopAllocs: true });
  rmSync(dir, { recursive: true, force: true });
});

type Need =
  | 'public'
  | 'any-token'
  | 'own-token'
  | 'management'
  | `ns:${string}`
  | 'ns-any'
  | `${'node' | 'agent' | 'operator'}:${'read' | 'write'}`;

interface Probe {
  method: string;
  path: (t: ACLToken | null) => string;
  body?: unknown;
  needs: Need;
}

const p = (method: string, path: string | ((t: ACLToken | null) => string), needs: Need, body?: unknown): Probe => ({
  method,
  path: typeof path === 'string' ? () => path : path,
  needs,
  ...(body !== undefined ? { body } : {}),
});

/** Every endpoint, with what Nomad's docs say it needs. Writes aim at objects that do not exist. */
function probes(): Probe[] {
  const badJob = { Job: { ID: 'probe' } };
  return [
    p('GET', '/v1/jobs', 'ns:list-jobs'),
    p('POST', '/v1/jobs', 'ns:submit-job', badJob),
    p('POST', '/v1/jobs/parse', 'ns:parse-job', { JobHCL: 'job "x" {\n}\n' }),
    p('GET', '/v1/job/web', 'ns:read-job'),
    p('POST', '/v1/job/probe', 'ns:submit-job', badJob),
    p('DELETE', '/v1/job/missing', 'ns:submit-job'),
    p('POST', '/v1/job/probe/plan', 'ns:submit-job', badJob),
    p('GET', '/v1/job/web/summary', 'ns:read-job'),
    p('GET', '/v1/job/web/allocations', 'ns:read-job'),
    p('GET', '/v1/job/web/evaluations', 'ns:read-job'),
    p('GET', '/v1/job/web/versions', 'ns:read-job'),
    p('POST', '/v1/job/missing/evaluate', 'ns:submit-job'),
    p('POST', '/v1/job/missing/revert', 'ns:submit-job', { JobVersion: 0 }),
    p('GET', '/v1/job/web/scale', 'ns:read-job-scaling'),
    p('POST', '/v1/job/missing/scale', 'ns:scale-job', { Count: 1, Target: { Group: 'g' } }),
    p('GET', '/v1/job/web/deployments', 'ns:read-job'),
    p('GET', '/v1/job/web/deployment', 'ns:read-job'),
    p('GET', '/v1/deployments', 'ns:read-job'),
    p('GET', `/v1/deployment/${NO_ID}`, 'ns:read-job'),
    p('GET', '/v1/allocations?namespace=default', 'ns:read-job'),
    p('GET', () => `/v1/allocation/${webAllocId}`, 'ns:read-job'),
    p('POST', `/v1/allocation/${NO_ID}/stop`, 'ns:alloc-lifecycle'),
    p('GET', '/v1/evaluations?namespace=default', 'ns:read-job'),
    p('GET', '/v1/evaluations/count?namespace=default', 'ns:read-job'),
    p('GET', () => `/v1/evaluation/${webEvalId}`, 'ns:read-job'),
    p('GET', () => `/v1/evaluation/${webEvalId}/allocations`, 'ns:read-job'),
    p('GET', () => `/v1/client/fs/logs/${webAllocId}?task=t&type=stdout&plain=true`, 'ns:read-logs'),
    p('GET', () => `/v1/client/fs/ls/${webAllocId}?path=/`, 'ns:read-fs'),
    p('GET', () => `/v1/client/fs/stat/${webAllocId}?path=/alloc`, 'ns:read-fs'),
    p('GET', () => `/v1/client/fs/cat/${webAllocId}?path=/alloc/logs/t.stdout.0`, 'ns:read-fs'),
    p('GET', () => `/v1/client/allocation/${webAllocId}/stats`, 'ns:read-job'),
    p('POST', `/v1/client/allocation/${NO_ID}/restart`, 'ns:alloc-lifecycle', {}),
    p('POST', `/v1/client/allocation/${NO_ID}/signal`, 'ns:alloc-lifecycle', { Signal: 'SIGHUP' }),
    p('GET', '/v1/nodes', 'node:read'),
    p('GET', () => `/v1/node/${nodeId}`, 'node:read'),
    p('GET', () => `/v1/node/${nodeId}/allocations`, 'node:read'),
    p('POST', `/v1/node/${NO_ID}/eligibility`, 'node:write', { Eligibility: 'eligible' }),
    p('POST', `/v1/node/${NO_ID}/drain`, 'node:write', { DrainSpec: null }),
    p('GET', '/v1/agent/self', 'agent:read'),
    p('GET', '/v1/agent/members', 'node:read'),
    p('GET', '/v1/agent/servers', 'agent:read'),
    p('PUT', '/v1/agent/join', 'agent:write'),
    p('PUT', '/v1/agent/force-leave', 'agent:write'),
    p('GET', '/v1/agent/health', 'public'),
    p('GET', '/v1/status/leader', 'public'),
    p('GET', '/v1/status/peers', 'public'),
    p('GET', '/v1/metrics', 'public'),
    p('GET', '/v1/operator/raft/configuration', 'operator:read'),
    p('DELETE', '/v1/operator/raft/peer', 'operator:write'),
    p('GET', '/v1/operator/scheduler/configuration', 'operator:read'),
    p('PUT', '/v1/operator/scheduler/configuration', 'operator:write', '[]'),
    p('PUT', '/v1/system/gc', 'management'),
    p('GET', '/v1/event/stream', 'management'),
    p('POST', '/v1/acl/bootstrap', 'public'),
    p('GET', '/v1/acl/policies', 'any-token'),
    p('GET', (t) => `/v1/acl/policy/${t?.Policies[0] ?? 'anonymous'}`, 'any-token'),
    p('POST', '/v1/acl/policy/probe', 'management', { Rules: 5 }),
    p('DELETE', '/v1/acl/policy/missing', 'management'),
    p('GET', '/v1/acl/tokens', 'management'),
    p('POST', '/v1/acl/token', 'management', { Type: 'bogus' }),
    p('GET', '/v1/acl/token/self', 'any-token'),
    p('GET', (t) => `/v1/acl/token/${t?.AccessorID ?? 'anonymous'}`, 'own-token'),
    p('POST', `/v1/acl/token/${NO_ID}`, 'management', { Name: 'x' }),
    p('DELETE', `/v1/acl/token/${NO_ID}`, 'management'),
    p('GET', '/v1/namespaces', 'any-token'),
    p('GET', '/v1/namespace/default', 'ns-any'),
    p('POST', '/v1/namespace', 'management', { Name: 'not a name' }),
    p('POST', '/v1/namespace/bad!name', 'management', {}),
    p('DELETE', '/v1/namespace/missing', 'management'),
  ];
}

interface Grant {
  label: string;
  rules: string | null;
  ns?: string;
  coarse?: { kind: 'node' | 'agent' | 'operator'; level: 'read' | 'write' };
}

const NS_GRANTS = ['list-jobs', 'parse-job', 'read-job', 'submit-job', 'read-logs', 'read-fs', 'alloc-lifecycle', 'read-job-scaling', 'scale-job', 'alloc-exec'];
const COARSE: Array<Grant['coarse'] & object> = (['node', 'agent', 'operator'] as const).flatMap((kind) => (['read', 'write'] as const).map((level) => ({ kind, level })));

function grants(): Grant[] {
  return [
    { label: 'anonymous', rules: null },
    ...NS_GRANTS.map((c) => ({ label: `ns-${c}`, rules: `namespace "default" {\n  capabilities = ["${c}"]\n}\n`, ns: c })),
    ...COARSE.map((c) => ({ label: `${c.kind}-${c.level}`, rules: `${c.kind} {\n  policy = "${c.level}"\n}\n`, coarse: c })),
  ];
}

function expectAllowed(needs: Need, g: Grant, anonymous: boolean): boolean {
  if (needs === 'public' || needs === 'any-token') return true;
  if (needs === 'own-token') return !anonymous;
  if (needs === 'management') return false;
  if (needs === 'ns-any') return g.ns !== undefined;
  if (needs.startsWith('ns:')) return g.ns === needs.slice(3);
  const [kind, level] = needs.split(':') as ['node' | 'agent' | 'operator', 'read' | 'write'];
  return g.coarse?.kind === kind && (g.coarse.level === 'write' || level === 'read');
}

void test('capability matrix: each grant opens exactly its endpoints; everything else is 403', { timeout: 120_000 }, async () => {
  const failures: string[] = [];
  for (const g of grants()) {
    const token = g.rules === null ? null : await tokenWith(g.label, g.rules);
    for (const probe of probes()) {
      const path = probe.path(token);
      const r = await call(probe.method, path, { ...(token ? { token: token.SecretID } : {}), ...(probe.body !== undefined ? { body: probe.body } : {}) });
      const want = expectAllowed(probe.needs, g, token === null);
      if (want && r.status === 403) failures.push(`${g.label}: ${probe.method} ${path} (needs ${probe.needs}) was refused: ${r.text.trim()}`);
      if (!want && (r.status !== 403 || r.text.trim() !== 'Permission denied')) {
        failures.push(`${g.label}: ${probe.method} ${path} (needs ${probe.needs}) answered ${r.status} ${r.text.trim().slice(0, 80)}, want 403`);
      }
    }
  }
  // A management token passes every check.
  for (const probe of probes()) {
    const path = probe.path(mgmt);
    const r = await call(probe.method, path, { token: mgmt.SecretID, ...(probe.body !== undefined ? { body: probe.body } : {}) });
    if (r.status === 403) failures.push(`management: ${probe.method} ${path} was refused: ${r.text.trim()}`);
  }
  assert.deepEqual(failures, []);
});

void test('bootstrap happens once; unknown tokens are refused; Authorization: Bearer works', async () => {
  const again = await call('POST', '/v1/acl/bootstrap');
  assert.equal(again.status, 400);
  assert.match(again.text, /ACL bootstrap already done/);
  const unknown = await call('GET', '/v1/jobs', { token: NO_ID });
  assert.equal(unknown.status, 403);
  assert.match(unknown.text, /ACL token not found/);
  assert.equal((await call('GET', '/v1/jobs', { bearer: mgmt.SecretID })).status, 200);
  const self = await ok<ACLToken>('GET', '/v1/acl/token/self', { token: mgmt.SecretID });
  assert.equal(self.AccessorID, mgmt.AccessorID);
  assert.equal(self.Type, 'management');
});

void test('an expired token is refused', { timeout: 60_000 }, async () => {
  const t = await tokenWith('short-lived', 'namespace "default" {\n  policy = "read"\n}\n', { ExpirationTTL: '3s' });
  assert.ok(t.ExpirationTime !== null);
  await until('the token to expire', async () => {
    const r = await call('GET', '/v1/jobs', { token: t.SecretID });
    return r.status === 403 && /ACL token expired/.test(r.text) ? true : undefined;
  });
  assert.ok(Date.now() >= Date.parse(t.ExpirationTime), 'refused only once its expiry passed');
});

void test('the anonymous policy applies to requests without a token', async () => {
  assert.equal((await call('GET', '/v1/jobs')).status, 403);
  await ok('POST', '/v1/acl/policy/anonymous', { token: mgmt.SecretID, body: { Rules: 'namespace "default" {\n  capabilities = ["list-jobs"]\n}\n' } });
  const list = await call('GET', '/v1/jobs');
  assert.equal(list.status, 200);
  assert.ok((list.json as Array<{ ID: string }>).some((j) => j.ID === 'web'));
  assert.equal((await call('GET', '/v1/job/web')).status, 403);
  await ok('DELETE', '/v1/acl/policy/anonymous', { token: mgmt.SecretID });
  assert.equal((await call('GET', '/v1/jobs')).status, 403);
});

void test('namespaces isolate jobs, allocations and evaluations', { timeout: 90_000 }, async () => {
  const m = { token: mgmt.SecretID };
  // A job cannot go into a namespace that does not exist.
  const missing = await call('POST', '/v1/jobs', { ...m, body: sleeperJob('api', 'started', 'prod') });
  assert.equal(missing.status, 400);
  assert.match(missing.text, /nonexistent namespace "prod"/);
  await ok('POST', '/v1/namespace/prod', { ...m, body: { Description: 'production', Meta: { team: 'ops' } } });
  await ok('POST', '/v1/jobs', { ...m, body: sleeperJob('api', 'started', 'prod') });
  const prodAlloc = await runningAlloc('api', 'prod');

  const prod = await tokenWith('prod-writer', 'namespace "prod" {\n  policy = "write"\n}\n');
  const t = { token: prod.SecretID };
  // Jobs: each namespace lists only its own.
  const prodJobs = await ok<Array<{ ID: string; Namespace: string }>>('GET', '/v1/jobs?namespace=prod', t);
  assert.deepEqual(prodJobs.map((j) => j.ID), ['api']);
  const defaultJobs = await ok<Array<{ ID: string }>>('GET', '/v1/jobs', m);
  assert.ok(defaultJobs.every((j) => j.ID !== 'api'));
  assert.equal((await call('GET', '/v1/jobs', t)).status, 403);
  assert.equal((await call('GET', '/v1/jobs?namespace=*', t)).status, 403, 'all namespaces needs every namespace');
  assert.equal((await call('GET', '/v1/job/api', t)).status, 403, 'the default namespace is not the token\'s');
  assert.equal((await call('GET', '/v1/job/api?namespace=prod', t)).status, 200);
  assert.equal((await call('GET', '/v1/job/api?namespace=prod', m)).status, 200);
  assert.equal((await call('GET', '/v1/job/api', m)).status, 404, 'not visible from the default namespace');
  // Allocations and evaluations are checked in their own namespace, whatever the query says.
  assert.equal((await call('GET', `/v1/allocation/${prodAlloc.ID}`, t)).status, 200);
  assert.equal((await call('GET', `/v1/allocation/${webAllocId}`, t)).status, 403);
  assert.equal((await call('GET', `/v1/allocation/${webAllocId}?namespace=prod`, t)).status, 403);
  assert.equal((await call('GET', `/v1/evaluation/${prodAlloc.EvalID}`, t)).status, 200);
  assert.equal((await call('GET', `/v1/evaluation/${webEvalId}?namespace=prod`, t)).status, 403);
  const prodAllocs = await ok<Array<{ ID: string }>>('GET', '/v1/allocations?namespace=prod', t);
  assert.deepEqual(prodAllocs.map((a) => a.ID), [prodAlloc.ID]);
  const defaultAllocs = await ok<Array<{ ID: string }>>('GET', '/v1/allocations?namespace=default', m);
  assert.ok(!defaultAllocs.some((a) => a.ID === prodAlloc.ID), 'the default namespace does not list prod allocations');
  // Without a namespace the lists span them all, so they need every namespace.
  assert.equal((await call('GET', '/v1/allocations', t)).status, 403);
  assert.equal((await call('GET', '/v1/evaluations', t)).status, 403);
  const prodEvals = await ok<Array<{ Namespace: string }>>('GET', '/v1/evaluations?namespace=prod', t);
  assert.ok(prodEvals.length > 0 && prodEvals.every((e) => e.Namespace === 'prod'));
  // Submitting: the job's own namespace is the one checked.
  assert.equal((await call('POST', '/v1/jobs', { ...t, body: sleeperJob('sneaky', 'started', 'default') })).status, 403);
  assert.equal((await call('POST', '/v1/jobs?namespace=prod', { ...t, body: sleeperJob('bad job', 'started', 'prod') })).status, 400, 'allowed, then validated');
  // Namespaces: a token sees the ones it has a capability in.
  const visible = await ok<Array<{ Name: string }>>('GET', '/v1/namespaces', t);
  assert.deepEqual(visible.map((n) => n.Name), ['prod']);
  const all = await ok<Array<{ Name: string }>>('GET', '/v1/namespaces', m);
  assert.deepEqual(all.map((n) => n.Name), ['default', 'prod']);
  const info = await ok<{ Name: string; Description: string; Meta: Record<string, string> }>('GET', '/v1/namespace/prod', t);
  assert.deepEqual({ ...info, CreateIndex: 0, ModifyIndex: 0 }, { Name: 'prod', Description: 'production', Meta: { team: 'ops' }, CreateIndex: 0, ModifyIndex: 0 });
  assert.equal((await call('GET', '/v1/namespace/default', t)).status, 403);
  // A namespace with jobs, and the default namespace, cannot be deleted.
  const busy = await call('DELETE', '/v1/namespace/prod', m);
  assert.equal(busy.status, 409);
  assert.match(busy.text, /namespace "prod" still holds 1 job; stop them with -purge first/);
  const dflt = await call('DELETE', '/v1/namespace/default', m);
  assert.equal(dflt.status, 400);
  await ok('DELETE', '/v1/job/api?namespace=prod&purge=true', m);
  await ok('DELETE', '/v1/namespace/prod', m);
  assert.equal((await call('GET', '/v1/namespace/prod', m)).status, 404);
});

void test('token and policy reads show a client token only what is its own; lists hold no secrets', async () => {
  const t = await tokenWith('reader', 'namespace "default" {\n  policy = "read"\n}\n');
  await tokenWith('other', 'node {\n  policy = "read"\n}\n');
  const policies = await ok<Array<{ Name: string }>>('GET', '/v1/acl/policies', { token: t.SecretID });
  assert.deepEqual(policies.map((x) => x.Name), ['reader']);
  assert.equal((await call('GET', '/v1/acl/policy/other', { token: t.SecretID })).status, 403);
  const own = await ok<ACLToken>('GET', `/v1/acl/token/${t.AccessorID}`, { token: t.SecretID });
  assert.equal(own.SecretID, t.SecretID);
  assert.equal((await call('GET', `/v1/acl/token/${mgmt.AccessorID}`, { token: t.SecretID })).status, 403);
  const list = await ok<Array<Record<string, unknown>>>('GET', '/v1/acl/tokens', { token: mgmt.SecretID });
  assert.ok(list.length >= 3);
  for (const stub of list) assert.equal(stub['SecretID'], undefined);
  // Deleting a token revokes it at once.
  await ok('DELETE', `/v1/acl/token/${t.AccessorID}`, { token: mgmt.SecretID });
  assert.equal((await call('GET', '/v1/jobs', { token: t.SecretID })).status, 403);
});

void test('no token secret ever reaches the agent log', () => {
  const log = logLines.join('');
  assert.ok(log.includes('request complete'), 'debug request logs were captured');
  for (const s of secrets) assert.ok(!log.includes(s), 'a secret was logged');
});
