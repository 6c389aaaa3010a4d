/**
 * Job validation: every rule Nomad enforces on a submitted job (nomad/structs Job.Validate,
 * TaskGroup.Validate, Task.Validate and the blocks they call), reported all at once with the
 * path of the offending field, e.g. `TaskGroups[0].Tasks[1].Driver: missing driver`.
 *
 * It runs on a canonical job (job-defaults.ts `canonicalizeJob`), where every field is
 * present; enum-typed fields may still hold unknown strings from user input, and those are
 * reported here rather than trusted.
 */
import type {
  Job,
  MigrateStrategy,
  ReschedulePolicy,
  RestartPolicy,
  Service,
  Task,
  TaskGroup,
  UpdateStrategy,
} from './job.js';
import { JOB_TYPES } from './job.js';
import type { Affinity, Constraint, Spread } from './constraint.js';
import { isConstraintOperand } from './constraint.js';
import type { NetworkResource, Resources } from './resources.js';
import type { FieldError } from './errors.js';
import { ValidationError } from './errors.js';
import { formatDuration, NS_PER_SECOND } from './duration.js';

/** Nomad: JobMinPriority / JobMaxPriority. */
export const JOB_MIN_PRIORITY = 1;
export const JOB_MAX_PRIORITY = 100;
/** Nomad: RestartPolicyMinInterval. */
const RESTART_MIN_INTERVAL_NS = 5 * NS_PER_SECOND;
/** Nomad: ReschedulePolicyMinInterval and ReschedulePolicyMinDelay. */
const RESCHEDULE_MIN_INTERVAL_NS = 15 * NS_PER_SECOND;
const RESCHEDULE_MIN_DELAY_NS = 5 * NS_PER_SECOND;
/** Nomad: minCheckInterval / minCheckTimeout (mirrors Consul's minimum). */
const CHECK_MIN_INTERVAL_NS = NS_PER_SECOND;
const CHECK_MIN_TIMEOUT_NS = NS_PER_SECOND;
const MIN_MEMORY_MB = 10;
const MIN_DISK_MB = 10;

const AFFINITY_OPERANDS: ReadonlySet<string> = new Set([
  '=', '==', 'is', '!=', 'not', '<', '<=', '>', '>=', 'regexp', 'version', 'semver',
  'set_contains', 'set_contains_all', 'set_contains_any',
]);
const CHECK_TYPES: ReadonlySet<string> = new Set(['http', 'tcp', 'script', 'grpc']);
const SERVICE_PROVIDERS: ReadonlySet<string> = new Set(['nomad', 'consul']);
const TEMPLATE_CHANGE_MODES: ReadonlySet<string> = new Set(['noop', 'restart', 'signal', 'script']);
const LIFECYCLE_HOOKS: ReadonlySet<string> = new Set(['prestart', 'poststart', 'poststop']);
const GETTER_MODES: ReadonlySet<string> = new Set(['any', 'file', 'dir']);
const VOLUME_TYPES: ReadonlySet<string> = new Set(['host', 'csi']);
const DELAY_FUNCTIONS: ReadonlySet<string> = new Set(['constant', 'exponential', 'fibonacci']);
const CRON_MACROS: ReadonlySet<string> = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** Collect every problem of `job` with its field path. An empty array means valid. */
export function validateJob(job: Job): FieldError[] {
  const v = new Collector();
  validateJobFields(v, job);
  return v.errors;
}

/** Throw a ValidationError listing every problem of `job`, if it has any. */
export function assertValidJob(job: Job, what = `job ${JSON.stringify(job.ID)}`): void {
  const errors = validateJob(job);
  if (errors.length > 0) throw new ValidationError(what, errors);
}

class Collector {
  readonly errors: FieldError[] = [];
  add(path: string, message: string): void {
    this.errors.push({ path, message });
  }
}

