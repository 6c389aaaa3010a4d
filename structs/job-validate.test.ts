import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobInput } from './job-defaults.js';
import { canonicalizeJob } from './job-defaults.js';
import { assertValidJob, validateJob } from './job-validate.js';
import { ValidationError } from './errors.js';

const S = 1_000_000_000;

function job(input: JobInput): ReturnType<typeof canonicalizeJob> {
  return canonicalizeJob(input);
}

function task(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { Name: 't', Driver: 'exec', ...extra };
}

function errorsOf(input: JobInput): string[] {
  return validateJob(job(input)).map((e) => `${e.path}: ${e.message}`);
}

void test('a well-formed job has no errors', () => {
  assert.deepEqual(validateJob(job({ ID: 'web', TaskGroups: [{ Name: 'g', Tasks: [task()] }] })), []);
});

void test('every problem is reported at once, each with its field path', () => {
  const errors = errorsOf({
    ID: 'my job',
    Type: 'web',
    Priority: 0,
    Datacenters: [],
    TaskGroups: [
      { Name: 'a', Count: -1, Tasks: [task(), task({ Driver: '' })] },
      { Name: 'a', Tasks: [] },
      { Name: '', Tasks: [task({ Name: 'x/y', Resources: { CPU: 0, MemoryMB: 5 }, KillTimeout: -1 })] },
    ],
  });
  assert.deepEqual(errors, [
    'ID: job ID must not contain spaces',
    'Type: invalid job type "web"; must be one of service, batch, system, sysbatch',
    'Priority: must be between 1 and 100',
    'Datacenters: missing datacenters',
    'TaskGroups[0].Count: must be >= 0',
    'TaskGroups[0].Tasks[1].Name: task name "t" is already used by TaskGroups[0].Tasks[0]',
    'TaskGroups[0].Tasks[1].Driver: missing driver',
    'TaskGroups[1].Name: group name "a" is already used by TaskGroups[0]',
    'TaskGroups[1].Tasks: group must have at least one task',
    'TaskGroups[2].Name: missing group name',
    'TaskGroups[2].Tasks[0].Name: task name must not contain slashes',
    'TaskGroups[2].Tasks[0].KillTimeout: must not be negative',
    'TaskGroups[2].Tasks[0].Resources.CPU: must be at least 1 MHz',
    'TaskGroups[2].Tasks[0].Resources.MemoryMB: must be at least 10 MB',
  ]);
});

void test('assertValidJob throws a ValidationError that lists the errors', () => {
  const bad = job({ ID: 'web', TaskGroups: [{ Name: 'g', Count: -2, Tasks: [task({ Driver: '' })] }] });
  assert.throws(
    () => assertValidJob(bad),
    (e: unknown) =>
      e instanceof ValidationError &&
      e.code === 'validation_failed' &&
      e.httpStatus === 400 &&
      e.errors.length === 2 &&
      e.message === 'job "web": 2 errors occurred:\n  * TaskGroups[0].Count: must be >= 0\n  * TaskGroups[0].Tasks[0].Driver: missing driver',
  );
  assert.doesNotThrow(() => assertValidJob(job({ ID: 'web', TaskGroups: [{ Name: 'g', Tasks: [task()] }] })));
});

void test('system jobs run at most one instance per group and have no reschedule policy', () => {
  assert.deepEqual(errorsOf({ ID: 's', Type: 'system', TaskGroups: [{ Name: 'g', Count: 2, Tasks: [task()] }] }), [
    'TaskGroups[0].Count: must be <= 1 for a system job',
  ]);
  assert.deepEqual(
    errorsOf({ ID: 's', Type: 'system', TaskGroups: [{ Name: 'g', ReschedulePolicy: { Attempts: 1 }, Tasks: [task()] }] }),
    ['TaskGroups[0].ReschedulePolicy: job type "system" does not allow a reschedule block'],
  );
});

