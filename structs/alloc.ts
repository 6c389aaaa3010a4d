/**
 * Allocations (a task group placed on a node) and their task states, in Nomad's API shape.
 */
import type { Job } from './job.js';
import type { AllocatedResources } from './resources.js';
import type { AllocMetric } from './eval.js';

export type AllocDesiredStatus = 'run' | 'stop' | 'evict';
export type AllocClientStatus = 'pending' | 'running' | 'complete' | 'failed' | 'lost' | 'unknown';
export type TaskStateName = 'pending' | 'running' | 'dead';

/** Nomad's task event types, as the CLI prints them. */
export const TaskEventType = {
  Received: 'Received',
  TaskSetup: 'Task Setup',
  Started: 'Started',
  Terminated: 'Terminated',
  Killing: 'Killing',
  Killed: 'Killed',
  Restarting: 'Restarting',
  NotRestarting: 'Not Restarting',
  DriverFailure: 'Driver Failure',
  SetupFailure: 'Setup Failure',
  Signaling: 'Signaling',
  RestartSignal: 'Restart Signaled',
  TaskSiblingFailed: 'Sibling Task Failed',
  OOMKilled: 'OOM Killed',
  FailedRestoring: 'Failed Restoring Task',
  LeaderDead: 'Leader Task Dead',
  MainTasksDone: 'Main Tasks Completed',
} as const;
export type TaskEventTypeName = (typeof TaskEventType)[keyof typeof TaskEventType];

export interface TaskEvent {
  Type: string;
  /** Unix nanoseconds. */
  Time: number;
  Message: string;
  DisplayMessage: string;
  Details: Record<string, string>;
  FailsTask: boolean;
  ExitCode: number;
  Signal: number;
  RestartReason: string;
  DriverError: string;
  KillTimeout: number;
}

export interface TaskState {
  State: TaskStateName;
  Failed: boolean;
  Restarts: number;
  /** ISO-8601 timestamps, as Nomad's API returns them; null when not yet. */
  LastRestart: string | null;
  StartedAt: string | null;
  FinishedAt: string | null;
  Events: TaskEvent[];
}

export interface RescheduleEvent {
  RescheduleTime: number;
  PrevAllocID: string;
  PrevNodeID: string;
  Delay: number;
}

export interface DesiredTransition {
  Migrate?: boolean;
  Reschedule?: boolean;
  ForceReschedule?: boolean;
  NoShutdownDelay?: boolean;
}

/**
 * The client's verdict on an allocation's health for a deployment (Nomad's
 * AllocDeploymentStatus): null Healthy means not decided yet.
 */
export interface AllocDeploymentStatus {
  Healthy: boolean | null;
  /** ISO-8601 time the verdict was reached. */
  Timestamp: string;
  Canary: boolean;
  ModifyIndex: number;
}

export interface Allocation {
  ID: string;
  Namespace: string;
  EvalID: string;
  /** `<job>.<group>[<index>]` */
  Name: string;
  NodeID: string;
  NodeName: string;
  JobID: string;
  /** The job version this allocation runs. */
  Job: Job;
  TaskGroup: string;
  AllocatedResources: AllocatedResources;
  Metrics: AllocMetric | null;
  DesiredStatus: AllocDesiredStatus;
  DesiredDescription: string;
  DesiredTransition: DesiredTransition;
  ClientStatus: AllocClientStatus;
  ClientDescription: string;
  TaskStates: Record<string, TaskState>;
  DeploymentID: string;
  /** Set by the client once it has judged the allocation healthy or not (jobs with an `update` block). */
  DeploymentStatus?: AllocDeploymentStatus | null;
  PreviousAllocation: string;
  NextAllocation: string;
  FollowupEvalID: string;
  RescheduleTracker: { Events: RescheduleEvent[] } | null;
  CreateIndex: number;
  ModifyIndex: number;
  AllocModifyIndex: number;
  /** Unix nanoseconds. */
  CreateTime: number;
  ModifyTime: number;
}

/** What a client reports about one of its allocations. */
export interface AllocClientUpdate {
  ID: string;
  ClientStatus: AllocClientStatus;
  ClientDescription: string;
  TaskStates: Record<string, TaskState>;
  ModifyTime: number;
  /** Present once the client has judged the allocation's health for a deployment. */
  DeploymentStatus?: AllocDeploymentStatus;
}

/** One row of GET /v1/allocations and /v1/job/:id/allocations (Nomad's AllocListStub). */
export interface AllocListStub {
  ID: string;
  EvalID: string;
  Name: string;
  Namespace: string;
  NodeID: string;
  NodeName: string;
  JobID: string;
  JobType: string;
  JobVersion: number;
  TaskGroup: string;
  DesiredStatus: AllocDesiredStatus;
  DesiredDescription: string;
  ClientStatus: AllocClientStatus;
  ClientDescription: string;
  TaskStates: Record<string, TaskState>;
  FollowupEvalID: string;
  CreateIndex: number;
  ModifyIndex: number;
  CreateTime: number;
  ModifyTime: number;
}

export function isAllocTerminal(a: Pick<Allocation, 'DesiredStatus' | 'ClientStatus'>): boolean {
  return (
    a.DesiredStatus === 'stop' ||
    a.DesiredStatus === 'evict' ||
    a.ClientStatus === 'complete' ||
    a.ClientStatus === 'failed' ||
    a.ClientStatus === 'lost'
  );
}

export function isClientTerminal(s: AllocClientStatus): boolean {
  return s === 'complete' || s === 'failed' || s === 'lost';
}

export function allocStub(a: Allocation): AllocListStub {
  return {
    ID: a.ID,
    EvalID: a.EvalID,
    Name: a.Name,
    Namespace: a.Namespace,
    NodeID: a.NodeID,
    NodeName: a.NodeName,
    JobID: a.JobID,
    JobType: a.Job.Type,
    JobVersion: a.Job.Version,
    TaskGroup: a.TaskGroup,
    DesiredStatus: a.DesiredStatus,
    DesiredDescription: a.DesiredDescription,
    ClientStatus: a.ClientStatus,
    ClientDescription: a.ClientDescription,
    TaskStates: a.TaskStates,
    FollowupEvalID: a.FollowupEvalID,
    CreateIndex: a.CreateIndex,
    ModifyIndex: a.ModifyIndex,
    CreateTime: a.CreateTime,
    ModifyTime: a.ModifyTime,
  };
}