function validateJobFields(v: Collector, job: Job): void {
  if (job.Region === '') v.add('Region', 'missing region');
  if (job.Namespace === '') v.add('Namespace', 'missing namespace');
  if (job.ID === '') v.add('ID', 'missing job ID');
  else if (job.ID.includes(' ')) v.add('ID', 'job ID must not contain spaces');
  else if (job.ID.includes('\0')) v.add('ID', 'job ID must not contain null characters');
  if (job.Name === '') v.add('Name', 'missing job name');
  else if (job.Name.includes('\0')) v.add('Name', 'job name must not contain null characters');

  const typeOk = (JOB_TYPES as readonly string[]).includes(job.Type);
  if (!typeOk) v.add('Type', `invalid job type ${JSON.stringify(job.Type)}; must be one of ${JOB_TYPES.join(', ')}`);
  if (!Number.isInteger(job.Priority) || job.Priority < JOB_MIN_PRIORITY || job.Priority > JOB_MAX_PRIORITY) {
    v.add('Priority', `must be between ${JOB_MIN_PRIORITY} and ${JOB_MAX_PRIORITY}`);
  }
  if (job.Datacenters.length === 0) v.add('Datacenters', 'missing datacenters');
  job.Datacenters.forEach((dc, i) => {
    if (dc === '') v.add(`Datacenters[${i}]`, 'datacenter must not be empty');
  });
  if (job.NodePool === '') v.add('NodePool', 'missing node pool');

  job.Constraints.forEach((c, i) => validateConstraint(v, `Constraints[${i}]`, c, 'job'));
  job.Affinities.forEach((a, i) => validateAffinity(v, `Affinities[${i}]`, a));
  job.Spreads.forEach((s, i) => validateSpread(v, `Spreads[${i}]`, s));

  const batchLike = job.Type === 'batch' || job.Type === 'sysbatch';
  if (job.Update !== undefined) {
    if (batchLike) v.add('Update', `job type ${JSON.stringify(job.Type)} does not allow an update block`);
    validateUpdate(v, 'Update', job.Update);
  }
  if (job.Periodic !== undefined && job.Periodic.Enabled) {
    if (!batchLike) v.add('Periodic', 'periodic jobs must be of type "batch" or "sysbatch"');
    validatePeriodic(v, job.Periodic);
  }
  if (job.ParameterizedJob !== undefined) {
    if (!batchLike) v.add('ParameterizedJob', 'parameterized jobs must be of type "batch" or "sysbatch"');
    const p = job.ParameterizedJob;
    if (!['optional', 'required', 'forbidden'].includes(p.Payload)) {
      v.add('ParameterizedJob.Payload', `unknown payload requirement ${JSON.stringify(p.Payload)}; must be optional, required or forbidden`);
    }
    const both = p.MetaRequired.filter((k) => p.MetaOptional.includes(k));
    if (both.length > 0) {
      v.add('ParameterizedJob', `required and optional meta keys must be disjoint; both list ${both.join(', ')}`);
    }
  }

  if (job.TaskGroups.length === 0) v.add('TaskGroups', 'job must have at least one task group');
  const seen = new Map<string, number>();
  job.TaskGroups.forEach((g, i) => {
    const path = `TaskGroups[${i}]`;
    if (g.Name === '') v.add(`${path}.Name`, 'missing group name');
    else if (seen.has(g.Name)) v.add(`${path}.Name`, `group name ${JSON.stringify(g.Name)} is already used by TaskGroups[${seen.get(g.Name)}]`);
    else seen.set(g.Name, i);
    validateGroup(v, path, g, job, typeOk);
  });
}

