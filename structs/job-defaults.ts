/**
 * Canonicalization: turn a partly filled job (what a user wrote in HCL or sent as API JSON)
 * into a complete `Job`, with Nomad's defaults wherever a field was left out. The rules and
 * numbers are Nomad's (api/jobs.go and api/tasks.go `Canonicalize`, and the job
 * specification docs), so a job behaves the same here as it would there:
 *
 * - job: Region "global", Namespace "default", Type "service", Priority 50,
 *   Datacenters ["*"], NodePool "default", Name = ID; service jobs get the default update
 *   strategy;
 * - group: Count 1; restart policy by job type; reschedule policy by job type (none for
 *   system/sysbatch); ephemeral disk 300 MB; migrate strategy for service jobs; the job's
 *   update/reschedule/migrate blocks are inherited and overridden field by field;
 * - task: CPU 100 MHz / 300 MB unless `cores` is used, kill timeout 5s, logs 10 x 10 MB,
 *   restart policy inherited from the group and overridden field by field.
 *
 * `canonicalizeJob` never throws and never checks values: bad values are kept as given for
 * `validateJob` (job-validate.ts) to report with their field paths. It is idempotent:
 * canonicalizing a canonical job gives a deep-equal job, and optional fields that are absent
 * are omitted (never present as `undefined`) so a job survives a JSON round trip unchanged.
 */
import type {
  EphemeralDisk,
  Job,
  JobType,
  LogConfig,
  MigrateStrategy,
  ParameterizedJobConfig,
  PeriodicConfig,
  ReschedulePolicy,
  RestartPolicy,
  Service,
  ServiceCheck,
  Task,
  TaskArtifact,
  TaskGroup,
  TaskLifecycle,
  Template,
  UpdateStrategy,
  VolumeMount,
  VolumeRequest,
} from './job.js';
import type { Affinity, Constraint, ConstraintOperand, Spread } from './constraint.js';
import type { NetworkResource, Port, RequestedDevice, Resources } from './resources.js';
import { DEFAULT_TASK_CPU_MHZ, DEFAULT_TASK_MEMORY_MB } from './resources.js';
import { NS_PER_HOUR, NS_PER_MINUTE, NS_PER_SECOND } from './duration.js';

/**
 * The shape a job has before canonicalization: every field optional and nullable (Nomad's
 * API clients send `null` for unset fields), enum fields loosened to `string` so that an
 * unknown value survives to validation and is reported there.
 */
export type Input<T> = T extends readonly (infer U)[]
  ? Input<U>[]
  : T extends string
    ? string
    : T extends number
      ? number
      : T extends boolean
        ? boolean
        : T extends object
          ? { [K in keyof T]?: Input<T[K]> | null }
          : T;

/**
 * A job as submitted. Besides the Job fields it may carry Nomad's job-level `Reschedule`
 * and `Migrate` blocks, which canonicalization folds into every group (as Nomad does) and
 * then drops: the canonical model keeps them per group only.
 */
export type JobInput = Input<Job> & {
  Reschedule?: Input<ReschedulePolicy> | null;
  Migrate?: Input<MigrateStrategy> | null;
};

export type TaskGroupInput = Input<TaskGroup>;
export type TaskInput = Input<Task>;

export const DEFAULT_REGION = 'global';
export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_NODE_POOL = 'default';
export const DEFAULT_JOB_TYPE: JobType = 'service';
export const DEFAULT_JOB_PRIORITY = 50;
/** Since Nomad 1.5 a job without `datacenters` may run in any datacenter. */
export const DEFAULT_DATACENTERS: readonly string[] = ['*'];
export const DEFAULT_GROUP_COUNT = 1;
export const DEFAULT_EPHEMERAL_DISK_MB = 300;
export const DEFAULT_KILL_TIMEOUT_NS = 5 * NS_PER_SECOND;
/**
 * The signal a driver sends to stop a task when `kill_signal` is not set. The job keeps
 * `KillSignal: ""` (as Nomad's API does) and drivers apply this default; Nomad documents
 * SIGINT for its exec and raw_exec drivers (Docker's `docker stop` default is SIGTERM).
 */
