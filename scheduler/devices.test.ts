import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GenericScheduler } from './generic-scheduler.js';
import { checkDeviceConstraint, deviceNameMatches, deviceOverAssignment, parseQuantity } from './devices.js';
import { MemState, RecordingPlanner, testContext } from './testing/harness.js';
import { testEval, testGroup, testJob, testNode, testTask } from './testing/fixtures.js';
import type { Job } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import type { NodeDeviceResource, RequestedDevice } from '../structs/resources.js';

let seq = 0;

function gpus(model: string, memory: string, ids: string[], unhealthy: string[] = []): NodeDeviceResource {
  return {
    Vendor: 'nvidia',
    Type: 'gpu',
    Name: model,
    Attributes: { memory, memory_bandwidth: '3352 GB/s' },
    Instances: ids.map((ID) => ({ ID, Healthy: !unhealthy.includes(ID), HealthDescription: '' })),
  };
}

function gpuNode(id: string, devs: NodeDeviceResource[]): Node {
  const n = testNode(id);
  n.NodeResources.Devices = devs;
  return n;
}

function gpuJob(id: string, count: number, dev: Partial<RequestedDevice>): Job {
  const req: RequestedDevice = { Name: 'nvidia/gpu', Count: 1, Constraints: [], Affinities: [], ...dev };
  return testJob({ ID: id, TaskGroups: [testGroup({ Count: count, Tasks: [testTask({ Resources: { CPU: 100, Cores: 0, MemoryMB: 64, MemoryMaxMB: 0, DiskMB: 0, Networks: [], Devices: [req] } })] })] });
}

async function place(state: MemState, job: Job) {
  state.putJob(job);
  const planner = new RecordingPlanner(state);
  await new GenericScheduler(state, planner, testContext(9)).process(testEval(job, { ID: `dev-${++seq}` }));
  return planner.evals.at(-1)!;
}

void test('quantities compare across units', () => {
  const dev = gpus('H100', '81559 MiB', ['g0']);
  const c = (op: '>=' | '<' | '=', v: string, attr = '${device.attr.memory}') => checkDeviceConstraint({ LTarget: attr, RTarget: v, Operand: op }, dev);
  assert.equal(c('>=', '40 GiB'), true);
  assert.equal(c('>=', '80 GiB'), false, '81559 MiB is just under 80 GiB');
  assert.equal(c('<', '90 GB'), true, '81559 MiB is 85.5 GB');
  assert.equal(c('>=', '3 TB/s', '${device.attr.memory_bandwidth}'), true);
  assert.equal(c('=', 'H100', '${device.model}'), true);
  assert.deepEqual(parseQuantity('1.5 GHz'), { value: 1.5e9, family: 'hertz' });
  assert.equal(parseQuantity('12 furlongs'), null);
  assert.equal(deviceNameMatches('gpu', dev), true);
  assert.equal(deviceNameMatches('nvidia/gpu', dev), true);
  assert.equal(deviceNameMatches('nvidia/gpu/H100', dev), true);
  assert.equal(deviceNameMatches('amd/gpu', dev), false);
});

void test('GPU requests get distinct healthy instances and never share one on a node', async () => {
  const state = new MemState();
  state.putNode(gpuNode('g1', [gpus('H100', '81559 MiB', ['GPU-a', 'GPU-b', 'GPU-c'], ['GPU-c'])]));
  const job = gpuJob('train', 3, { Count: 1 });
  const ev = await place(state, job);
  const live = state.liveAllocs('train');
  assert.equal(live.length, 2, 'the unhealthy third GPU is never handed out');
  const ids = live.flatMap((a) => a.AllocatedResources.Tasks['web']!.Devices.flatMap((d) => d.DeviceIDs)).sort();
  assert.deepEqual(ids, ['GPU-a', 'GPU-b']);
  assert.deepEqual(live[0]!.AllocatedResources.Tasks['web']!.Devices[0]!.Name, 'H100');
  assert.deepEqual(ev.FailedTGAllocs?.['web']?.DimensionExhausted, { 'devices: no devices match request': 1 });
  assert.equal(deviceOverAssignment(state.nodeById('g1')!, live), null);
  assert.match(deviceOverAssignment(state.nodeById('g1')!, [...live, { ...live[0]!, ID: 'dup' }]) ?? '', /GPU-. is held by allocs/);
});

void test('device constraints pick the node with big enough GPUs; nodes without any are filtered as "missing devices"', async () => {
  const state = new MemState();
  state.putNode(gpuNode('small', [gpus('T4', '15360 MiB', ['t0', 't1'])]));
  state.putNode(gpuNode('big', [gpus('H100', '81559 MiB', ['h0', 'h1'])]));
  state.putNode(testNode('cpu'));
  const job = gpuJob('llm', 1, { Count: 2, Constraints: [{ LTarget: '${device.attr.memory}', RTarget: '40 GiB', Operand: '>=' }] });
  await place(state, job);
  const a = state.liveAllocs('llm')[0]!;
  assert.equal(a.NodeID, 'big');
  assert.deepEqual(a.AllocatedResources.Tasks['web']!.Devices[0]!.DeviceIDs, ['h0', 'h1']);
  const none = gpuJob('huge', 1, { Count: 4 });
  const ev = await place(state, none);
  assert.deepEqual(ev.FailedTGAllocs?.['web']?.ConstraintFiltered, { 'missing devices': 3 });
});

void test('device affinities prefer the matching model', async () => {
  const state = new MemState();
  state.putNode(gpuNode('mixed', [gpus('T4', '15360 MiB', ['t0']), gpus('A100', '40960 MiB', ['a0'])]));
  const job = gpuJob('pref', 1, { Affinities: [{ LTarget: '${device.model}', RTarget: 'A100', Operand: '=', Weight: 50 }] });
  await place(state, job);
  assert.deepEqual(state.liveAllocs('pref')[0]!.AllocatedResources.Tasks['web']!.Devices[0]!.DeviceIDs, ['a0']);
  assert.equal(state.liveAllocs('pref')[0]!.Metrics!.ScoreMetaData[0]!.Scores['devices'], 1);
});
