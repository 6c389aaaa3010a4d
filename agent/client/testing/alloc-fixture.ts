/** Test support: a complete Allocation around a canonical job, as a server would push it. */
import type { Allocation } from '../../../structs/alloc.js';
import { canonicalizeJob, type JobInput } from '../../../structs/job-defaults.js';

export function testAllocation(job: JobInput, id: string, over: Partial<Allocation> = {}): Allocation {
  const j = canonicalizeJob(job);
  const group = j.TaskGroups[0]?.Name ?? 'g';
  return {
    ID: id,
    Namespace: j.Namespace,
    EvalID: 'eval-1',
    Name: `${j.ID}.${group}[0]`,
    NodeID: '',
    NodeName: '',
    JobID: j.ID,
    Job: j,
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

/** A batch job with one raw_exec task running `sh -c script`. */
export function shellJob(id: string, script: string, task: Record<string, unknown> = {}): JobInput {
  return {
    ID: id,
    Type: 'batch',
    TaskGroups: [{ Name: 'g', Tasks: [{ Name: 'main', Driver: 'raw_exec', Config: { command: '/bin/sh', args: ['-c', script] }, ...task }] }],
  };
}