export const DEFAULT_KILL_SIGNAL = 'SIGINT';
export const DEFAULT_LOG_MAX_FILES = 10;
export const DEFAULT_LOG_MAX_FILE_SIZE_MB = 10;
export const DEFAULT_AFFINITY_WEIGHT = 50;
export const DEFAULT_SPREAD_WEIGHT = 50;
/**
 * Nomad defaults a service's provider to "consul". yurt has no Consul integration and keeps
 * its own catalog, which is what Nomad calls the "nomad" provider, so that is the default
 * here: job files written for Nomad keep working without a Consul agent.
 */
export const DEFAULT_SERVICE_PROVIDER = 'nomad';

export function defaultRestartPolicy(jobType: string): RestartPolicy {
  // Nomad: service and system jobs restart twice in 30m; batch and sysbatch 3 times a day.
  if (jobType === 'batch' || jobType === 'sysbatch') {
    return { Attempts: 3, Interval: 24 * NS_PER_HOUR, Delay: 15 * NS_PER_SECOND, Mode: 'fail', RenderTemplates: false };
  }
  return { Attempts: 2, Interval: 30 * NS_PER_MINUTE, Delay: 15 * NS_PER_SECOND, Mode: 'fail', RenderTemplates: false };
}

/** The reschedule policy a group gets by default; none for system and sysbatch jobs. */
export function defaultReschedulePolicy(jobType: string): ReschedulePolicy | undefined {
  switch (jobType) {
    case 'service':
      return {
        Attempts: 0,
        Interval: 0,
        Delay: 30 * NS_PER_SECOND,
        DelayFunction: 'exponential',
        MaxDelay: NS_PER_HOUR,
        Unlimited: true,
      };
    case 'batch':
      return {
        Attempts: 1,
        Interval: 24 * NS_PER_HOUR,
        Delay: 5 * NS_PER_SECOND,
        DelayFunction: 'constant',
        MaxDelay: 0,
        Unlimited: false,
      };
    default:
      return undefined;
  }
}

/** The base a `reschedule` block is laid over for job types without a default policy. */
function zeroReschedulePolicy(): ReschedulePolicy {
  return { Attempts: 0, Interval: 0, Delay: 0, DelayFunction: 'constant', MaxDelay: 0, Unlimited: false };
}

export function defaultUpdateStrategy(): UpdateStrategy {
  return {
    Stagger: 30 * NS_PER_SECOND,
    MaxParallel: 1,
    HealthCheck: 'checks',
    MinHealthyTime: 10 * NS_PER_SECOND,
    HealthyDeadline: 5 * NS_PER_MINUTE,
    ProgressDeadline: 10 * NS_PER_MINUTE,
    AutoRevert: false,
    AutoPromote: false,
    Canary: 0,
  };
}

export function defaultMigrateStrategy(): MigrateStrategy {
  return { MaxParallel: 1, HealthCheck: 'checks', MinHealthyTime: 10 * NS_PER_SECOND, HealthyDeadline: 5 * NS_PER_MINUTE };
}

export function defaultEphemeralDisk(): EphemeralDisk {
  return { Sticky: false, SizeMB: DEFAULT_EPHEMERAL_DISK_MB, Migrate: false };
}

export function defaultLogConfig(): LogConfig {
  return { MaxFiles: DEFAULT_LOG_MAX_FILES, MaxFileSizeMB: DEFAULT_LOG_MAX_FILE_SIZE_MB, Disabled: false };
}

