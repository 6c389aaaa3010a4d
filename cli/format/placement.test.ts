import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newAllocMetric } from '../../structs/eval.js';
import { failedGroupHeader, formatAllocMetrics, formatFailedPlacements } from './placement.js';

void test('placement failure lines use Nomad wording, sorted', () => {
  const m = {
    ...newAllocMetric(),
    NodesEvaluated: 3,
    NodesAvailable: { dc1: 3, dc2: 0 },
    ConstraintFiltered: { '${attr.kernel.name} = windows': 2, 'missing drivers': 1 },
    ClassFiltered: { gpu: 1 },
    NodesExhausted: 1,
    DimensionExhausted: { memory: 1, cpu: 2 },
  };
  assert.deepEqual(formatAllocMetrics(m, false, '  '), [
    '  * No nodes are available in datacenter "dc2"',
    '  * Class "gpu": 1 nodes excluded by filter',
    '  * Constraint "${attr.kernel.name} = windows": 2 nodes excluded by filter',
    '  * Constraint "missing drivers": 1 nodes excluded by filter',
    '  * Resources exhausted on 1 nodes',
    '  * Dimension "cpu" exhausted on 2 nodes',
    '  * Dimension "memory" exhausted on 1 nodes',
  ]);
});

void test('no eligible nodes is said first', () => {
  assert.deepEqual(formatAllocMetrics(newAllocMetric(), false, ''), ['* No nodes were eligible for evaluation']);
});

void test('group header counts coalesced failures', () => {
  assert.equal(failedGroupHeader('cache', newAllocMetric()), 'Task Group "cache" (failed to place 1 allocation):');
  assert.equal(failedGroupHeader('web', { ...newAllocMetric(), CoalescedFailures: 2 }), 'Task Group "web" (failed to place 3 allocations):');
});

void test('failed placements list each group with a blank line between', () => {
  const m = { ...newAllocMetric(), NodesEvaluated: 1, NodesExhausted: 1 };
  assert.deepEqual(formatFailedPlacements({ web: m, cache: m }), [
    'Task Group "cache" (failed to place 1 allocation):',
    '  * Resources exhausted on 1 nodes',
    '',
    'Task Group "web" (failed to place 1 allocation):',
    '  * Resources exhausted on 1 nodes',
  ]);
});
