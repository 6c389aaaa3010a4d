import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allocation, job } from '../testdata/fixtures.js';
import { drainChangeLines, drainView } from './drain-state.js';

const N = 'node-1';

void test('a drain is told allocation by allocation, then the node is done', () => {
  const a = (over: Parameters<typeof allocation>[0]) => allocation({ ID: 'a1', ClientStatus: 'running', ...over });
  const v0 = drainView(true, [a({}), allocation({ ID: 'old', ClientStatus: 'complete' })]);
  assert.deepEqual(drainChangeLines(N, null, v0, false), [], 'nothing moved yet; finished allocations are not news');

  const v1 = drainView(true, [a({ DesiredTransition: { Migrate: true } })]);
  assert.deepEqual(drainChangeLines(N, v0, v1, false), ['Alloc "a1" marked for migration']);
  const v2 = drainView(true, [a({ DesiredTransition: { Migrate: true }, DesiredStatus: 'stop' })]);
  assert.deepEqual(drainChangeLines(N, v1, v2, false), ['Alloc "a1" draining']);
  const v3 = drainView(false, [a({ DesiredTransition: { Migrate: true }, DesiredStatus: 'stop', ClientStatus: 'complete' })]);
  assert.deepEqual(drainChangeLines(N, v2, v3, false), [
    'Alloc "a1" status running -> complete',
    'Node "node-1" has marked all allocations for migration',
    'All allocations on node "node-1" have stopped',
  ]);
  assert.deepEqual(drainChangeLines(N, v3, v3, false), [], 'said once');
});

void test('-ignore-system: system allocations that keep running do not hold the drain open', () => {
  const sys = allocation({ ID: 's1', ClientStatus: 'running', Job: job({ Type: 'system' }) });
  const before = drainView(true, [sys]);
  const after = drainView(false, [sys]);
  assert.deepEqual(drainChangeLines(N, before, after, true), [
    'Node "node-1" has marked all allocations for migration',
    'All allocations on node "node-1" have stopped',
  ]);
  assert.deepEqual(drainChangeLines(N, before, after, false), ['Node "node-1" has marked all allocations for migration']);
});