function validateGroup(v: Collector, path: string, g: TaskGroup, job: Job, typeOk: boolean): void {
  if (!Number.isInteger(g.Count)) v.add(`${path}.Count`, 'must be an integer');
  else if (g.Count < 0) v.add(`${path}.Count`, 'must be >= 0');
  else if (job.Type === 'system' && g.Count > 1) v.add(`${path}.Count`, 'must be <= 1 for a system job');
  if (g.Tasks.length === 0) v.add(`${path}.Tasks`, 'group must have at least one task');

  g.Constraints.forEach((c, i) => validateConstraint(v, `${path}.Constraints[${i}]`, c, 'group'));
  g.Affinities.forEach((a, i) => validateAffinity(v, `${path}.Affinities[${i}]`, a));
  g.Spreads.forEach((s, i) => validateSpread(v, `${path}.Spreads[${i}]`, s));

  if (g.RestartPolicy !== undefined) validateRestart(v, `${path}.RestartPolicy`, g.RestartPolicy);
  const systemLike = job.Type === 'system' || job.Type === 'sysbatch';
  if (g.ReschedulePolicy !== undefined) {
    if (systemLike) v.add(`${path}.ReschedulePolicy`, `job type ${JSON.stringify(job.Type)} does not allow a reschedule block`);
    else validateReschedule(v, `${path}.ReschedulePolicy`, g.ReschedulePolicy);
  }
  if (g.EphemeralDisk !== undefined && (!Number.isInteger(g.EphemeralDisk.SizeMB) || g.EphemeralDisk.SizeMB < MIN_DISK_MB)) {
    v.add(`${path}.EphemeralDisk.SizeMB`, `must be at least ${MIN_DISK_MB} MB`);
  }
  // A batch job's inherited job-level update block is reported once, on the job.
  if (g.Update !== undefined && (job.Update === undefined || (job.Type !== 'batch' && job.Type !== 'sysbatch'))) {
    if (typeOk && job.Type !== 'service' && job.Type !== 'system') {
      v.add(`${path}.Update`, `job type ${JSON.stringify(job.Type)} does not allow an update block`);
    }
    validateUpdate(v, `${path}.Update`, g.Update);
  }
  if (g.Migrate !== undefined) {
    if (typeOk && job.Type !== 'service') v.add(`${path}.Migrate`, `job type ${JSON.stringify(job.Type)} does not allow a migrate block`);
    validateMigrate(v, `${path}.Migrate`, g.Migrate);
  }
  for (const key of ['ShutdownDelay', 'StopAfterClientDisconnect', 'MaxClientDisconnect'] as const) {
    const d = g[key];
    if (d !== undefined && d < 0) v.add(`${path}.${key}`, 'must not be negative');
  }

  if (g.Networks.length > 1) v.add(`${path}.Networks`, 'only one network block is allowed in a group');
  const ports = new PortRegistry(v);
  g.Networks.forEach((n, i) => validateNetwork(v, `${path}.Networks[${i}]`, n, ports, true));

  for (const [name, vol] of Object.entries(g.Volumes)) {
    const vp = `${path}.Volumes[${JSON.stringify(name)}]`;
    if (!VOLUME_TYPES.has(vol.Type)) v.add(`${vp}.Type`, `unknown volume type ${JSON.stringify(vol.Type)}; must be host or csi`);
    if (vol.Source === '') v.add(`${vp}.Source`, 'volume source must be set');
  }

  validateServices(v, `${path}.Services`, g.Services);

  const taskNames = new Map<string, number>();
  let leaders = 0;
  g.Tasks.forEach((t, i) => {
    const tp = `${path}.Tasks[${i}]`;
    if (t.Name === '') v.add(`${tp}.Name`, 'missing task name');
    else if (taskNames.has(t.Name)) v.add(`${tp}.Name`, `task name ${JSON.stringify(t.Name)} is already used by ${path}.Tasks[${taskNames.get(t.Name)}]`);
    else taskNames.set(t.Name, i);
    if (t.Leader) leaders++;
    validateTask(v, tp, t, g, ports);
  });
  if (leaders > 1) v.add(`${path}.Tasks`, 'only one task may be marked as leader');
}

