/**
 * Minimal, complete domain objects for scheduler tests.
 */
import type { Allocation } from '../../structs/alloc.js';
import type { Evaluation } from '../../structs/eval.js';
import type { Job, Task, TaskGroup } from '../../structs/job.js';
import type { Node } from '../../structs/node.js';

export function testNode(id: string, over: Partial<Node> = {}, cpu = 4000, memoryMB = 8192): Node {
  return {
    ID: id,
    SecretID: `secret-${id}`,
    Datacenter: 'dc1',
    Name: `node-${id}`,
    HTTPAddr: '127.0.0.1:4646',
    TLSEnabled: false,
    Attributes: { 'kernel.name': 'linux', 'cpu.arch': 'amd64', 'driver.exec': '1' },
    NodeResources: {
      Cpu: { CpuShares: cpu, TotalCpuCores: 4, ReservableCpuCores: [0, 1, 2, 3] },
      Memory: { MemoryMB: memoryMB },
      Disk: { DiskMB: 100_000 },
      Networks: [],
      Devices: [],
      MinDynamicPort: 20000,
      MaxDynamicPort: 32000,
    },
    ReservedResources: { Cpu: { CpuShares: 0, ReservedCpuCores: [] }, Memory: { MemoryMB: 0 }, Disk: { DiskMB: 0 }, Networks: { ReservedHostPorts: '' } },
    Meta: {},
    NodeClass: '',
    NodePool: 'default',
    ComputedClass: '',
    Drain: false,
    DrainStrategy: null,
    SchedulingEligibility: 'eligible',
    Status: 'ready',
    StatusDescription: '',
    StatusUpdatedAt: 0,
    Events: [],
    Drivers: { exec: { Detected: true, Healthy: true, HealthDescription: '', Attributes: {}, UpdateTime: 0 } },
    CreateIndex: 1,
    ModifyIndex: 1,
    ...over,
  };
}

export function testTask(over: Partial<Task> = {}): Task {
  return {
    Name: 'web',
    Driver: 'exec',
    User: '',
    Config: { command: '/bin/sleep', args: ['1000'] },
    Env: {},
    Services: [],
    Constraints: [],
    Affinities: [],
    Resources: { CPU: 500, Cores: 0, MemoryMB: 256, MemoryMaxMB: 0, DiskMB: 0, Networks: [], Devices: [] },
    Meta: {},
    KillTimeout: 5e9,
    KillSignal: '',
    LogConfig: { MaxFiles: 10, MaxFileSizeMB: 10 },
    Artifacts: [],
    Templates: [],
    Leader: false,
    ShutdownDelay: 0,
    ...over,
  };
}

export function testGroup(over: Partial<TaskGroup> = {}): TaskGroup {
  return {
    Name: 'web',
    Count: 1,
    Constraints: [],
    Affinities: [],
    Spreads: [],
    Tasks: [testTask()],
    EphemeralDisk: { Sticky: false, SizeMB: 300, Migrate: false },
    Networks: [],
    Services: [],
    Volumes: {},
    Meta: {},
    ...over,
  };
}

export function testJob(over: Partial<Job> = {}): Job {
  return {
    Region: 'global',
    Namespace: 'default',
    ID: 'example',
    Name: 'example',
    Type: 'service',
    Priority: 50,
    AllAtOnce: false,
    Datacenters: ['*'],
    NodePool: 'default',
    Constraints: [],
    Affinities: [],
    Spreads: [],
    TaskGroups: [testGroup()],
    Meta: {},
    Stop: false,
    Status: 'pending',
    StatusDescription: '',
    Stable: false,
    Version: 0,
    SubmitTime: 0,
    CreateIndex: 10,
    ModifyIndex: 10,
    JobModifyIndex: 10,
    ...over,
  };
}

export function testEval(job: Job, over: Partial<Evaluation> = {}): Evaluation {
  return {
    ID: 'eval-1',
    Namespace: job.Namespace,
    Priority: job.Priority,
    Type: job.Type,
    TriggeredBy: 'job-register',
    JobID: job.ID,
    JobModifyIndex: job.JobModifyIndex,
    NodeID: '',
    NodeModifyIndex: 0,
    DeploymentID: '',
    Status: 'pending',
    StatusDescription: '',
    Wait: 0,
    WaitUntil: 0,
    NextEval: '',
    PreviousEval: '',
    BlockedEval: '',
    FailedTGAllocs: null,
    ClassEligibility: null,
    EscapedComputedClass: false,
    QueuedAllocations: {},
    SnapshotIndex: 0,
    CreateIndex: 11,
    ModifyIndex: 11,
    CreateTime: 0,
    ModifyTime: 0,
    ...over,
  };
}

/** A complete allocation of `job`'s first group, pending on no node; `over` sets the rest. */
export function testAlloc(job: Job, over: Partial<Allocation> = {}): Allocation {
  const group = job.TaskGroups[0]?.Name ?? 'g';
  return {
    ID: 'alloc-1',
    Namespace: job.Namespace,
    EvalID: 'eval-1',
    Name: `${job.ID}.${group}[0]`,
    NodeID: '',
    NodeName: '',
    JobID: job.ID,
    Job: job,
    TaskGroup: group,
    AllocatedResources: { Tasks: {}, Shared: { DiskMB: 0, Networks: [], Ports: [] } },
    Metrics: null,
    DesiredStatus: 'run',
    DesiredDescription: '',
    DesiredTransition: {},
    ClientStatus: 'pending',
    ClientDescription: '',
    TaskStates: {},
    DeploymentID: '',
    PreviousAllocation: '',
    NextAllocation: '',
    FollowupEvalID: '',
    RescheduleTracker: null,
    CreateIndex: 1,
    ModifyIndex: 1,
    AllocModifyIndex: 1,
    CreateTime: 0,
    ModifyTime: 0,
    ...over,
  };
}