/** Fill a complete job from a partial one. See the file comment for the rules. */
export function canonicalizeJob(input: JobInput): Job {
  const id = str(input.ID);
  const type = str(input.Type) || DEFAULT_JOB_TYPE;
  const name = typeof input.Name === 'string' ? input.Name : id;

  const job: Job = {
    Region: str(input.Region) || DEFAULT_REGION,
    Namespace: str(input.Namespace) || DEFAULT_NAMESPACE,
    ID: id,
    ParentID: str(input.ParentID),
    Name: name,
    Type: type as JobType,
    Priority: num(input.Priority, DEFAULT_JOB_PRIORITY),
    AllAtOnce: bool(input.AllAtOnce, false),
    Datacenters: Array.isArray(input.Datacenters) ? strList(input.Datacenters) : [...DEFAULT_DATACENTERS],
    NodePool: str(input.NodePool) || DEFAULT_NODE_POOL,
    Constraints: list(input.Constraints).map(canonConstraint),
    Affinities: list(input.Affinities).map(canonAffinity),
    Spreads: list(input.Spreads).map(canonSpread),
    TaskGroups: [],
    Meta: strMap(input.Meta),
    Stop: bool(input.Stop, false),
    Status: (str(input.Status) || 'pending') as Job['Status'],
    StatusDescription: str(input.StatusDescription),
    Stable: bool(input.Stable, false),
    Version: num(input.Version, 0),
    SubmitTime: num(input.SubmitTime, 0),
    CreateIndex: num(input.CreateIndex, 0),
    ModifyIndex: num(input.ModifyIndex, 0),
    JobModifyIndex: num(input.JobModifyIndex, 0),
  };

  // Nomad gives every service job an update strategy, so that it is deployed with rolling
  // updates and health checks even without an `update` block.
  if (isObject(input.Update)) job.Update = overlay(defaultUpdateStrategy(), input.Update);
  else if (type === 'service') job.Update = defaultUpdateStrategy();

  if (isObject(input.Periodic)) job.Periodic = canonPeriodic(input.Periodic);
  if (isObject(input.ParameterizedJob)) job.ParameterizedJob = canonParameterized(input.ParameterizedJob);

  const inherited: Inherited = {
    jobName: name,
    jobType: type,
    update: isObject(input.Update) ? input.Update : undefined,
    reschedule: isObject(input.Reschedule) ? input.Reschedule : undefined,
    migrate: isObject(input.Migrate) ? input.Migrate : undefined,
  };
  job.TaskGroups = list(input.TaskGroups).map((g) => canonGroup(g, inherited));
  return job;
}

/** What a group takes over from its job. */
interface Inherited {
  jobName: string;
  jobType: string;
  update: Input<UpdateStrategy> | undefined;
  reschedule: Input<ReschedulePolicy> | undefined;
  migrate: Input<MigrateStrategy> | undefined;
}

