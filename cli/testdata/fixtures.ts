/** Struct values for formatting tests, in the API's shapes, with fixed IDs and times. */
import type { AllocListStub, Allocation, TaskState } from '../../structs/alloc.js';
import type { Evaluation } from '../../structs/eval.js';
import { newAllocMetric } from '../../structs/eval.js';
import type { Job, JobSummary } from '../../structs/job.js';
import type { Node } from '../../structs/node.js';

export const NOW_MS = Date.parse('2026-11-22T10:00:00Z');
export const nsAgo = (ms: number): number => (NOW_MS - ms) * 1e6;

export function job(over: Partial<Job> = {}): Job {
  return {
    Region: 'global', Namespace: 'default', ID: 'example', Name: 'example', Type: 'batch', Priority: 50, AllAtOnce: false,
    Datacenters: ['dc1', 'dc2'], NodePool: 'default', Constraints: [], Affinities: [], Spreads: [],
    TaskGroups: [{ Name: 'cache', Count: 1, Constraints: [], Affinities: [], Spreads: [], Tasks: [], Networks: [], Services: [], Volumes: {}, Meta: {} }],
    Meta: {}, Stop: false, Status: 'running', StatusDescription: '', Stable: false, Version: 3,
    SubmitTime: NOW_MS * 1e6, CreateIndex: 10, ModifyIndex: 12, JobModifyIndex: 12, ...over,
  };
}

export function summary(): JobSummary {
  return {
    JobID: 'example', Namespace: 'default', CreateIndex: 10, ModifyIndex: 20,
    Summary: { cache: { Queued: 0, Starting: 1, Running: 2, Failed: 0, Complete: 4, Lost: 0, Unknown: 0 } },
  };
}

export function allocStubFixture(over: Partial<AllocListStub> = {}): AllocListStub {
  return {
    ID: '5b4e4f4b-aaaa-bbbb-cccc-000000000001', EvalID: '0f0e2c9a-aaaa-bbbb-cccc-000000000002', Name: 'example.cache[0]',
    Namespace: 'default', NodeID: '1f2c3d4e-aaaa-bbbb-cccc-000000000003', NodeName: 'node1', JobID: 'example', JobType: 'batch',
    JobVersion: 3, TaskGroup: 'cache', DesiredStatus: 'run', DesiredDescription: '', ClientStatus: 'running',
    ClientDescription: 'Tasks are running', TaskStates: {}, FollowupEvalID: '', CreateIndex: 15, ModifyIndex: 16,
    CreateTime: nsAgo(62_000), ModifyTime: nsAgo(5_000), ...over,
  };
}

export function taskState(): TaskState {
  const ev = (Type: string, sec: number, extra: Partial<TaskState['Events'][number]> = {}): TaskState['Events'][number] => ({
    Type, Time: Date.parse(`2026-11-22T09:59:0${sec}Z`) * 1e6, Message: '', DisplayMessage: '', Details: {}, FailsTask: false,
    ExitCode: 0, Signal: 0, RestartReason: '', DriverError: '', KillTimeout: 0, ...extra,
  });
  return {
    State: 'dead', Failed: false, Restarts: 0, LastRestart: null, StartedAt: '2026-11-22T09:59:01Z', FinishedAt: '2026-11-22T09:59:02Z',
    Events: [ev('Received', 0), ev('Task Setup', 0, { Message: 'Building Task Directory' }), ev('Started', 1), ev('Terminated', 2, { ExitCode: 0 })],
  };
}

