import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allocStubFixture, evaluation } from '../testdata/fixtures.js';
import { isAllocSettled, waitState } from './alloc-watch.js';
import { allocChangeLines, allocSnapshots, emptyEvalSnapshot, evalChangeLines, evalSnapshot } from './eval-state.js';
import { monitorUi } from './monitor-ui.js';

void test('first look at a finished eval: trigger, created allocation, status change', () => {
  const ev = evaluation({ CreateIndex: 13 });
  const next = evalSnapshot(ev, [allocStubFixture({ ClientStatus: 'pending', CreateIndex: 15 })]);
  assert.deepEqual(evalChangeLines(emptyEvalSnapshot(), next, 8), [
    'Evaluation triggered by job "example"',
    'Allocation "5b4e4f4b" created: node "1f2c3d4e", group "cache"',
    'Evaluation status changed: "pending" -> "complete"',
  ]);
  assert.deepEqual(evalChangeLines(next, next, 8), [], 'nothing changed, nothing printed');
});

void test('allocations older than the eval were modified, not created', () => {
  const next = evalSnapshot(evaluation({ CreateIndex: 20 }), [allocStubFixture({ CreateIndex: 15 })]);
  assert.ok(evalChangeLines(emptyEvalSnapshot(), next, 36).includes('Allocation "5b4e4f4b-aaaa-bbbb-cccc-000000000001" modified: node "1f2c3d4e-aaaa-bbbb-cccc-000000000003", group "cache"'));
});

void test('status changes carry the client description', () => {
  const prev = allocSnapshots([allocStubFixture({ ClientStatus: 'pending' })]);
  const next = allocSnapshots([allocStubFixture({ ClientStatus: 'failed', ClientDescription: 'Failed tasks' })]);
  assert.deepEqual(allocChangeLines(prev, next, 0, 8), ['Allocation "5b4e4f4b" status changed: "pending" -> "failed" (Failed tasks)']);
});

void test('a pending eval seen first prints no status change', () => {
  const next = evalSnapshot(evaluation({ Status: 'pending' }), []);
  assert.deepEqual(evalChangeLines(emptyEvalSnapshot(), next, 8), ['Evaluation triggered by job "example"']);
});

void test('settled means finished for batch jobs and running for services', () => {
  assert.equal(isAllocSettled('batch', 'running'), false);
  assert.equal(isAllocSettled('batch', 'complete'), true);
  assert.equal(isAllocSettled('service', 'running'), true);
  assert.equal(isAllocSettled('system', 'pending'), false);
  assert.equal(isAllocSettled('sysbatch', 'failed'), true);
  const allocs = allocSnapshots([
    allocStubFixture({ ID: 'a', ClientStatus: 'complete' }),
    allocStubFixture({ ID: 'b', ClientStatus: 'failed' }),
  ]);
  const s = waitState('batch', allocs);
  assert.equal(s.done, true);
  assert.deepEqual(s.failed.map((a) => a.id), ['b']);
  assert.equal(waitState('batch', allocSnapshots([allocStubFixture({ ClientStatus: 'running' })])).done, false);
});

void test('monitor lines: ==> for headlines, indented timestamps for details', () => {
  const out: string[] = [];
  const ui = monitorUi((l) => out.push(l), (l) => out.push(`ERR ${l}`), () => Date.parse('2026-11-22T10:00:00Z'));
  ui.info('Monitoring evaluation "0f0e2c9a"');
  ui.output('Evaluation triggered by job "example"');
  ui.detail('  * Resources exhausted on 1 nodes');
  ui.error('Error reading evaluation: gone');
  assert.deepEqual(out, [
    '==> 2026-11-22T10:00:00Z: Monitoring evaluation "0f0e2c9a"',
    '    2026-11-22T10:00:00Z: Evaluation triggered by job "example"',
    '      * Resources exhausted on 1 nodes',
    'ERR ==> 2026-11-22T10:00:00Z: Error reading evaluation: gone',
  ]);
});
