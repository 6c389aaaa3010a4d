import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValidationError, YurtError } from '../../structs/errors.js';
import { expandNamespacePolicy } from './capabilities.js';
import { parsePolicyRules } from './policy-rules.js';

void test('a policy with every rule kind parses; policy and capabilities add up', async () => {
  const rules = await parsePolicyRules(`
# read everywhere, write in dev
namespace "*" {
  policy = "read"
}
namespace "dev" {
  policy       = "write"
  capabilities = ["alloc-node-exec"]
  variables {
    path "*" { capabilities = ["read"] }
  }
}
node     { policy = "read" }
agent    { policy = "write" }
operator { policy = "deny" }
quota    { policy = "read" }
plugin   { policy = "list" }
host_volume "*" { policy = "write" }
`);
  assert.deepEqual(rules.namespaces.map((n) => n.pattern), ['*', 'dev']);
  assert.deepEqual(new Set(rules.namespaces[0]!.capabilities), new Set(expandNamespacePolicy('read')));
  assert.ok(rules.namespaces[1]!.capabilities.includes('submit-job'));
  assert.ok(rules.namespaces[1]!.capabilities.includes('alloc-node-exec'));
  assert.equal(rules.node, 'read');
  assert.equal(rules.agent, 'write');
  assert.equal(rules.operator, 'deny');
});

void test('capabilities alone, without a policy, are a rule', async () => {
  const rules = await parsePolicyRules('namespace "default" {\n  capabilities = ["list-jobs", "read-logs"]\n}\n');
  assert.deepEqual(rules.namespaces, [{ pattern: 'default', capabilities: ['list-jobs', 'read-logs'] }]);
});

void test('Nomad expansions: read lists and reads, write adds submit and logs, scale only scaling', () => {
  const read = expandNamespacePolicy('read');
  assert.ok(read.includes('list-jobs') && read.includes('read-job') && read.includes('parse-job'));
  assert.ok(!read.includes('submit-job') && !read.includes('read-logs'));
  const write = expandNamespacePolicy('write');
  for (const c of ['list-jobs', 'read-job', 'submit-job', 'dispatch-job', 'read-logs', 'read-fs', 'alloc-exec', 'alloc-lifecycle'] as const) assert.ok(write.includes(c), c);
  assert.ok(!write.includes('alloc-node-exec'), 'alloc-node-exec is never implied');
  assert.deepEqual(new Set(expandNamespacePolicy('scale')), new Set(['list-scaling-policies', 'read-scaling-policy', 'read-job-scaling', 'scale-job']));
  assert.deepEqual(expandNamespacePolicy('deny'), ['deny']);
});

async function problems(src: string): Promise<ValidationError> {
  const err = await parsePolicyRules(src, 'p.hcl').then(
    () => assert.fail('expected the rules to be refused'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ValidationError, `expected a ValidationError, got ${String(err)}`);
  return err;
}

void test('bad rules are refused with file:line,col for each problem', async () => {
  const err = await problems(`namespace "default" {
  policy = "admin"
}

namespace "ops" {
  capabilities = ["list-jobs", "fly"]
}
node {
  policy = "scale"
}
widget {
  policy = "read"
}
`);
  const byPos: Record<string, string> = Object.fromEntries(err.errors.map((e) => [e.pos ?? '', e.message]));
  assert.match(byPos['p.hcl:2,3'] ?? '', /invalid policy "admin"/);
  assert.match(byPos['p.hcl:6,3'] ?? '', /invalid namespace capability "fly"/);
  assert.match(byPos['p.hcl:9,3'] ?? '', /invalid policy "scale"/);
  assert.match(byPos['p.hcl:11,1'] ?? '', /unsupported rule "widget"/);
  assert.equal(err.errors.length, 4);
  assert.match(err.message, /p\.hcl:2,3: namespace "default"\.policy: invalid policy "admin"/);
});

void test('structure mistakes: missing labels, stray arguments, bad namespace globs, empty rules', async () => {
  assert.match((await problems('namespace { policy = "read" }\n')).message, /p\.hcl:1,1: .*exactly one label/);
  assert.match((await problems('policy = "read"\n')).message, /p\.hcl:1,1: .*unexpected argument "policy"/);
  assert.match((await problems('namespace "a b" {\n  policy = "read"\n}\n')).message, /invalid namespace name "a b"/);
  assert.match((await problems('node {\n  policy = "read"\n  colour = "blue"\n}\n')).message, /p\.hcl:3,3: .*unexpected argument "colour"/);
  assert.match((await problems('namespace "x" {}\n')).message, /needs a policy or capabilities/);
  assert.match((await problems('   \n')).message, /at least one rule/);
  assert.match((await problems('node {\n  policy = "read"\n}\nnode {\n  policy = "write"\n}\n')).message, /p\.hcl:4,1: .*only one node rule/);
});

void test('HCL syntax errors carry HCL\'s own position', async () => {
  const err = await parsePolicyRules('namespace "default" {\n  policy = \n}\n', 'bad.hcl').then(
    () => assert.fail('expected a syntax error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof YurtError);
  assert.equal(err.code, 'parse_error');
  assert.match(err.message, /^bad\.hcl:\d+,\d+/);
});