function canonGroup(g: TaskGroupInput, job: Inherited): TaskGroup {
  const name = str(g.Name);
  const restart = overlay(defaultRestartPolicy(job.jobType), g.RestartPolicy);
  const group: TaskGroup = {
    Name: name,
    Count: num(g.Count, DEFAULT_GROUP_COUNT),
    Constraints: list(g.Constraints).map(canonConstraint),
    Affinities: list(g.Affinities).map(canonAffinity),
    Spreads: list(g.Spreads).map(canonSpread),
    Tasks: [],
    RestartPolicy: restart,
    EphemeralDisk: overlay(defaultEphemeralDisk(), g.EphemeralDisk),
    Networks: list(g.Networks).map(canonNetwork),
    Services: [],
    Volumes: canonVolumes(g.Volumes),
    Meta: strMap(g.Meta),
  };

  // Job-level update/reschedule/migrate blocks apply to every group; a group's own block
  // overrides them field by field (Nomad's TaskGroup.Canonicalize).
  const groupUpdate = isObject(g.Update) ? g.Update : undefined;
  if (job.update !== undefined || groupUpdate !== undefined) {
    group.Update = overlay(overlay(defaultUpdateStrategy(), job.update), groupUpdate);
  } else if (job.jobType === 'service') {
    group.Update = defaultUpdateStrategy();
  }

  const groupReschedule = isObject(g.ReschedulePolicy) ? g.ReschedulePolicy : undefined;
  const rescheduleBase = defaultReschedulePolicy(job.jobType);
  if (job.reschedule !== undefined || groupReschedule !== undefined) {
    group.ReschedulePolicy = overlay(overlay(rescheduleBase ?? zeroReschedulePolicy(), job.reschedule), groupReschedule);
  } else if (rescheduleBase !== undefined) {
    group.ReschedulePolicy = rescheduleBase;
  }

  const groupMigrate = isObject(g.Migrate) ? g.Migrate : undefined;
  if (job.migrate !== undefined || groupMigrate !== undefined) {
    group.Migrate = overlay(overlay(defaultMigrateStrategy(), job.migrate), groupMigrate);
  } else if (job.jobType === 'service') {
    group.Migrate = defaultMigrateStrategy();
  }

  optionalDuration(group, 'ShutdownDelay', g.ShutdownDelay);
  optionalDuration(group, 'StopAfterClientDisconnect', g.StopAfterClientDisconnect);
  optionalDuration(group, 'MaxClientDisconnect', g.MaxClientDisconnect);

  group.Tasks = list(g.Tasks).map((t) => canonTask(t, job.jobName, name, restart));
  group.Services = list(g.Services).map((s) => canonService(s, job.jobName, name, ''));
  return group;
}

function canonTask(t: TaskInput, jobName: string, groupName: string, groupRestart: RestartPolicy): Task {
  const name = str(t.Name);
  const task: Task = {
    Name: name,
    Driver: str(t.Driver),
    User: str(t.User),
    Config: isObject(t.Config) ? cloneConfig(t.Config) : {},
    Env: strMap(t.Env),
    Services: list(t.Services).map((s) => canonService(s, jobName, groupName, name)),
    Constraints: list(t.Constraints).map(canonConstraint),
    Affinities: list(t.Affinities).map(canonAffinity),
    Resources: canonResources(t.Resources),
    // A task's restart block is laid over its group's (Nomad's Task.Canonicalize).
    RestartPolicy: overlay({ ...groupRestart }, t.RestartPolicy),
    Meta: strMap(t.Meta),
    KillTimeout: num(t.KillTimeout, DEFAULT_KILL_TIMEOUT_NS),
    KillSignal: str(t.KillSignal),
    LogConfig: overlay(defaultLogConfig(), t.LogConfig),
    Artifacts: list(t.Artifacts).map(canonArtifact),
    Templates: list(t.Templates).map(canonTemplate),
    Leader: bool(t.Leader, false),
    ShutdownDelay: num(t.ShutdownDelay, 0),
    VolumeMounts: list(t.VolumeMounts).map(canonVolumeMount),
  };
  // Nomad drops a lifecycle block without a hook: it would mean "main task" anyway.
  if (isObject(t.Lifecycle) && str(t.Lifecycle.Hook) !== '') {
    task.Lifecycle = overlay<TaskLifecycle>({ Hook: 'prestart', Sidecar: false }, t.Lifecycle);
  }
  return task;
}

function canonResources(r: Input<Resources> | null | undefined): Resources {
  const given = isObject(r) ? r : {};
  const cores = num(given.Cores, 0);
  // Nomad: a task that asks for whole cores gets no default MHz share on top of them.
  const cpuDefault = typeof given.Cores === 'number' ? 0 : DEFAULT_TASK_CPU_MHZ;
  return {
    CPU: num(given.CPU, cpuDefault),
    Cores: cores,
    MemoryMB: num(given.MemoryMB, DEFAULT_TASK_MEMORY_MB),
    MemoryMaxMB: num(given.MemoryMaxMB, 0),
    DiskMB: num(given.DiskMB, 0),
    Networks: list(given.Networks).map(canonNetwork),
    Devices: list(given.Devices).map(canonDevice),
  };
}