function validateTask(v: Collector, path: string, t: Task, g: TaskGroup, ports: PortRegistry): void {
  if (t.Name.includes('/')) v.add(`${path}.Name`, 'task name must not contain slashes');
  else if (t.Name.includes('\0')) v.add(`${path}.Name`, 'task name must not contain null characters');
  if (t.Driver === '') v.add(`${path}.Driver`, 'missing driver');
  if (t.KillTimeout < 0) v.add(`${path}.KillTimeout`, 'must not be negative');
  if (t.ShutdownDelay < 0) v.add(`${path}.ShutdownDelay`, 'must not be negative');

  validateResources(v, `${path}.Resources`, t.Resources, ports);
  // A task inherits its group's policy; only its own changes need their own report.
  if (t.RestartPolicy !== undefined && !sameRestart(t.RestartPolicy, g.RestartPolicy)) {
    validateRestart(v, `${path}.RestartPolicy`, t.RestartPolicy);
  }

  const logs = t.LogConfig;
  if (!Number.isInteger(logs.MaxFiles) || logs.MaxFiles < 1) v.add(`${path}.LogConfig.MaxFiles`, 'must be at least 1');
  if (!Number.isInteger(logs.MaxFileSizeMB) || logs.MaxFileSizeMB < 1) v.add(`${path}.LogConfig.MaxFileSizeMB`, 'must be at least 1 MB');
  if (logs.Disabled !== true && g.EphemeralDisk !== undefined) {
    // Rotated logs live on the allocation's ephemeral disk and must leave room for the task.
    const logMB = logs.MaxFiles * logs.MaxFileSizeMB;
    if (logMB >= g.EphemeralDisk.SizeMB) {
      v.add(`${path}.LogConfig`, `log storage (${logMB} MB) must be less than the group's ephemeral disk (${g.EphemeralDisk.SizeMB} MB)`);
    }
  }

  t.Constraints.forEach((c, i) => validateConstraint(v, `${path}.Constraints[${i}]`, c, 'task'));
  t.Affinities.forEach((a, i) => validateAffinity(v, `${path}.Affinities[${i}]`, a));
  validateServices(v, `${path}.Services`, t.Services);

  t.Artifacts.forEach((a, i) => {
    const ap = `${path}.Artifacts[${i}]`;
    if (a.GetterSource === '') v.add(`${ap}.GetterSource`, 'artifact source must be specified');
    if (!GETTER_MODES.has(a.GetterMode)) v.add(`${ap}.GetterMode`, `invalid mode ${JSON.stringify(a.GetterMode)}; must be any, file or dir`);
    if (escapesTaskDir(a.RelativeDest)) v.add(`${ap}.RelativeDest`, 'destination escapes the allocation directory');
  });
  t.Templates.forEach((tm, i) => {
    const tp = `${path}.Templates[${i}]`;
    if (tm.SourcePath === '' && tm.EmbeddedTmpl === '') v.add(tp, 'template needs a source or embedded data');
    if (tm.DestPath === '') v.add(`${tp}.DestPath`, 'missing template destination');
    else if (escapesTaskDir(tm.DestPath)) v.add(`${tp}.DestPath`, 'destination escapes the allocation directory');
    if (!TEMPLATE_CHANGE_MODES.has(tm.ChangeMode)) {
      v.add(`${tp}.ChangeMode`, `invalid change mode ${JSON.stringify(tm.ChangeMode)}; must be noop, restart, signal or script`);
    }
    if (tm.ChangeMode === 'signal' && tm.ChangeSignal === '') v.add(`${tp}.ChangeSignal`, 'a signal is required when the change mode is "signal"');
    if (tm.Splay < 0) v.add(`${tp}.Splay`, 'must not be negative');
    if (!/^[0-7]{1,4}$/.test(tm.Perms)) v.add(`${tp}.Perms`, `invalid permissions ${JSON.stringify(tm.Perms)}; must be octal such as "0644"`);
  });
  if (t.Lifecycle !== undefined && !LIFECYCLE_HOOKS.has(t.Lifecycle.Hook)) {
    v.add(`${path}.Lifecycle.Hook`, `invalid hook ${JSON.stringify(t.Lifecycle.Hook)}; must be prestart, poststart or poststop`);
  }
  (t.VolumeMounts ?? []).forEach((m, i) => {
    const mp = `${path}.VolumeMounts[${i}]`;
    if (!(m.Volume in g.Volumes)) v.add(`${mp}.Volume`, `volume ${JSON.stringify(m.Volume)} is not defined in the group`);
    if (m.Destination === '') v.add(`${mp}.Destination`, 'missing destination');
  });
}

function validateResources(v: Collector, path: string, r: Resources, ports: PortRegistry): void {
  if (!Number.isInteger(r.Cores) || r.Cores < 0) v.add(`${path}.Cores`, 'must be a non-negative integer');
  if (!Number.isInteger(r.CPU)) v.add(`${path}.CPU`, 'must be an integer');
  else if (r.Cores > 0 && r.CPU > 0) v.add(`${path}.CPU`, 'a task can ask for cpu or cores, not both');
  else if (r.Cores === 0 && r.CPU < 1) v.add(`${path}.CPU`, 'must be at least 1 MHz');
  if (!Number.isInteger(r.MemoryMB) || r.MemoryMB < MIN_MEMORY_MB) v.add(`${path}.MemoryMB`, `must be at least ${MIN_MEMORY_MB} MB`);
  if (r.MemoryMaxMB !== 0 && r.MemoryMaxMB < r.MemoryMB) {
    v.add(`${path}.MemoryMaxMB`, `must be 0 or at least MemoryMB (${r.MemoryMB})`);
  }
  if (r.DiskMB < 0) v.add(`${path}.DiskMB`, 'must not be negative');
  r.Networks.forEach((n, i) => validateNetwork(v, `${path}.Networks[${i}]`, n, ports, false));
  r.Devices.forEach((d, i) => {
    const dp = `${path}.Devices[${i}]`;
    if (!/^[^/\s]+(\/[^/\s]+){0,2}$/.test(d.Name)) {
      v.add(`${dp}.Name`, 'device name must be given as type, vendor/type or vendor/type/model');
    }
    if (!Number.isInteger(d.Count) || d.Count < 0) v.add(`${dp}.Count`, 'must be >= 0');
    d.Constraints.forEach((c, j) => validateConstraint(v, `${dp}.Constraints[${j}]`, c, 'device'));
    d.Affinities.forEach((a, j) => validateAffinity(v, `${dp}.Affinities[${j}]`, a));
  });
}