void test('update and migrate blocks are for the job types Nomad allows them on', () => {
  assert.deepEqual(errorsOf({ ID: 'b', Type: 'batch', Update: { Canary: 1 }, TaskGroups: [{ Name: 'g', Tasks: [task()] }] }), [
    'Update: job type "batch" does not allow an update block',
  ]);
  assert.deepEqual(errorsOf({ ID: 'b', Type: 'batch', TaskGroups: [{ Name: 'g', Update: {}, Migrate: {}, Tasks: [task()] }] }), [
    'TaskGroups[0].Update: job type "batch" does not allow an update block',
    'TaskGroups[0].Migrate: job type "batch" does not allow a migrate block',
  ]);
  assert.deepEqual(
    errorsOf({ ID: 'w', Update: { MinHealthyTime: 6 * 60 * S, MaxParallel: -1, HealthCheck: 'pings' }, TaskGroups: [{ Name: 'g', Tasks: [task()] }] }),
    [
      'Update.HealthCheck: invalid health check "pings"; must be checks, task_states or manual',
      'Update.MaxParallel: must be >= 0',
      'Update.MinHealthyTime: must be less than the healthy deadline (5m0s)',
      'TaskGroups[0].Update.HealthCheck: invalid health check "pings"; must be checks, task_states or manual',
      'TaskGroups[0].Update.MaxParallel: must be >= 0',
      'TaskGroups[0].Update.MinHealthyTime: must be less than the healthy deadline (5m0s)',
    ],
  );
});

void test('restart and reschedule policies are checked the way Nomad checks them', () => {
  assert.deepEqual(
    errorsOf({ ID: 'w', TaskGroups: [{ Name: 'g', RestartPolicy: { Mode: 'retry', Interval: 2 * S }, Tasks: [task()] }] }),
    ['TaskGroups[0].RestartPolicy.Mode: unsupported restart mode "retry"; must be "fail" or "delay"', 'TaskGroups[0].RestartPolicy.Interval: must be at least 5s'],
  );
  assert.deepEqual(
    errorsOf({ ID: 'w', TaskGroups: [{ Name: 'g', RestartPolicy: { Attempts: 10, Delay: 60 * S, Interval: 5 * 60 * S }, Tasks: [task()] }] }),
    ['TaskGroups[0].RestartPolicy: cannot restart 10 times in an interval of 5m0s with a delay of 1m0s'],
  );
  // A task's own restart block is checked where it differs from its group's.
  assert.deepEqual(errorsOf({ ID: 'w', TaskGroups: [{ Name: 'g', Tasks: [task({ RestartPolicy: { Attempts: -1 } })] }] }), [
    'TaskGroups[0].Tasks[0].RestartPolicy.Attempts: must be >= 0',
  ]);
  assert.deepEqual(
    errorsOf({ ID: 'w', Type: 'batch', TaskGroups: [{ Name: 'g', ReschedulePolicy: { Attempts: 5, Interval: 60 * S, Delay: 30 * S }, Tasks: [task()] }] }),
    ['TaskGroups[0].ReschedulePolicy: 5 attempts with a constant delay starting at 30s need 2m30s, more than the interval of 1m0s'],
  );
  assert.deepEqual(
    errorsOf({ ID: 'w', TaskGroups: [{ Name: 'g', ReschedulePolicy: { Attempts: 2, Delay: S, DelayFunction: 'linear' }, Tasks: [task()] }] }),
    [
      'TaskGroups[0].ReschedulePolicy: attempts and unlimited are mutually exclusive',
      'TaskGroups[0].ReschedulePolicy.Delay: must be at least 5s',
      'TaskGroups[0].ReschedulePolicy.DelayFunction: invalid delay function "linear"; must be constant, exponential or fibonacci',
    ],
  );
});

