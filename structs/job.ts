/**
 * The job model. Field names and shapes are Nomad's API JSON (PascalCase, durations in
 * nanoseconds, sizes in MB), so the wire format and the domain model are one and the same:
 * a Nomad API client's `{"Job": {...}}` is a yurt Job, and there is no second mapping to
 * keep in step. Optional fields are filled in by `canonicalizeJob` (job-defaults.ts).
 */
import type { Constraint, Affinity, Spread } from './constraint.js';
import type { Resources, NetworkResource } from './resources.js';

/** Nanoseconds, as Nomad's API encodes every time.Duration. */
export type DurationNs = number;

export const JOB_TYPES = ['service', 'batch', 'system', 'sysbatch'] as const;
export type JobType = (typeof JOB_TYPES)[number];

export type JobStatus = 'pending' | 'running' | 'dead';

export interface Job {
  Region: string;
  Namespace: string;
  ID: string;
  ParentID?: string;
  Name: string;
  Type: JobType;
  Priority: number;
  AllAtOnce: boolean;
  Datacenters: string[];
  NodePool: string;
  Constraints: Constraint[];
  Affinities: Affinity[];
  Spreads: Spread[];
  TaskGroups: TaskGroup[];
  Update?: UpdateStrategy;
  Periodic?: PeriodicConfig;
  ParameterizedJob?: ParameterizedJobConfig;
  Meta: Record<string, string>;
  Stop: boolean;
  Status: JobStatus;
  StatusDescription: string;
  Stable: boolean;
  Version: number;
  /** Unix nanoseconds. */
  SubmitTime: number;
  CreateIndex: number;
  ModifyIndex: number;
  JobModifyIndex: number;
}

export interface TaskGroup {
  Name: string;
  Count: number;
  Constraints: Constraint[];
  Affinities: Affinity[];
  Spreads: Spread[];
  Tasks: Task[];
  RestartPolicy?: RestartPolicy;
  ReschedulePolicy?: ReschedulePolicy;
  EphemeralDisk?: EphemeralDisk;
  Update?: UpdateStrategy;
  Migrate?: MigrateStrategy;
  Networks: NetworkResource[];
  Services: Service[];
  Volumes: Record<string, VolumeRequest>;
  Meta: Record<string, string>;
  ShutdownDelay?: DurationNs;
  StopAfterClientDisconnect?: DurationNs;
  MaxClientDisconnect?: DurationNs;
}

export interface Task {
  Name: string;
  Driver: string;
  User: string;
  /** Driver-specific configuration, kept as the user wrote it (snake_case keys). */
  Config: Record<string, unknown>;
  Env: Record<string, string>;
  Services: Service[];
  Constraints: Constraint[];
  Affinities: Affinity[];
  Resources: Resources;
  RestartPolicy?: RestartPolicy;
  Meta: Record<string, string>;
  KillTimeout: DurationNs;
  KillSignal: string;
  LogConfig: LogConfig;
  Artifacts: TaskArtifact[];
  Templates: Template[];
  Leader: boolean;
  ShutdownDelay: DurationNs;
  Lifecycle?: TaskLifecycle;
  /** Group volumes mounted into this task (`volume_mount` blocks). */
  VolumeMounts?: VolumeMount[];
}

export type RestartMode = 'fail' | 'delay';

export interface RestartPolicy {
  Attempts: number;
  Interval: DurationNs;
  Delay: DurationNs;
  Mode: RestartMode;
  RenderTemplates?: boolean;
}

export type DelayFunction = 'constant' | 'exponential' | 'fibonacci';

export interface ReschedulePolicy {
  Attempts: number;
  Interval: DurationNs;
  Delay: DurationNs;
  DelayFunction: DelayFunction;
  MaxDelay: DurationNs;
  Unlimited: boolean;
}

export interface EphemeralDisk {
  Sticky: boolean;
  SizeMB: number;
  Migrate: boolean;
}

export interface UpdateStrategy {
  Stagger: DurationNs;
  MaxParallel: number;
  HealthCheck: 'checks' | 'task_states' | 'manual';
  MinHealthyTime: DurationNs;
  HealthyDeadline: DurationNs;
  ProgressDeadline: DurationNs;
  AutoRevert: boolean;
  AutoPromote: boolean;
  Canary: number;
}

export interface MigrateStrategy {
  MaxParallel: number;
  HealthCheck: 'checks' | 'task_states';
  MinHealthyTime: DurationNs;
  HealthyDeadline: DurationNs;
}

export interface PeriodicConfig {
  Enabled: boolean;
  Spec: string;
  SpecType: 'cron';
  ProhibitOverlap: boolean;
  TimeZone: string;
}

export interface ParameterizedJobConfig {
  Payload: 'optional' | 'required' | 'forbidden';
  MetaRequired: string[];
  MetaOptional: string[];
}

export interface LogConfig {
  MaxFiles: number;
  MaxFileSizeMB: number;
  Disabled?: boolean;
}

export interface TaskLifecycle {
  Hook: 'prestart' | 'poststart' | 'poststop';
  Sidecar: boolean;
}

export interface TaskArtifact {
  GetterSource: string;
  GetterOptions: Record<string, string>;
  GetterMode: string;
  RelativeDest: string;
}

export interface Template {
  SourcePath: string;
  DestPath: string;
  EmbeddedTmpl: string;
  ChangeMode: string;
  ChangeSignal: string;
  Splay: DurationNs;
  Perms: string;
  LeftDelim: string;
  RightDelim: string;
  Envvars: boolean;
}

export interface ServiceCheck {
  Name: string;
  Type: string;
  Command: string;
  Args: string[];
  Path: string;
  Protocol: string;
  PortLabel: string;
  Interval: DurationNs;
  Timeout: DurationNs;
}

export interface Service {
  Name: string;
  PortLabel: string;
  Provider: string;
  Tags: string[];
  Checks: ServiceCheck[];
}

export interface VolumeRequest {
  Name: string;
  Type: string;
  Source: string;
  ReadOnly: boolean;
}

/** Where a task sees one of its group's volumes. */
export interface VolumeMount {
  /** Name of a volume in the group's `Volumes`. */
  Volume: string;
  Destination: string;
  ReadOnly: boolean;
  PropagationMode: string;
}

/** Nomad's API wraps a job in an envelope on register: `{"Job": {...}}`. */
export interface JobRegisterRequest {
  Job: Job;
  EnforceIndex?: boolean;
  JobModifyIndex?: number;
  PolicyOverride?: boolean;
}

export interface JobRegisterResponse {
  EvalID: string;
  EvalCreateIndex: number;
  JobModifyIndex: number;
  Warnings: string;
  Index: number;
}

/** Nomad's `JobListStub`, one row of GET /v1/jobs. */
export interface JobListStub {
  ID: string;
  ParentID: string;
  Name: string;
  Namespace: string;
  Datacenters: string[];
  NodePool: string;
  Type: JobType;
  Priority: number;
  Periodic: boolean;
  ParameterizedJob: boolean;
  Stop: boolean;
  Status: JobStatus;
  StatusDescription: string;
  JobSummary: JobSummary;
  CreateIndex: number;
  ModifyIndex: number;
  JobModifyIndex: number;
  SubmitTime: number;
}

export interface TaskGroupSummary {
  Queued: number;
  Complete: number;
  Failed: number;
  Running: number;
  Starting: number;
  Lost: number;
  Unknown: number;
}

export interface JobSummary {
  JobID: string;
  Namespace: string;
  Summary: Record<string, TaskGroupSummary>;
  CreateIndex: number;
  ModifyIndex: number;
}