/** Port labels and static ports must be unique across all the networks of one group. */
class PortRegistry {
  private readonly labels = new Map<string, string>();
  private readonly statics = new Map<number, string>();
  constructor(private readonly v: Collector) {}

  add(path: string, label: string, staticPort: number): void {
    const prev = this.labels.get(label);
    if (prev !== undefined) this.v.add(`${path}.Label`, `port label ${JSON.stringify(label)} is already used by ${prev}`);
    else this.labels.set(label, path);
    if (staticPort > 0) {
      const other = this.statics.get(staticPort);
      if (other !== undefined) this.v.add(`${path}.Value`, `static port ${staticPort} is already reserved by ${other}`);
      else this.statics.set(staticPort, path);
    }
  }
}

function validateNetwork(v: Collector, path: string, n: NetworkResource, ports: PortRegistry, groupLevel: boolean): void {
  if (groupLevel && !['host', 'bridge', 'none'].includes(n.Mode) && !n.Mode.startsWith('cni/')) {
    v.add(`${path}.Mode`, `invalid network mode ${JSON.stringify(n.Mode)}; must be host, bridge, none or cni/<name>`);
  }
  if (n.MBits < 0) v.add(`${path}.MBits`, 'must not be negative');
  const check = (kind: 'ReservedPorts' | 'DynamicPorts'): void => {
    n[kind].forEach((p, i) => {
      const pp = `${path}.${kind}[${i}]`;
      if (p.Label === '') v.add(`${pp}.Label`, 'missing port label');
      if (!Number.isInteger(p.Value) || p.Value < 0 || p.Value > 65535) v.add(`${pp}.Value`, 'must be a port number between 0 and 65535');
      else if (kind === 'ReservedPorts' && p.Value === 0) v.add(`${pp}.Value`, 'a static port must be between 1 and 65535');
      if (!Number.isInteger(p.To) || p.To < -1 || p.To > 65535) v.add(`${pp}.To`, 'must be -1 or a port number between 0 and 65535');
      ports.add(pp, p.Label, kind === 'ReservedPorts' ? p.Value : 0);
    });
  };
  check('ReservedPorts');
  check('DynamicPorts');
}

function validateServices(v: Collector, path: string, services: Service[]): void {
  const known = new Set<string>();
  services.forEach((s, i) => {
    const sp = `${path}[${i}]`;
    // Runtime interpolations are allowed in names, so they are replaced before the check.
    const stripped = s.Name.replace(/\$\{[^}]*\}/g, 'ENV-VAR');
    if (!/^(?:[a-z0-9]|[a-z0-9][a-z0-9-]{0,61}[a-z0-9])$/i.test(stripped)) {
      v.add(`${sp}.Name`, `service name ${JSON.stringify(s.Name)} must be valid per RFC 1123: letters, digits and dashes, at most 63 characters`);
    }
    const key = `${s.Name}\0${s.PortLabel}`;
    if (known.has(key)) v.add(`${sp}.Name`, `service ${JSON.stringify(s.Name)} is defined twice`);
    known.add(key);
    if (!SERVICE_PROVIDERS.has(s.Provider)) v.add(`${sp}.Provider`, `unknown provider ${JSON.stringify(s.Provider)}; must be nomad or consul`);
    s.Checks.forEach((c, j) => {
      const cp = `${sp}.Checks[${j}]`;
      if (!CHECK_TYPES.has(c.Type)) {
        v.add(`${cp}.Type`, `invalid check type ${JSON.stringify(c.Type)}; must be http, tcp, script or grpc`);
        return;
      }
      if (c.Type !== 'script' && s.PortLabel === '' && c.PortLabel === '') {
        v.add(`${cp}.PortLabel`, 'check requires a port but neither the check nor its service has one');
      }
      if (c.Type === 'http') {
        if (c.Path === '') v.add(`${cp}.Path`, 'http checks need a path');
        else if (/^[a-z][a-z0-9+.-]*:/i.test(c.Path)) v.add(`${cp}.Path`, 'http check path must be relative');
      }
      if (c.Type === 'script' && c.Command === '') v.add(`${cp}.Command`, 'script checks need a command');
      if (c.Interval < CHECK_MIN_INTERVAL_NS) v.add(`${cp}.Interval`, `must be at least ${formatDuration(CHECK_MIN_INTERVAL_NS)}`);
      if (c.Timeout < CHECK_MIN_TIMEOUT_NS) v.add(`${cp}.Timeout`, `must be at least ${formatDuration(CHECK_MIN_TIMEOUT_NS)}`);
    });
  });
}

