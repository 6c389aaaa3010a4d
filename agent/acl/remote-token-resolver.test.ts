/**
 * The client-side token cache on a fake clock, with the servers' answers scripted at the
 * RPC boundary (the real round trip is acl-client-agent.integration.test.ts): how often the
 * servers are asked, what is never cached, and what happens when they do not answer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ACLTokenListStub } from '../../structs/acl.js';
import { YurtError } from '../../structs/errors.js';
import { RemoteTokenResolver } from './remote-token-resolver.js';
import type { ResolveTokenReply } from './token-resolve-endpoint.js';

const TTL = 30_000;
const LOGS_RULES = 'namespace "default" {\n  capabilities = ["read-logs"]\n}\n';

function stub(over: Partial<ACLTokenListStub> = {}): ACLTokenListStub {
  return { AccessorID: 'a1', Name: 'n', Type: 'client', Policies: ['logs'], Global: false, CreateTime: '2026-11-22T00:00:00Z', ExpirationTime: null, CreateIndex: 1, ModifyIndex: 1, ...over };
}

function harness(answer: (secret: string) => ResolveTokenReply | Error) {
  let now = Date.parse('2026-11-22T10:00:00Z');
  const asked: string[] = [];
  const stale: string[] = [];
  const resolver = new RemoteTokenResolver({
    ttlMs: TTL,
    nowMs: () => now,
    onStale: (e) => stale.push(e.message),
    call: async (method, args) => {
      assert.equal(method, 'ACL.ResolveToken');
      const secret = (args as { SecretID: string }).SecretID;
      asked.push(secret);
      const a = answer(secret);
      if (a instanceof Error) throw a;
      return a;
    },
  });
  return { resolver, asked, stale, advance: (ms: number) => (now += ms) };
}

void test('a resolved token is reused for the TTL, then asked for again', async () => {
  const h = harness(() => ({ Token: stub(), Policies: [{ Name: 'logs', Rules: LOGS_RULES, ModifyIndex: 3 }] }));
  const id = await h.resolver.resolve('s1');
  assert.ok(id.acl.allowNamespaceOperation('default', 'read-logs'));
  assert.ok(!id.acl.allowNamespaceOperation('default', 'alloc-exec'));
  assert.equal(id.token?.SecretID, '', 'the secret is not kept in the cache');
  await h.resolver.resolve('s1');
  h.advance(TTL - 1);
  await h.resolver.resolve('s1');
  assert.deepEqual(h.asked, ['s1']);
  h.advance(2);
  await h.resolver.resolve('s1');
  assert.deepEqual(h.asked, ['s1', 's1']);
});

void test('refusals are passed on and never cached; no token means the anonymous one', async () => {
  let known = false;
  const h = harness((s) => (s === '' ? { Token: null, Policies: [] } : known ? { Token: stub({ Type: 'management' }), Policies: [] } : new YurtError('permission_denied', 'ACL token not found')));
  await assert.rejects(h.resolver.resolve('s2'), /ACL token not found/);
  known = true;
  assert.ok((await h.resolver.resolve('s2')).acl.isManagement);
  const anon = await h.resolver.resolve(undefined);
  assert.equal(anon.token, null);
  assert.ok(!anon.acl.allowNamespaceOperation('default', 'read-logs'));
  assert.deepEqual(h.asked, ['s2', 's2', '']);
});

void test('a cached token stops working at its own expiry, TTL or not', async () => {
  const h = harness(() => ({ Token: stub({ ExpirationTime: '2026-11-22T10:00:10Z' }), Policies: [] }));
  await h.resolver.resolve('s3');
  h.advance(11_000);
  await assert.rejects(h.resolver.resolve('s3'), (e: unknown) => e instanceof YurtError && e.code === 'permission_denied');
});

void test('servers down: a token seen before is used past its TTL, an unseen one fails as unavailable', async () => {
  let up = true;
  const h = harness(() => (up ? { Token: stub(), Policies: [{ Name: 'logs', Rules: LOGS_RULES, ModifyIndex: 3 }] } : new YurtError('unavailable', 'no connection to any server')));
  await h.resolver.resolve('seen');
  up = false;
  h.advance(TTL * 3);
  assert.ok((await h.resolver.resolve('seen')).acl.allowNamespaceOperation('default', 'read-logs'));
  assert.equal(h.stale.length, 1);
  await assert.rejects(h.resolver.resolve('unseen'), (e: unknown) => e instanceof YurtError && e.code === 'unavailable' && /no server answered/.test(e.message));
});