void test('constraints, affinities and spreads', () => {
  const errors = errorsOf({
    ID: 'w',
    Constraints: [
      { LTarget: '${attr.kernel.name}', Operand: 'like', RTarget: 'linux' },
      { LTarget: '${attr.kernel.name}', Operand: '=' },
      { LTarget: '${meta.rack}', Operand: 'regexp', RTarget: '([' },
      { LTarget: '${attr.nomad.version}', Operand: 'version', RTarget: '>= 1.2, < banana' },
      { Operand: 'distinct_property', LTarget: '${meta.rack}', RTarget: '0' },
      { Operand: 'distinct_hosts' },
    ],
    Affinities: [{ LTarget: '${node.class}', RTarget: 'x', Weight: 0 }, { LTarget: '${node.class}', RTarget: 'x', Operand: 'distinct_hosts', Weight: 101 }],
    Spreads: [{ Attribute: '', Weight: 0, SpreadTarget: [{ Value: 'a', Percent: 70 }, { Value: 'a', Percent: 50 }] }],
    TaskGroups: [{ Name: 'g', Tasks: [task({ Constraints: [{ Operand: 'distinct_hosts' }] })] }],
  });
  // The engine's own wording of a regex error varies between Node versions.
  assert.match(errors[2] ?? '', /^Constraints\[2\]\.RTarget: regular expression does not compile: .*Unterminated character class/);
  errors.splice(2, 1);
  assert.deepEqual(errors, [
    'Constraints[0].Operand: unknown constraint operator "like"',
    'Constraints[1].RTarget: operator "=" requires a value',
    'Constraints[3].RTarget: invalid version constraint ">= 1.2, < banana"',
    'Constraints[4].RTarget: distinct_property limit must be an integer >= 1, got "0"',
    'Affinities[0].Weight: must be a non-zero integer between -100 and 100',
    'Affinities[1].Operand: unknown affinity operator "distinct_hosts"',
    'Affinities[1].Weight: must be a non-zero integer between -100 and 100',
    'Spreads[0].Attribute: missing spread attribute',
    'Spreads[0].Weight: must be an integer between 1 and 100',
    'Spreads[0].SpreadTarget[1].Value: spread target "a" is defined twice',
    'Spreads[0].SpreadTarget: target percentages must add up to at most 100, got 120',
    'TaskGroups[0].Tasks[0].Constraints[0].Operand: operator "distinct_hosts" is not allowed at task level',
  ]);
});

void test('networks, services, volumes, logs and templates', () => {
  const errors = errorsOf({
    ID: 'w',
    TaskGroups: [
      {
        Name: 'g',
        EphemeralDisk: { SizeMB: 50 },
        Networks: [{ Mode: 'overlay', ReservedPorts: [{ Label: 'http', Value: 8080 }], DynamicPorts: [{ Label: 'http' }, { Label: 'big', To: 70000 }] }],
        Services: [{ Name: 'bad_name', PortLabel: '', Checks: [{ Type: 'http', Interval: 100 }] }],
        Volumes: { data: { Type: 'nfs' } },
        Tasks: [
          task({
            Resources: { Networks: [{ ReservedPorts: [{ Label: 'other', Value: 8080 }] }] },
            Templates: [{ DestPath: '../../etc/passwd', ChangeMode: 'reload', Perms: 'rw' }],
            Artifacts: [{ GetterSource: '' }],
            VolumeMounts: [{ Volume: 'missing', Destination: '/x' }],
          }),
          task({ Name: 'u', Leader: true, LogConfig: { MaxFiles: 1, MaxFileSizeMB: 1 } }),
          task({ Name: 'v', Leader: true, LogConfig: { MaxFiles: 1, MaxFileSizeMB: 1 } }),
        ],
      },
    ],
  });
  assert.deepEqual(errors, [
    'TaskGroups[0].Networks[0].Mode: invalid network mode "overlay"; must be host, bridge, none or cni/<name>',
    'TaskGroups[0].Networks[0].DynamicPorts[0].Label: port label "http" is already used by TaskGroups[0].Networks[0].ReservedPorts[0]',
    'TaskGroups[0].Networks[0].DynamicPorts[1].To: must be -1 or a port number between 0 and 65535',
    'TaskGroups[0].Volumes["data"].Type: unknown volume type "nfs"; must be host or csi',
    'TaskGroups[0].Volumes["data"].Source: volume source must be set',
    'TaskGroups[0].Services[0].Name: service name "bad_name" must be valid per RFC 1123: letters, digits and dashes, at most 63 characters',
    'TaskGroups[0].Services[0].Checks[0].PortLabel: check requires a port but neither the check nor its service has one',
    'TaskGroups[0].Services[0].Checks[0].Path: http checks need a path',
    'TaskGroups[0].Services[0].Checks[0].Interval: must be at least 1s',
    'TaskGroups[0].Services[0].Checks[0].Timeout: must be at least 1s',
    'TaskGroups[0].Tasks[0].Resources.Networks[0].ReservedPorts[0].Value: static port 8080 is already reserved by TaskGroups[0].Networks[0].ReservedPorts[0]',
    'TaskGroups[0].Tasks[0].LogConfig: log storage (100 MB) must be less than the group\'s ephemeral disk (50 MB)',
    'TaskGroups[0].Tasks[0].Artifacts[0].GetterSource: artifact source must be specified',
    'TaskGroups[0].Tasks[0].Templates[0]: template needs a source or embedded data',
    'TaskGroups[0].Tasks[0].Templates[0].DestPath: destination escapes the allocation directory',
    'TaskGroups[0].Tasks[0].Templates[0].ChangeMode: invalid change mode "reload"; must be noop, restart, signal or script',
    'TaskGroups[0].Tasks[0].Templates[0].Perms: invalid permissions "rw"; must be octal such as "0644"',
    'TaskGroups[0].Tasks[0].VolumeMounts[0].Volume: volume "missing" is not defined in the group',
    'TaskGroups[0].Tasks: only one task may be marked as leader',
  ]);
});