function validateRestart(v: Collector, path: string, r: RestartPolicy): void {
  if (r.Mode !== 'fail' && r.Mode !== 'delay') v.add(`${path}.Mode`, `unsupported restart mode ${JSON.stringify(r.Mode)}; must be "fail" or "delay"`);
  if (!Number.isInteger(r.Attempts) || r.Attempts < 0) v.add(`${path}.Attempts`, 'must be >= 0');
  else if (r.Attempts === 0 && r.Mode === 'delay') v.add(`${path}.Attempts`, 'restart mode "delay" with 0 attempts is ambiguous');
  if (r.Delay < 0) v.add(`${path}.Delay`, 'must not be negative');
  if (r.Interval < RESTART_MIN_INTERVAL_NS) v.add(`${path}.Interval`, `must be at least ${formatDuration(RESTART_MIN_INTERVAL_NS)}`);
  else if (r.Attempts * r.Delay > r.Interval) {
    v.add(path, `cannot restart ${r.Attempts} times in an interval of ${formatDuration(r.Interval)} with a delay of ${formatDuration(r.Delay)}`);
  }
}

function sameRestart(a: RestartPolicy, b: RestartPolicy | undefined): boolean {
  return b !== undefined && a.Attempts === b.Attempts && a.Interval === b.Interval && a.Delay === b.Delay && a.Mode === b.Mode;
}

function validateReschedule(v: Collector, path: string, r: ReschedulePolicy): void {
  if (!Number.isInteger(r.Attempts) || r.Attempts < 0) v.add(`${path}.Attempts`, 'must be >= 0');
  // Nomad only checks a policy that is in use.
  if (!(r.Attempts > 0 || r.Unlimited)) return;
  if (r.Attempts > 0 && r.Unlimited) v.add(path, 'attempts and unlimited are mutually exclusive');
  if (r.Delay < RESCHEDULE_MIN_DELAY_NS) v.add(`${path}.Delay`, `must be at least ${formatDuration(RESCHEDULE_MIN_DELAY_NS)}`);
  const fnOk = DELAY_FUNCTIONS.has(r.DelayFunction);
  if (!fnOk) v.add(`${path}.DelayFunction`, `invalid delay function ${JSON.stringify(r.DelayFunction)}; must be constant, exponential or fibonacci`);
  if (fnOk && r.DelayFunction !== 'constant') {
    if (r.MaxDelay < RESCHEDULE_MIN_DELAY_NS) v.add(`${path}.MaxDelay`, `must be at least ${formatDuration(RESCHEDULE_MIN_DELAY_NS)}`);
    else if (r.MaxDelay < r.Delay) v.add(`${path}.MaxDelay`, 'must not be less than Delay');
  }
  if (r.Unlimited) return;
  if (r.Interval < RESCHEDULE_MIN_INTERVAL_NS) {
    v.add(`${path}.Interval`, `must be at least ${formatDuration(RESCHEDULE_MIN_INTERVAL_NS)}`);
  } else if (fnOk && r.Delay >= RESCHEDULE_MIN_DELAY_NS) {
    // The delays between the allowed attempts must fit in the interval.
    const needed = totalRescheduleDelay(r);
    if (needed > r.Interval) {
      v.add(path, `${r.Attempts} attempts with a ${r.DelayFunction} delay starting at ${formatDuration(r.Delay)} need ${formatDuration(needed)}, more than the interval of ${formatDuration(r.Interval)}`);
    }
  }
}

function totalRescheduleDelay(r: ReschedulePolicy): number {
  let total = 0;
  let prev = 0;
  let cur = r.Delay;
  for (let i = 0; i < r.Attempts; i++) {
    const capped = r.DelayFunction === 'constant' || r.MaxDelay === 0 ? cur : Math.min(cur, r.MaxDelay);
    total += capped;
    if (r.DelayFunction === 'exponential') cur = cur * 2;
    else if (r.DelayFunction === 'fibonacci') [prev, cur] = [cur, prev === 0 ? cur : prev + cur];
  }
  return total;
}