export function allocation(over: Partial<Allocation> = {}): Allocation {
  return {
    ID: '5b4e4f4b-aaaa-bbbb-cccc-000000000001', Namespace: 'default', EvalID: '0f0e2c9a-aaaa-bbbb-cccc-000000000002',
    Name: 'example.cache[0]', NodeID: '1f2c3d4e-aaaa-bbbb-cccc-000000000003', NodeName: 'node1', JobID: 'example', Job: job(),
    TaskGroup: 'cache',
    AllocatedResources: {
      Tasks: { redis: { Cpu: { CpuShares: 500, ReservedCores: [] }, Memory: { MemoryMB: 256, MemoryMaxMB: 0 }, Networks: [], Devices: [] } },
      Shared: { DiskMB: 300, Networks: [], Ports: [] },
    },
    Metrics: { ...newAllocMetric(), NodesEvaluated: 2, NodesFiltered: 1, AllocationTime: 1.5e6 },
    DesiredStatus: 'run', DesiredDescription: '', DesiredTransition: {}, ClientStatus: 'complete',
    ClientDescription: 'All tasks have completed', TaskStates: { redis: taskState() }, DeploymentID: '', PreviousAllocation: '',
    NextAllocation: '', FollowupEvalID: '', RescheduleTracker: null, CreateIndex: 15, ModifyIndex: 16, AllocModifyIndex: 15,
    CreateTime: nsAgo(62_000), ModifyTime: nsAgo(5_000), ...over,
  };
}

export function evaluation(over: Partial<Evaluation> = {}): Evaluation {
  return {
    ID: '0f0e2c9a-aaaa-bbbb-cccc-000000000002', Namespace: 'default', Priority: 50, Type: 'batch', TriggeredBy: 'job-register',
    JobID: 'example', JobModifyIndex: 12, NodeID: '', NodeModifyIndex: 0, DeploymentID: '', Status: 'complete', StatusDescription: '',
    Wait: 0, WaitUntil: 0, NextEval: '', PreviousEval: '', BlockedEval: '', FailedTGAllocs: null, ClassEligibility: null,
    EscapedComputedClass: false, QueuedAllocations: {}, SnapshotIndex: 12, CreateIndex: 13, ModifyIndex: 14,
    CreateTime: nsAgo(62_000), ModifyTime: nsAgo(60_000), ...over,
  };
}

export function node(over: Partial<Node> = {}): Node {
  return {
    ID: '1f2c3d4e-aaaa-bbbb-cccc-000000000003', SecretID: '', Datacenter: 'dc1', Name: 'node1', HTTPAddr: '127.0.0.1:4646',
    TLSEnabled: false, Attributes: { 'kernel.name': 'linux', 'cpu.arch': 'amd64' },
    NodeResources: {
      Cpu: { CpuShares: 4000, TotalCpuCores: 2, ReservableCpuCores: [] }, Memory: { MemoryMB: 8192 }, Disk: { DiskMB: 10240 },
      Networks: [], Devices: [], MinDynamicPort: 20000, MaxDynamicPort: 32000,
    },
    ReservedResources: { Cpu: { CpuShares: 0, ReservedCpuCores: [] }, Memory: { MemoryMB: 0 }, Disk: { DiskMB: 0 }, Networks: { ReservedHostPorts: '' } },
    Meta: {}, NodeClass: '', NodePool: 'default', ComputedClass: 'v1:1', Drain: false, DrainStrategy: null,
    SchedulingEligibility: 'eligible', Status: 'ready', StatusDescription: '', StatusUpdatedAt: 0,
    Events: [{ Message: 'Node registered', Subsystem: 'Cluster', Details: {}, Timestamp: nsAgo(3600_000), CreateIndex: 5 }],
    Drivers: {
      exec: { Detected: true, Healthy: true, HealthDescription: 'Healthy', Attributes: {}, UpdateTime: nsAgo(3600_000) },
      docker: { Detected: false, Healthy: false, HealthDescription: 'not found', Attributes: {}, UpdateTime: nsAgo(3600_000) },
      raw_exec: { Detected: true, Healthy: true, HealthDescription: 'Healthy', Attributes: {}, UpdateTime: nsAgo(3600_000) },
    },
    CreateIndex: 5, ModifyIndex: 6, ...over,
  };
}
