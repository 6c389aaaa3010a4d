import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveAllocs } from './live-allocs.js';
import { testAlloc, testJob } from './testing/fixtures.js';
import type { Allocation } from '../structs/alloc.js';

function using(id: string, cpu: number, mem: number, over: Partial<Allocation> = {}): Allocation {
  const task = { Cpu: { CpuShares: cpu, ReservedCores: [] }, Memory: { MemoryMB: mem, MemoryMaxMB: 0 }, Networks: [], Devices: [] };
  return testAlloc(testJob(), { ID: id, AllocatedResources: { Tasks: { t: task }, Shared: { DiskMB: 10, Networks: [], Ports: [] } }, ...over });
}

void test('live allocations of a node and their usage: terminal ones free their resources', () => {
  const all = Object.freeze([using('a', 500, 256), using('b', 1000, 512, { ClientStatus: 'complete' }), using('c', 250, 128, { DesiredStatus: 'stop' })]);
  const v = liveAllocs(all);
  assert.deepEqual(v.live.map((a) => a.ID), ['a']);
  assert.deepEqual(v.usage, { cpu: 500, memoryMB: 256, diskMB: 10 });
});

void test('derived once per list: the same array gives the same answer object, a new list is summed again', () => {
  const all = Object.freeze([using('a', 500, 256)]);
  assert.equal(liveAllocs(all), liveAllocs(all));
  const grown = Object.freeze([...all, using('b', 100, 100)]);
  assert.deepEqual(liveAllocs(grown).usage, { cpu: 600, memoryMB: 356, diskMB: 20 });
  assert.deepEqual(liveAllocs([]).live, []);
});