function canonDevice(d: Input<RequestedDevice>): RequestedDevice {
  return {
    Name: str(d.Name),
    Count: num(d.Count, 1),
    Constraints: list(d.Constraints).map(canonConstraint),
    Affinities: list(d.Affinities).map(canonAffinity),
  };
}

function canonNetwork(n: Input<NetworkResource>): NetworkResource {
  return {
    Mode: str(n.Mode) || 'host',
    Device: str(n.Device),
    CIDR: str(n.CIDR),
    IP: str(n.IP),
    MBits: num(n.MBits, 0),
    ReservedPorts: list(n.ReservedPorts).map(canonPort),
    DynamicPorts: list(n.DynamicPorts).map(canonPort),
  };
}

function canonPort(p: Input<Port>): Port {
  return { Label: str(p.Label), Value: num(p.Value, 0), To: num(p.To, 0), HostNetwork: str(p.HostNetwork) || 'default' };
}

function canonConstraint(c: Input<Constraint>): Constraint {
  return { LTarget: str(c.LTarget), RTarget: str(c.RTarget), Operand: str(c.Operand) as ConstraintOperand };
}

function canonAffinity(a: Input<Affinity>): Affinity {
  return {
    LTarget: str(a.LTarget),
    RTarget: str(a.RTarget),
    Operand: (str(a.Operand) || '=') as ConstraintOperand,
    Weight: num(a.Weight, DEFAULT_AFFINITY_WEIGHT),
  };
}

function canonSpread(s: Input<Spread>): Spread {
  return {
    Attribute: str(s.Attribute),
    Weight: num(s.Weight, DEFAULT_SPREAD_WEIGHT),
    SpreadTarget: list(s.SpreadTarget).map((t) => ({ Value: str(t.Value), Percent: num(t.Percent, 0) })),
  };
}

function canonService(s: Input<Service>, jobName: string, groupName: string, taskName: string): Service {
  // Nomad names an unnamed service after where it is declared and expands these four
  // placeholders in service names.
  const base = taskName === '' ? `${jobName}-${groupName}` : `${jobName}-${groupName}-${taskName}`;
  const given = str(s.Name);
  const name = (given === '' ? base : given)
    .replaceAll('${JOB}', jobName)
    .replaceAll('${TASKGROUP}', groupName)
    .replaceAll('${TASK}', taskName)
    .replaceAll('${BASE}', base);
  return {
    Name: name,
    PortLabel: str(s.PortLabel),
    Provider: str(s.Provider) || DEFAULT_SERVICE_PROVIDER,
    Tags: strList(s.Tags),
    Checks: list(s.Checks).map((c) => canonCheck(c, name)),
  };
}

function canonCheck(c: Input<ServiceCheck>, serviceName: string): ServiceCheck {
  return {
    Name: str(c.Name) || `service: ${JSON.stringify(serviceName)} check`,
    Type: str(c.Type),
    Command: str(c.Command),
    Args: strList(c.Args),
    Path: str(c.Path),
    Protocol: str(c.Protocol),
    PortLabel: str(c.PortLabel),
    Interval: num(c.Interval, 0),
    Timeout: num(c.Timeout, 0),
  };
}

function canonArtifact(a: Input<TaskArtifact>): TaskArtifact {
  const source = str(a.GetterSource);
  const mode = str(a.GetterMode) || 'any';
  // Nomad: a file download lands in local/<file name>, anything else in local/.
  const defaultDest = mode === 'file' ? `local/${source.split('/').pop() ?? ''}` : 'local/';
  return {
    GetterSource: source,
    GetterOptions: strMap(a.GetterOptions),
    GetterMode: mode,
    RelativeDest: str(a.RelativeDest) || defaultDest,
  };
}

