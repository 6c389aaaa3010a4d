/**
 * ACL writes over RPC (how a follower forwards them to the leader) against a real server:
 * with ACLs enabled the leader wants a management token in the call, so reaching the RPC
 * port is not enough to mint tokens.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pino from 'pino';
import type { ACLToken } from '../../structs/acl.js';
import { RpcClient } from '../rpc/rpc-client.js';
import { RpcServer } from '../rpc/rpc-server.js';
import { AclEndpoints } from '../server/acl-endpoints.js';
import { startTestServer, type TestServer } from '../server/testing/test-server.js';

const logger = pino({ level: 'silent' });
let ts: TestServer;
let rpc: RpcServer;
let client: RpcClient;
let endpoints: AclEndpoints;

before(async () => {
  ts = await startTestServer();
  endpoints = new AclEndpoints(ts.server, logger, { aclEnabled: true });
  rpc = new RpcServer(logger);
  endpoints.register(rpc);
  const addr = await rpc.listen('127.0.0.1', 0);
  client = new RpcClient({ servers: [`127.0.0.1:${addr.port}`], logger });
  client.start();
});

after(async () => {
  await client.close();
  await rpc.close();
  await ts.stop();
});

async function refused(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.match((e as Error).message, pattern);
    return true;
  });
}

void test('writes over RPC need a management token in AuthToken; bootstrap does not', async () => {
  await refused(client.call('ACL.UpsertToken', { Name: 'x', Type: 'management' }), /ACL token not found|Permission denied/);
  const mgmt = await client.call<ACLToken>('ACL.Bootstrap', {});
  assert.equal(mgmt.Type, 'management');
  await refused(client.call('ACL.Bootstrap', {}), /ACL bootstrap already done/);

  await refused(client.call('Namespace.Upsert', { Name: 'prod' }), /Permission denied/);
  await refused(client.call('Namespace.Upsert', { Name: 'prod', AuthToken: '00000000-0000-4000-8000-000000000000' }), /ACL token not found/);
  await client.call('Namespace.Upsert', { Name: 'prod', AuthToken: mgmt.SecretID });
  assert.ok(ts.server.state.namespace('prod'));

  await client.call('ACL.UpsertPolicy', { Name: 'ro', Rules: 'namespace "prod" {\n  policy = "read"\n}\n', AuthToken: mgmt.SecretID });
  const reader = await client.call<ACLToken>('ACL.UpsertToken', { Name: 'reader', Policies: ['ro'], AuthToken: mgmt.SecretID });
  assert.equal(reader.Type, 'client');
  assert.ok(ts.server.state.aclTokenBySecret(reader.SecretID));
  // A client token is no better than none for writes.
  await refused(client.call('ACL.UpsertToken', { Name: 'y', Type: 'management', AuthToken: reader.SecretID }), /Permission denied/);
  await refused(client.call('ACL.DeletePolicy', { Name: 'ro', AuthToken: reader.SecretID }), /Permission denied/);
  await client.call('ACL.DeleteToken', { AccessorID: reader.AccessorID, AuthToken: mgmt.SecretID });
  assert.equal(ts.server.state.aclTokenBySecret(reader.SecretID), null);
});

void test('requests are checked before they reach the log', async () => {
  const before = ts.server.state.latestIndex();
  await assert.rejects(endpoints.upsertPolicy({ Name: 'bad name', Rules: 'node {\n  policy = "root"\n}\n' }), (e: unknown) => {
    assert.match((e as Error).message, /Name: invalid name "bad name"/);
    return true;
  });
  await assert.rejects(endpoints.upsertPolicy({ Name: 'bad', Rules: 'node {\n  policy = "root"\n}\n' }), /bad\.hcl:2,3: node\.policy: invalid policy "root"/);
  await assert.rejects(endpoints.upsertToken({ Type: 'client', Policies: [] }), /client token missing policies/);
  await assert.rejects(endpoints.upsertToken({ Type: 'management', Policies: ['ro'] }), /management token cannot be associated with policies/);
  await assert.rejects(endpoints.upsertToken({ Type: 'client', Policies: ['ro'], ExpirationTTL: 'soon' }), /ExpirationTTL: must be a positive duration/);
  await assert.rejects(endpoints.upsertNamespace({ Name: 'ok', Meta: { n: 1 as unknown as string } }), /Meta: must be an object of strings/);
  assert.equal(ts.server.state.latestIndex(), before, 'nothing was written');
});