function validateUpdate(v: Collector, path: string, u: UpdateStrategy): void {
  if (!['checks', 'task_states', 'manual'].includes(u.HealthCheck)) {
    v.add(`${path}.HealthCheck`, `invalid health check ${JSON.stringify(u.HealthCheck)}; must be checks, task_states or manual`);
  }
  if (!Number.isInteger(u.MaxParallel) || u.MaxParallel < 0) v.add(`${path}.MaxParallel`, 'must be >= 0');
  if (!Number.isInteger(u.Canary) || u.Canary < 0) v.add(`${path}.Canary`, 'must be >= 0');
  if (u.MinHealthyTime < 0) v.add(`${path}.MinHealthyTime`, 'must not be negative');
  if (u.HealthyDeadline <= 0) v.add(`${path}.HealthyDeadline`, 'must be greater than zero');
  if (u.ProgressDeadline < 0) v.add(`${path}.ProgressDeadline`, 'must not be negative');
  if (u.Stagger <= 0) v.add(`${path}.Stagger`, 'must be greater than zero');
  if (u.HealthyDeadline > 0 && u.MinHealthyTime >= u.HealthyDeadline) {
    v.add(`${path}.MinHealthyTime`, `must be less than the healthy deadline (${formatDuration(u.HealthyDeadline)})`);
  }
  if (u.ProgressDeadline !== 0 && u.HealthyDeadline >= u.ProgressDeadline) {
    v.add(`${path}.HealthyDeadline`, `must be less than the progress deadline (${formatDuration(u.ProgressDeadline)})`);
  }
}

function validateMigrate(v: Collector, path: string, m: MigrateStrategy): void {
  if (!Number.isInteger(m.MaxParallel) || m.MaxParallel < 0) v.add(`${path}.MaxParallel`, 'must be >= 0');
  if (m.HealthCheck !== 'checks' && m.HealthCheck !== 'task_states') {
    v.add(`${path}.HealthCheck`, `invalid health check ${JSON.stringify(m.HealthCheck)}; must be checks or task_states`);
  }
  if (m.MinHealthyTime < 0) v.add(`${path}.MinHealthyTime`, 'must not be negative');
  if (m.HealthyDeadline < 0) v.add(`${path}.HealthyDeadline`, 'must not be negative');
  if (m.MinHealthyTime > m.HealthyDeadline) v.add(`${path}.MinHealthyTime`, 'must be less than the healthy deadline');
}

function validatePeriodic(v: Collector, p: NonNullable<Job['Periodic']>): void {
  if (p.SpecType !== 'cron') v.add('Periodic.SpecType', `unknown periodic specification type ${JSON.stringify(p.SpecType)}`);
  if (p.Spec === '') v.add('Periodic.Spec', 'missing cron spec');
  else if (!isCronSpec(p.Spec)) v.add('Periodic.Spec', `invalid cron spec ${JSON.stringify(p.Spec)}`);
  if (p.TimeZone !== '' && !isTimeZone(p.TimeZone)) v.add('Periodic.TimeZone', `unknown time zone ${JSON.stringify(p.TimeZone)}`);
}

/**
 * The shape of a cron expression as Nomad's cronexpr reads it: a macro, or 5 to 7 fields of
 * numbers, names, and the operators * ? / , - L W #. Field ranges are the scheduler's check.
 */
