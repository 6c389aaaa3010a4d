import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXAMPLE_JOB, EXAMPLE_JOB_SHORT } from './example-job.js';
import { parseJobHCL } from './parse-hcl.js';

void test('the example job parses, validates, and runs a shell loop with the exec driver', async () => {
  const job = await parseJobHCL(EXAMPLE_JOB, { filename: 'example.hcl' });
  assert.equal(job.ID, 'example');
  assert.equal(job.Type, 'service');
  assert.deepEqual(job.Constraints, [{ LTarget: '${attr.kernel.name}', RTarget: 'linux', Operand: '=' }]);
  const group = job.TaskGroups[0];
  assert.equal(group?.Count, 2);
  const task = group.Tasks[0];
  assert.equal(task?.Driver, 'exec');
  assert.equal(task.Config['command'], '/bin/sh');
  assert.deepEqual(task.Env, { GREETING: 'hello from yurt' });
  assert.ok(EXAMPLE_JOB.split('\n').some((line) => line.trimStart().startsWith('#')), 'it is commented');
  assert.doesNotMatch(EXAMPLE_JOB, /docker/, 'it needs no Docker');
});

void test('the example\'s variable can be set from the command line', async () => {
  const job = await parseJobHCL(EXAMPLE_JOB, { filename: 'example.hcl', vars: { greeting: 'hi' } });
  assert.deepEqual(job.TaskGroups[0]?.Tasks[0]?.Env, { GREETING: 'hi' });
});

void test('the short example parses and validates', async () => {
  const job = await parseJobHCL(EXAMPLE_JOB_SHORT, { filename: 'short.hcl' });
  assert.equal(job.TaskGroups[0]?.Tasks[0]?.Driver, 'exec');
  assert.ok(EXAMPLE_JOB_SHORT.length < EXAMPLE_JOB.length / 2);
  assert.doesNotMatch(EXAMPLE_JOB_SHORT, /#/);
});
