/**
 * Namespaces do not depend on ACLs: on a server with ACLs off (the default) they are created,
 * listed and deleted by anyone, jobs still only go into namespaces that exist, and the ACL
 * endpoints answer as Nomad's do when ACLs are off.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../server/testing/test-server.js';

let ts: TestServer;

before(async () => {
  ts = await startTestServer();
});

after(async () => {
  await ts.stop();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const r = await fetch(`${ts.httpUrl}${path}`, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: r.status, text: await r.text() };
}

const job = (namespace: string): unknown => ({
  Job: {
    ID: 'batch1',
    Namespace: namespace,
    Type: 'batch',
    Datacenters: ['dc1'],
    TaskGroups: [{ Name: 'g', Count: 1, Tasks: [{ Name: 't', Driver: 'raw_exec', Config: { command: '/bin/true' }, Resources: { CPU: 20, MemoryMB: 16 } }] }],
  },
});

void test('with ACLs off: namespaces work for anyone, and jobs need an existing one', async () => {
  const missing = await call('POST', '/v1/jobs', job('qa'));
  assert.equal(missing.status, 400);
  assert.match(missing.text, /nonexistent namespace "qa"/);
  assert.equal((await call('POST', '/v1/namespace/qa', { Description: 'QA' })).status, 200);
  assert.equal((await call('POST', '/v1/jobs', job('qa'))).status, 200);
  assert.ok(ts.server.state.jobById('qa', 'batch1'));
  assert.equal(ts.server.state.jobById('default', 'batch1'), null);
  // `?namespace=` places a job that names none.
  const viaQuery = await call('POST', '/v1/jobs?namespace=nope', job('default'));
  assert.equal(viaQuery.status, 400);
  assert.match(viaQuery.text, /nonexistent namespace "nope"/);

  const list = JSON.parse((await call('GET', '/v1/namespaces')).text) as Array<{ Name: string }>;
  assert.deepEqual(list.map((n) => n.Name), ['default', 'qa']);
  assert.equal((await call('DELETE', '/v1/namespace/qa')).status, 409);
  assert.equal((await call('DELETE', '/v1/job/batch1?namespace=qa&purge=true')).status, 200);
  assert.equal((await call('DELETE', '/v1/namespace/qa')).status, 200);

  const bootstrap = await call('POST', '/v1/acl/bootstrap');
  assert.equal(bootstrap.status, 400);
  assert.equal(bootstrap.text, 'ACL support disabled\n');
  assert.equal(ts.server.state.aclBootstrapIndex(), 0);
});