function isCronSpec(spec: string): boolean {
  const s = spec.trim();
  if (CRON_MACROS.has(s)) return true;
  const fields = s.split(/\s+/);
  return fields.length >= 5 && fields.length <= 7 && fields.every((f) => /^[0-9A-Za-z*?/,#-]+$/.test(f));
}

function isTimeZone(tz: string): boolean {
  if (tz === 'Local') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

type ConstraintLevel = 'job' | 'group' | 'task' | 'device';

function validateConstraint(v: Collector, path: string, c: Constraint, level: ConstraintLevel): void {
  const op: string = c.Operand;
  if (op === '') {
    v.add(`${path}.Operand`, 'missing constraint operator');
    return;
  }
  if (!isConstraintOperand(op)) {
    v.add(`${path}.Operand`, `unknown constraint operator ${JSON.stringify(op)}`);
    return;
  }
  let needsLTarget = true;
  switch (c.Operand) {
    case 'distinct_hosts':
      needsLTarget = false;
      break;
    case 'distinct_property':
      // The optional right side is how many allocations may share one value.
      if (c.RTarget !== '' && !(/^\d+$/.test(c.RTarget) && Number(c.RTarget) >= 1)) {
        v.add(`${path}.RTarget`, `distinct_property limit must be an integer >= 1, got ${JSON.stringify(c.RTarget)}`);
      }
      break;
    case 'set_contains':
    case 'set_contains_all':
    case 'set_contains_any':
      if (c.RTarget === '') v.add(`${path}.RTarget`, `operator ${JSON.stringify(op)} requires a value`);
      break;
    case 'regexp':
      // Nomad compiles RE2; a JavaScript RegExp accepts the same common syntax.
      try {
        new RegExp(c.RTarget);
      } catch (e) {
        v.add(`${path}.RTarget`, `regular expression does not compile: ${(e as Error).message}`);
      }
      break;
    case 'version':
    case 'semver':
      if (!isVersionConstraint(c.RTarget)) v.add(`${path}.RTarget`, `invalid version constraint ${JSON.stringify(c.RTarget)}`);
      break;
    case 'is_set':
    case 'is_not_set':
      if (c.RTarget !== '') v.add(`${path}.RTarget`, `operator ${JSON.stringify(op)} takes no value`);
      break;
    default:
      if (c.RTarget === '') v.add(`${path}.RTarget`, `operator ${JSON.stringify(op)} requires a value`);
  }
  if ((c.Operand === 'distinct_hosts' || c.Operand === 'distinct_property') && (level === 'task' || level === 'device')) {
    v.add(`${path}.Operand`, `operator ${JSON.stringify(op)} is not allowed at ${level} level`);
  }
  if (needsLTarget && c.LTarget === '') v.add(`${path}.LTarget`, 'missing attribute');
}

/** hashicorp/go-version constraints: comma-separated `[op] version`, e.g. ">= 1.2, < 2.0". */
function isVersionConstraint(s: string): boolean {
  const part = /^\s*(=|!=|>|<|>=|<=|~>)?\s*v?\d+(\.\d+)*(-[0-9A-Za-z.~-]+)?(\+[0-9A-Za-z.~-]+)?\s*$/;
  return s.trim() !== '' && s.split(',').every((p) => part.test(p));
}

function validateAffinity(v: Collector, path: string, a: Affinity): void {
  if (!AFFINITY_OPERANDS.has(a.Operand)) v.add(`${path}.Operand`, `unknown affinity operator ${JSON.stringify(a.Operand)}`);
  else if (a.Operand === 'regexp') {
    try {
      new RegExp(a.RTarget);
    } catch (e) {
      v.add(`${path}.RTarget`, `regular expression does not compile: ${(e as Error).message}`);
    }
  } else if ((a.Operand === 'version' || a.Operand === 'semver') && !isVersionConstraint(a.RTarget)) {
    v.add(`${path}.RTarget`, `invalid version constraint ${JSON.stringify(a.RTarget)}`);
  }
  if (a.LTarget === '') v.add(`${path}.LTarget`, 'missing attribute');
  if (!Number.isInteger(a.Weight) || a.Weight === 0 || a.Weight < -100 || a.Weight > 100) {
    v.add(`${path}.Weight`, 'must be a non-zero integer between -100 and 100');
  }
}

function validateSpread(v: Collector, path: string, s: Spread): void {
  if (s.Attribute === '') v.add(`${path}.Attribute`, 'missing spread attribute');
  if (!Number.isInteger(s.Weight) || s.Weight <= 0 || s.Weight > 100) v.add(`${path}.Weight`, 'must be an integer between 1 and 100');
  const values = new Set<string>();
  let sum = 0;
  s.SpreadTarget.forEach((t, i) => {
    const tp = `${path}.SpreadTarget[${i}]`;
    if (values.has(t.Value)) v.add(`${tp}.Value`, `spread target ${JSON.stringify(t.Value)} is defined twice`);
    values.add(t.Value);
    if (!Number.isInteger(t.Percent) || t.Percent < 0 || t.Percent > 100) v.add(`${tp}.Percent`, 'must be between 0 and 100');
    sum += t.Percent;
  });
  if (sum > 100) v.add(`${path}.SpreadTarget`, `target percentages must add up to at most 100, got ${sum}`);
}

/** Whether a task-relative path leaves the task's directory ("../x", "/../x"). */
function escapesTaskDir(p: string): boolean {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) return true;
      parts.pop();
    } else parts.push(seg);
  }
  return false;
}