function canonTemplate(t: Input<Template>): Template {
  const changeMode = str(t.ChangeMode) || 'restart';
  const signal = str(t.ChangeSignal).toUpperCase();
  return {
    SourcePath: str(t.SourcePath),
    DestPath: str(t.DestPath),
    EmbeddedTmpl: str(t.EmbeddedTmpl),
    ChangeMode: changeMode,
    ChangeSignal: signal === '' && changeMode === 'signal' ? 'SIGHUP' : signal,
    Splay: num(t.Splay, 5 * NS_PER_SECOND),
    Perms: str(t.Perms) || '0644',
    LeftDelim: str(t.LeftDelim) || '{{',
    RightDelim: str(t.RightDelim) || '}}',
    Envvars: bool(t.Envvars, false),
  };
}

function canonVolumes(v: Input<Record<string, VolumeRequest>> | null | undefined): Record<string, VolumeRequest> {
  const out: Record<string, VolumeRequest> = {};
  if (!isObject(v)) return out;
  for (const [key, req] of Object.entries(v)) {
    if (!isObject(req)) continue;
    out[key] = { Name: str(req.Name) || key, Type: str(req.Type) || 'host', Source: str(req.Source), ReadOnly: bool(req.ReadOnly, false) };
  }
  return out;
}

function canonVolumeMount(m: Input<VolumeMount>): VolumeMount {
  return { Volume: str(m.Volume), Destination: str(m.Destination), ReadOnly: bool(m.ReadOnly, false), PropagationMode: str(m.PropagationMode) || 'private' };
}

function canonPeriodic(p: Input<PeriodicConfig>): PeriodicConfig {
  return overlay<PeriodicConfig>({ Enabled: true, Spec: '', SpecType: 'cron', ProhibitOverlap: false, TimeZone: 'UTC' }, p);
}

function canonParameterized(p: Input<ParameterizedJobConfig>): ParameterizedJobConfig {
  return {
    Payload: (str(p.Payload) || 'optional') as ParameterizedJobConfig['Payload'],
    MetaRequired: strList(p.MetaRequired),
    MetaOptional: strList(p.MetaOptional),
  };
}

// ---- small typed readers: anything of the wrong type reads as absent -----------------

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function num(v: unknown, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}

function bool(v: unknown, dflt: boolean): boolean {
  return typeof v === 'boolean' ? v : dflt;
}

function list<T>(v: readonly T[] | null | undefined): T[] {
  return Array.isArray(v) ? v.filter((x): x is T => isObject(x)) : [];
}

function strList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Maps of strings (meta, env): numbers and booleans become strings, as HCL converts them. */
function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(v)) return out;
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'string') out[k] = x;
    else if (typeof x === 'number' || typeof x === 'boolean') out[k] = String(x);
  }
  return out;
}

/**
 * Lay the defined fields of `layer` over a complete `base`: only keys the base has, only
 * values of the base's type, so a partial or sloppy input cannot add or break fields.
 */
function overlay<T extends object>(base: T, layer: unknown): T {
  if (!isObject(layer)) return base;
  const out = { ...base };
  for (const key of Object.keys(base) as Array<keyof T & string>) {
    const value = layer[key];
    if (value !== undefined && value !== null && typeof value === typeof base[key]) {
      out[key] = value as T[typeof key];
    }
  }
  return out;
}

function optionalDuration<K extends 'ShutdownDelay' | 'StopAfterClientDisconnect' | 'MaxClientDisconnect'>(
  group: TaskGroup,
  key: K,
  value: unknown,
): void {
  if (typeof value === 'number' && Number.isFinite(value)) group[key] = value;
}

/** Driver config is free-form JSON data; copy it, dropping `undefined` so JSON round trips. */
function cloneConfig(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x !== undefined) out[k] = cloneValue(x);
  }
  return out;
}

function cloneValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== undefined).map(cloneValue);
  if (isObject(v)) return cloneConfig(v);
  return v;
}
