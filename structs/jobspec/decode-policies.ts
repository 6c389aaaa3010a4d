/**
 * The policy blocks: restart, reschedule, update, migrate, ephemeral_disk, periodic,
 * parameterized, logs and lifecycle. Each maps HCL's snake_case arguments onto the API's
 * field names; defaults are left to canonicalization.
 */
import type {
  EphemeralDisk,
  LogConfig,
  MigrateStrategy,
  ParameterizedJobConfig,
  PeriodicConfig,
  ReschedulePolicy,
  RestartPolicy,
  TaskLifecycle,
  UpdateStrategy,
} from '../job.js';
import type { Input } from '../job-defaults.js';
import type { BodyReader } from './body-reader.js';

export function decodeRestart(parent: BodyReader, field = 'RestartPolicy'): Input<RestartPolicy> | undefined {
  const b = parent.single('restart');
  if (b === undefined) return undefined;
  const r = parent.child(b, parent.field(field));
  const p: Input<RestartPolicy> = {
    Attempts: r.number('attempts', 'Attempts'),
    Interval: r.duration('interval', 'Interval'),
    Delay: r.duration('delay', 'Delay'),
    Mode: r.string('mode', 'Mode'),
    RenderTemplates: r.bool('render_templates', 'RenderTemplates'),
  };
  r.finish();
  return p;
}

export function decodeReschedule(parent: BodyReader, field = 'ReschedulePolicy'): Input<ReschedulePolicy> | undefined {
  const b = parent.single('reschedule');
  if (b === undefined) return undefined;
  const r = parent.child(b, parent.field(field));
  const p: Input<ReschedulePolicy> = {
    Attempts: r.number('attempts', 'Attempts'),
    Interval: r.duration('interval', 'Interval'),
    Delay: r.duration('delay', 'Delay'),
    DelayFunction: r.string('delay_function', 'DelayFunction'),
    MaxDelay: r.duration('max_delay', 'MaxDelay'),
    Unlimited: r.bool('unlimited', 'Unlimited'),
  };
  r.finish();
  return p;
}

export function decodeUpdate(parent: BodyReader): Input<UpdateStrategy> | undefined {
  const b = parent.single('update');
  if (b === undefined) return undefined;
  const r = parent.child(b, parent.field('Update'));
  const u: Input<UpdateStrategy> = {
    Stagger: r.duration('stagger', 'Stagger'),
    MaxParallel: r.number('max_parallel', 'MaxParallel'),
    HealthCheck: r.string('health_check', 'HealthCheck'),
    MinHealthyTime: r.duration('min_healthy_time', 'MinHealthyTime'),
    HealthyDeadline: r.duration('healthy_deadline', 'HealthyDeadline'),
    ProgressDeadline: r.duration('progress_deadline', 'ProgressDeadline'),
    AutoRevert: r.bool('auto_revert', 'AutoRevert'),
    AutoPromote: r.bool('auto_promote', 'AutoPromote'),
    Canary: r.number('canary', 'Canary'),
  };
  r.finish();
  return u;
}

export function decodeMigrate(parent: BodyReader): Input<MigrateStrategy> | undefined {
  const b = parent.single('migrate');
  if (b === undefined) return undefined;
  const r = parent.child(b, parent.field('Migrate'));
  const m: Input<MigrateStrategy> = {
    MaxParallel: r.number('max_parallel', 'MaxParallel'),
    HealthCheck: r.string('health_check', 'HealthCheck'),
    MinHealthyTime: r.duration('min_healthy_time', 'MinHealthyTime'),
    HealthyDeadline: r.duration('healthy_deadline', 'HealthyDeadline'),
  };
  r.finish();
  return m;
}

export function decodeEphemeralDisk(parent: BodyReader): Input<EphemeralDisk> | undefined {
  const b = parent.single('ephemeral_disk');
  if (b === undefined) return undefined;
  const r = parent.child(b, parent.field('EphemeralDisk'));
  const d: Input<EphemeralDisk> = {
    Sticky: r.bool('sticky', 'Sticky'),
    Migrate: r.bool('migrate', 'Migrate'),
    SizeMB: r.sizeMB('size', 'SizeMB'),
  };
  r.finish();
  return d;
}

export function decodePeriodic(parent: BodyReader): Input<PeriodicConfig> | undefined {
  const b = parent.single('periodic');
  if (b === undefined) return undefined;
  const r = parent.child(b, parent.field('Periodic'));
  let spec = r.string('cron', 'Spec');
  // Nomad 1.6 added `crons`, a list; the job model holds one spec.
  const crons = r.stringList('crons', 'Spec');
  if (crons !== undefined) {
    if (crons.length > 1 || (crons.length === 1 && spec !== undefined)) {
      const attr = b.body.attrs.find((a) => a.name === 'crons');
      if (attr !== undefined) r.invalid(attr, 'Spec', 'only one cron expression per job is supported');
    }
    spec = crons[0] ?? spec;
  }
  const p: Input<PeriodicConfig> = {
    Spec: spec,
    SpecType: 'cron',
    ProhibitOverlap: r.bool('prohibit_overlap', 'ProhibitOverlap'),
    TimeZone: r.string('time_zone', 'TimeZone'),
    Enabled: r.bool('enabled', 'Enabled'),
  };
  r.finish();
  return p;
}

export function decodeParameterized(parent: BodyReader): Input<ParameterizedJobConfig> | undefined {
  const b = parent.single('parameterized');
  if (b === undefined) return undefined;
  const r = parent.child(b, parent.field('ParameterizedJob'));
  const p: Input<ParameterizedJobConfig> = {
    Payload: r.string('payload', 'Payload'),
    MetaRequired: r.stringList('meta_required', 'MetaRequired'),
    MetaOptional: r.stringList('meta_optional', 'MetaOptional'),
  };
  r.finish();
  return p;
}

export function decodeLogs(parent: BodyReader): Input<LogConfig> | undefined {
  const b = parent.single('logs');
  if (b === undefined) return undefined;
  const r = parent.child(b, parent.field('LogConfig'));
  let disabled = r.bool('disabled', 'Disabled');
  // `enabled` is the pre-1.5.4 spelling of the inverse.
  const enabled = r.bool('enabled', 'Disabled');
  if (disabled === undefined && enabled !== undefined) disabled = !enabled;
  const l: Input<LogConfig> = {
    MaxFiles: r.number('max_files', 'MaxFiles'),
    MaxFileSizeMB: r.sizeMB('max_file_size', 'MaxFileSizeMB'),
    Disabled: disabled,
  };
  r.finish();
  return l;
}

export function decodeLifecycle(parent: BodyReader): Input<TaskLifecycle> | undefined {
  const b = parent.single('lifecycle');
  if (b === undefined) return undefined;
  const r = parent.child(b, parent.field('Lifecycle'));
  const l: Input<TaskLifecycle> = { Hook: r.string('hook', 'Hook'), Sidecar: r.bool('sidecar', 'Sidecar') };
  // Without a hook Nomad silently drops the block; saying so is kinder.
  if (l.Hook === undefined || l.Hook === '') {
    parent.ctx.error(b.pos, parent.field('Lifecycle.Hook'), `missing hook in lifecycle block in ${parent.where}: it must be prestart, poststart or poststop`);
  }
  r.finish();
  return l;
}
