import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Acl } from './acl.js';
import { authorize } from './authorize.js';
import { parsePolicyRules } from './policy-rules.js';
import { permissionFor, ROUTE_PERMISSIONS } from './route-permissions.js';

async function aclOf(...policies: string[]): Promise<Acl> {
  return Acl.compile(await Promise.all(policies.map((p, i) => parsePolicyRules(p, `p${i}.hcl`))));
}

void test('an exact namespace rule beats every glob; the closest glob beats looser ones', async () => {
  const acl = await aclOf(`
namespace "*"        { policy = "read" }
namespace "prod-*"   { policy = "deny" }
namespace "prod-web" { policy = "write" }
namespace "prod-api*" { capabilities = ["read-logs"] }
`);
  assert.ok(acl.allowNamespaceOperation('default', 'read-job'), '* gives read');
  assert.ok(!acl.allowNamespaceOperation('default', 'submit-job'));
  assert.ok(!acl.allowNamespaceOperation('prod-db', 'read-job'), 'prod-* (closer than *) denies');
  assert.ok(acl.allowNamespaceOperation('prod-web', 'submit-job'), 'the exact rule wins over prod-*');
  assert.ok(acl.allowNamespaceOperation('prod-api2', 'read-logs'), 'prod-api* is closer than prod-*');
  assert.ok(!acl.allowNamespaceOperation('prod-api2', 'read-job'), 'and only it applies');
  assert.ok(!acl.allowNamespace('prod-db'));
  assert.ok(acl.allowNamespace('anything'));
});

void test('rules merge across policies: capabilities add up, deny wins', async () => {
  const acl = await aclOf(
    'namespace "default" { capabilities = ["list-jobs"] }\nnode { policy = "read" }\n',
    'namespace "default" { capabilities = ["read-logs"] }\nnode { policy = "write" }\nagent { policy = "write" }\n',
    'namespace "secret" { policy = "write" }\n',
    'namespace "secret" { capabilities = ["deny"] }\nagent { policy = "deny" }\n',
  );
  assert.ok(acl.allowNamespaceOperation('default', 'list-jobs'));
  assert.ok(acl.allowNamespaceOperation('default', 'read-logs'));
  assert.ok(!acl.allowNamespaceOperation('default', 'read-job'));
  assert.ok(!acl.allowNamespaceOperation('secret', 'list-jobs'), 'deny in one policy wins over write in another');
  assert.ok(acl.allowNode('write'), 'the more privileged node policy applies');
  assert.ok(!acl.allowAgent('read'), 'deny wins for coarse rules too');
  assert.ok(!acl.allowOperator('read'), 'no operator rule: nothing');
});

void test('read grants read only; write implies read; management and deny-all', async () => {
  const acl = await aclOf('operator { policy = "read" }\n');
  assert.ok(acl.allowOperator('read'));
  assert.ok(!acl.allowOperator('write'));
  const m = Acl.management();
  assert.ok(m.allowNamespaceOperation('any', 'alloc-node-exec') && m.allowNode('write') && m.allowOperator('write'));
  const none = Acl.denyAll();
  assert.ok(!none.allowNamespace('default') && !none.allowNode('read'));
});

void test('authorize: the route table decides; unknown routes need management', async () => {
  const reader = await aclOf('namespace "default" { policy = "read" }\nnode { policy = "read" }\n');
  authorize({ method: 'GET', path: '/v1/jobs' }, reader, 'default');
  assert.throws(() => authorize({ method: 'GET', path: '/v1/jobs' }, reader, 'other'), /Permission denied/);
  assert.throws(() => authorize({ method: 'POST', path: '/v1/jobs' }, reader, 'default'), (e: unknown) => (e as { httpStatus?: number }).httpStatus === 403);
  authorize({ method: 'GET', path: '/v1/nodes' }, reader, []);
  assert.throws(() => authorize({ method: 'POST', path: '/v1/node/:id/drain' }, reader, []), /Permission denied/);
  assert.equal(permissionFor('GET', '/v1/some/new/route').kind, 'management');
  assert.throws(() => authorize({ method: 'GET', path: '/v1/some/new/route' }, reader, 'default'), /Permission denied/);
  authorize({ method: 'GET', path: '/v1/some/new/route' }, Acl.management(), 'default');
  // Every namespaced permission names a namespace source.
  for (const [route, p] of ROUTE_PERMISSIONS) if (p.kind === 'namespace') assert.ok(p.from, route);
});