void test('periodic and parameterized jobs must be batch jobs with sound settings', () => {
  assert.deepEqual(
    errorsOf({ ID: 'p', Periodic: { Spec: 'every day', TimeZone: 'Mars/Olympus' }, ParameterizedJob: { Payload: 'maybe', MetaRequired: ['a'], MetaOptional: ['a'] }, TaskGroups: [{ Name: 'g', Tasks: [task()] }] }),
    [
      'Periodic: periodic jobs must be of type "batch" or "sysbatch"',
      'Periodic.Spec: invalid cron spec "every day"',
      'Periodic.TimeZone: unknown time zone "Mars/Olympus"',
      'ParameterizedJob: parameterized jobs must be of type "batch" or "sysbatch"',
      'ParameterizedJob.Payload: unknown payload requirement "maybe"; must be optional, required or forbidden',
      'ParameterizedJob: required and optional meta keys must be disjoint; both list a',
    ],
  );
  assert.deepEqual(errorsOf({ ID: 'p', Type: 'batch', Periodic: { Spec: '*/5 * * * *', TimeZone: 'America/New_York' }, TaskGroups: [{ Name: 'g', Tasks: [task()] }] }), []);
  assert.deepEqual(errorsOf({ ID: 'p', Type: 'batch', Periodic: { Spec: '@hourly' }, TaskGroups: [{ Name: 'g', Tasks: [task()] }] }), []);
});

void test('resources: cores or cpu, memory_max above memory, device names', () => {
  assert.deepEqual(
    errorsOf({
      ID: 'r',
      TaskGroups: [
        {
          Name: 'g',
          Tasks: [task({ Resources: { CPU: 200, Cores: 1, MemoryMB: 512, MemoryMaxMB: 256, Devices: [{ Name: 'a/b/c/d' }, { Name: 'gpu', Count: -1 }] } })],
        },
      ],
    }),
    [
      'TaskGroups[0].Tasks[0].Resources.CPU: a task can ask for cpu or cores, not both',
      'TaskGroups[0].Tasks[0].Resources.MemoryMaxMB: must be 0 or at least MemoryMB (512)',
      'TaskGroups[0].Tasks[0].Resources.Devices[0].Name: device name must be given as type, vendor/type or vendor/type/model',
      'TaskGroups[0].Tasks[0].Resources.Devices[1].Count: must be >= 0',
    ],
  );
});
