import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GenericScheduler } from './generic-scheduler.js';
import { parsePortList, portCollision } from './ports.js';
import { MemState, RecordingPlanner, testContext } from './testing/harness.js';
import { testEval, testGroup, testJob, testNode } from './testing/fixtures.js';
import type { NetworkResource } from '../structs/resources.js';
import type { Job } from '../structs/job.js';
import type { Node } from '../structs/node.js';

const ctx = testContext(3);
let seq = 0;

function net(over: Partial<NetworkResource>): NetworkResource {
  return { Mode: 'host', Device: '', CIDR: '', IP: '', MBits: 0, ReservedPorts: [], DynamicPorts: [], ...over };
}

function node(id: string, reserved = ''): Node {
  const n = testNode(id, { Attributes: { 'kernel.name': 'linux', 'driver.exec': '1', 'unique.network.ip-address': `10.0.0.${id.length}` } });
  n.ReservedResources.Networks.ReservedHostPorts = reserved;
  n.NodeResources.MinDynamicPort = 20000;
  n.NodeResources.MaxDynamicPort = 20009;
  return n;
}

async function place(state: MemState, job: Job) {
  state.putJob(job);
  const planner = new RecordingPlanner(state);
  await new GenericScheduler(state, planner, ctx).process(testEval(job, { ID: `ports-${++seq}` }));
  return planner.evals.at(-1)!;
}

void test('static and dynamic ports are assigned with the node address; static ports never collide on a node', async () => {
  const state = new MemState();
  state.putNode(node('n1'));
  state.putNode(node('n22'));
  const job = testJob({ ID: 'web', TaskGroups: [testGroup({ Count: 3, Networks: [net({ ReservedPorts: [{ Label: 'http', Value: 8080, To: 0, HostNetwork: 'default' }], DynamicPorts: [{ Label: 'admin', Value: 0, To: -1, HostNetwork: 'default' }] })] })] });
  const ev = await place(state, job);
  const live = state.liveAllocs('web');
  assert.equal(live.length, 2, 'only two nodes can hold static port 8080');
  assert.deepEqual(new Set(live.map((a) => a.NodeID)), new Set(['n1', 'n22']));
  assert.deepEqual(ev.FailedTGAllocs?.['web']?.DimensionExhausted, { 'network: reserved port collision http=8080': 2 });
  for (const a of live) {
    const ports = a.AllocatedResources.Shared.Ports;
    const http = ports.find((p) => p.Label === 'http')!;
    const admin = ports.find((p) => p.Label === 'admin')!;
    assert.equal(http.Value, 8080);
    assert.ok(admin.Value >= 20000 && admin.Value <= 20009);
    assert.equal(admin.To, admin.Value, 'to = -1 maps to the host port');
    assert.equal(http.HostIP, a.NodeID === 'n1' ? '10.0.0.2' : '10.0.0.3');
    assert.equal(a.AllocatedResources.Shared.Networks[0]!.IP, http.HostIP);
  }
});

void test('dynamic ports avoid the node reserved ports and each other until the range is used up', async () => {
  const state = new MemState();
  // 20000..20009 minus 7 reserved leaves 3 ports.
  state.putNode(node('n1', '22,20000-20005,20007'));
  const job = testJob({ ID: 'dyn', TaskGroups: [testGroup({ Count: 4, Tasks: [testGroup().Tasks[0]!], Networks: [net({ DynamicPorts: [{ Label: 'p', Value: 0, To: 0, HostNetwork: 'default' }] })] })] });
  job.TaskGroups[0]!.Tasks[0]!.Resources.CPU = 10;
  job.TaskGroups[0]!.Tasks[0]!.Resources.MemoryMB = 10;
  job.TaskGroups[0]!.EphemeralDisk = { Sticky: false, SizeMB: 10, Migrate: false };
  const ev = await place(state, job);
  const got = state.liveAllocs('dyn').map((a) => a.AllocatedResources.Shared.Ports[0]!.Value).sort();
  assert.deepEqual(got, [20006, 20008, 20009]);
  assert.deepEqual(ev.FailedTGAllocs?.['web']?.DimensionExhausted, { 'network: dynamic port selection failed': 1 });
  assert.equal(portCollision(state.nodeById('n1')!, state.liveAllocs('dyn')), null);
});

void test('portCollision finds a port held twice or a reserved port in use', () => {
  const n = node('n1', '22');
  const mk = (id: string, port: number) => ({
    ...testAllocLike(id),
    AllocatedResources: { Tasks: {}, Shared: { DiskMB: 0, Networks: [], Ports: [{ Label: 'x', Value: port, To: 0, HostIP: '' }] } },
  });
  assert.equal(portCollision(n, [mk('a', 80), mk('b', 81)]), null);
  assert.match(portCollision(n, [mk('a', 80), mk('b', 80)]) ?? '', /port 80 is held by allocs a and b/);
  assert.match(portCollision(n, [mk('a', 22)]) ?? '', /port 22 of alloc a is reserved/);
  assert.deepEqual(parsePortList('22, 80,8000-8002,bogus'), [22, 80, 8000, 8001, 8002]);
});

function testAllocLike(id: string) {
  const job = testJob();
  return {
    ID: id, Namespace: 'default', EvalID: '', Name: 'x', NodeID: 'n1', NodeName: '', JobID: job.ID, Job: job, TaskGroup: 'web',
    Metrics: null, DesiredStatus: 'run' as const, DesiredDescription: '', DesiredTransition: {}, ClientStatus: 'running' as const,
    ClientDescription: '', TaskStates: {}, DeploymentID: '', PreviousAllocation: '', NextAllocation: '', FollowupEvalID: '',
    RescheduleTracker: null, CreateIndex: 0, ModifyIndex: 0, AllocModifyIndex: 0, CreateTime: 0, ModifyTime: 0,
  };
}
