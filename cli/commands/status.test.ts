import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pickStatusMatch } from './status.js';

type Found = Parameters<typeof pickStatusMatch>[1];
const ctx = (name: 'jobs' | 'evals' | 'allocs' | 'nodes') => ({ name, command: {} as never, ids: async () => [] });

void test('`status <id>`: an exact ID wins over prefix matches elsewhere', () => {
  const found: Found = [
    [ctx('jobs'), ['ab', 'abc']],
    [ctx('allocs'), ['ab12']],
  ];
  const m = pickStatusMatch('ab', found);
  assert.equal(m.kind, 'one');
  assert.equal(m.kind === 'one' ? `${m.context.name}:${m.id}` : '', 'jobs:ab');
});

void test('`status <prefix>`: exactly one object across all kinds, else none or many', () => {
  const one = pickStatusMatch('1f', [[ctx('jobs'), []], [ctx('nodes'), ['1f2c']]]);
  assert.equal(one.kind === 'one' ? `${one.context.name}:${one.id}` : one.kind, 'nodes:1f2c');
  assert.deepEqual(pickStatusMatch('zz', [[ctx('jobs'), []]]), { kind: 'none' });
  assert.deepEqual(pickStatusMatch('a', [[ctx('jobs'), ['a1']], [ctx('evals'), ['a2']], [ctx('nodes'), []]]), {
    kind: 'many',
    matches: [['jobs', ['a1']], ['evals', ['a2']]],
  });
});
