import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobInput } from './job-defaults.js';
import { canonicalizeJob, defaultRestartPolicy } from './job-defaults.js';
import type { Job } from './job.js';

const S = 1_000_000_000;
const MIN = 60 * S;
const H = 60 * MIN;

function minimal(type?: string): JobInput {
  return { ID: 'web', Type: type, TaskGroups: [{ Name: 'g', Tasks: [{ Name: 't', Driver: 'exec' }] }] };
}

function firstGroup(job: Job): NonNullable<Job['TaskGroups'][number]> {
  const g = job.TaskGroups[0];
  assert.ok(g !== undefined);
  return g;
}

void test('a minimal service job gets every Nomad default', () => {
  const job = canonicalizeJob(minimal());
  assert.equal(job.Region, 'global');
  assert.equal(job.Namespace, 'default');
  assert.equal(job.Name, 'web');
  assert.equal(job.Type, 'service');
  assert.equal(job.Priority, 50);
  assert.deepEqual(job.Datacenters, ['*']);
  assert.equal(job.NodePool, 'default');
  assert.equal(job.Status, 'pending');
  assert.equal(job.AllAtOnce, false);
  assert.deepEqual(job.Meta, {});
  assert.deepEqual(job.Constraints, []);
  assert.deepEqual(job.Update, {
    Stagger: 30 * S,
    MaxParallel: 1,
    HealthCheck: 'checks',
    MinHealthyTime: 10 * S,
    HealthyDeadline: 5 * MIN,
    ProgressDeadline: 10 * MIN,
    AutoRevert: false,
    AutoPromote: false,
    Canary: 0,
  });

  const g = firstGroup(job);
  assert.equal(g.Count, 1);
  assert.deepEqual(g.RestartPolicy, { Attempts: 2, Interval: 30 * MIN, Delay: 15 * S, Mode: 'fail', RenderTemplates: false });
  assert.deepEqual(g.ReschedulePolicy, { Attempts: 0, Interval: 0, Delay: 30 * S, DelayFunction: 'exponential', MaxDelay: H, Unlimited: true });
  assert.deepEqual(g.EphemeralDisk, { Sticky: false, SizeMB: 300, Migrate: false });
  assert.deepEqual(g.Migrate, { MaxParallel: 1, HealthCheck: 'checks', MinHealthyTime: 10 * S, HealthyDeadline: 5 * MIN });
  assert.deepEqual(g.Update, job.Update);
  assert.equal('ShutdownDelay' in g, false, 'absent optional fields stay absent');

  const t = g.Tasks[0];
  assert.ok(t !== undefined);
  assert.deepEqual(t.Resources, { CPU: 100, Cores: 0, MemoryMB: 300, MemoryMaxMB: 0, DiskMB: 0, Networks: [], Devices: [] });
  assert.equal(t.KillTimeout, 5 * S);
  assert.equal(t.KillSignal, '', 'an empty kill signal means the driver default');
  assert.deepEqual(t.LogConfig, { MaxFiles: 10, MaxFileSizeMB: 10, Disabled: false });
  assert.deepEqual(t.RestartPolicy, g.RestartPolicy, 'a task inherits its group restart policy');
  assert.deepEqual(t.Config, {});
  assert.equal(t.Lifecycle, undefined);
});

void test('batch jobs restart 3 times a day, reschedule once, and get no update or migrate strategy', () => {
  const job = canonicalizeJob(minimal('batch'));
  const g = firstGroup(job);
  assert.deepEqual(g.RestartPolicy, { Attempts: 3, Interval: 24 * H, Delay: 15 * S, Mode: 'fail', RenderTemplates: false });
  assert.deepEqual(g.ReschedulePolicy, { Attempts: 1, Interval: 24 * H, Delay: 5 * S, DelayFunction: 'constant', MaxDelay: 0, Unlimited: false });
  assert.equal(job.Update, undefined);
  assert.equal(g.Update, undefined);
  assert.equal(g.Migrate, undefined);
});

void test('system jobs restart like services but are never rescheduled; sysbatch restart like batch', () => {
  const system = firstGroup(canonicalizeJob(minimal('system')));
  assert.deepEqual(system.RestartPolicy, defaultRestartPolicy('service'));
  assert.equal(system.ReschedulePolicy, undefined);
  assert.equal(system.Update, undefined);
  assert.equal(system.Migrate, undefined);

  const sysbatch = firstGroup(canonicalizeJob(minimal('sysbatch')));
  assert.deepEqual(sysbatch.RestartPolicy, defaultRestartPolicy('batch'));
  assert.equal(sysbatch.ReschedulePolicy, undefined);
});

void test('job-level update, reschedule and migrate reach every group, which override them field by field', () => {
  const job = canonicalizeJob({
    ID: 'j',
    Update: { MaxParallel: 3, Canary: 1 },
    Reschedule: { Delay: 40 * S },
    Migrate: { MaxParallel: 2 },
    TaskGroups: [
      {
        Name: 'a',
        Update: { Canary: 2 },
        ReschedulePolicy: { DelayFunction: 'fibonacci' },
        Migrate: { HealthCheck: 'task_states' },
        RestartPolicy: { Attempts: 7 },
        Tasks: [{ Name: 't', Driver: 'exec', RestartPolicy: { Delay: 1 * S } }],
      },
      { Name: 'b', Tasks: [] },
    ],
  });
  const [a, b] = job.TaskGroups;
  assert.ok(a !== undefined && b !== undefined);
  assert.equal(job.Update?.MaxParallel, 3);
  assert.equal(job.Update?.Canary, 1);
  assert.equal(a.Update?.MaxParallel, 3);
  assert.equal(a.Update?.Canary, 2);
  assert.equal(a.Update?.Stagger, 30 * S);
  assert.equal(b.Update?.Canary, 1);
  assert.deepEqual(a.ReschedulePolicy, { Attempts: 0, Interval: 0, Delay: 40 * S, DelayFunction: 'fibonacci', MaxDelay: H, Unlimited: true });
  assert.equal(b.ReschedulePolicy?.Delay, 40 * S);
  assert.equal(b.ReschedulePolicy?.DelayFunction, 'exponential');
  assert.deepEqual(a.Migrate, { MaxParallel: 2, HealthCheck: 'task_states', MinHealthyTime: 10 * S, HealthyDeadline: 5 * MIN });
  assert.equal(b.Migrate?.MaxParallel, 2);
  assert.equal(b.Migrate?.HealthCheck, 'checks');
  assert.equal(a.RestartPolicy?.Attempts, 7);
  assert.deepEqual(a.Tasks[0]?.RestartPolicy, { Attempts: 7, Interval: 30 * MIN, Delay: 1 * S, Mode: 'fail', RenderTemplates: false });
  assert.equal('Reschedule' in job, false, 'job-level reschedule lives on in the groups only');
  assert.equal('Migrate' in job, false);
});

void test('asking for cores drops the default CPU share; memory and other values are kept', () => {
  const job = canonicalizeJob({
    ID: 'j',
    TaskGroups: [{ Name: 'g', Tasks: [{ Name: 't', Driver: 'exec', Resources: { Cores: 2, MemoryMB: 2048, Devices: [{ Name: 'nvidia/gpu' }] } }] }],
  });
  const r = job.TaskGroups[0]?.Tasks[0]?.Resources;
  assert.deepEqual(r, {
    CPU: 0,
    Cores: 2,
    MemoryMB: 2048,
    MemoryMaxMB: 0,
    DiskMB: 0,
    Networks: [],
    Devices: [{ Name: 'nvidia/gpu', Count: 1, Constraints: [], Affinities: [] }],
  });
});

void test('services, checks, ports, artifacts, templates, affinities and spreads get their defaults', () => {
  const job = canonicalizeJob({
    ID: 'shop',
    Affinities: [{ LTarget: '${node.class}', RTarget: 'big' }],
    Spreads: [{ Attribute: '${node.datacenter}' }],
    TaskGroups: [
      {
        Name: 'web',
        Networks: [{ DynamicPorts: [{ Label: 'http' }], ReservedPorts: [{ Label: 'admin', Value: 9000 }] }],
        Services: [{ PortLabel: 'http', Checks: [{ Type: 'tcp' }] }],
        Tasks: [
          {
            Name: 'srv',
            Driver: 'exec',
            Services: [{ Name: '${JOB}-${TASK}-api' }, {}],
            Artifacts: [{ GetterSource: 'https://x.test/a/tool.bin', GetterMode: 'file' }, { GetterSource: 'https://x.test/b.tgz' }],
            Templates: [{ EmbeddedTmpl: 'x', DestPath: 'local/x', ChangeMode: 'signal' }, { EmbeddedTmpl: 'y', DestPath: 'local/y', ChangeSignal: 'sigusr1' }],
            Lifecycle: { Hook: 'poststart' },
          },
        ],
      },
    ],
  });
  assert.deepEqual(job.Affinities, [{ LTarget: '${node.class}', RTarget: 'big', Operand: '=', Weight: 50 }]);
  assert.deepEqual(job.Spreads, [{ Attribute: '${node.datacenter}', Weight: 50, SpreadTarget: [] }]);
  const g = firstGroup(job);
  assert.deepEqual(g.Networks, [
    {
      Mode: 'host',
      Device: '',
      CIDR: '',
      IP: '',
      MBits: 0,
      ReservedPorts: [{ Label: 'admin', Value: 9000, To: 0, HostNetwork: 'default' }],
      DynamicPorts: [{ Label: 'http', Value: 0, To: 0, HostNetwork: 'default' }],
    },
  ]);
  assert.equal(g.Services[0]?.Name, 'shop-web');
  assert.equal(g.Services[0]?.Provider, 'nomad');
  assert.equal(g.Services[0]?.Checks[0]?.Name, 'service: "shop-web" check');
  const t = g.Tasks[0];
  assert.ok(t !== undefined);
  assert.deepEqual(t.Services.map((s) => s.Name), ['shop-srv-api', 'shop-web-srv']);
  assert.deepEqual(t.Artifacts.map((a) => [a.GetterMode, a.RelativeDest]), [['file', 'local/tool.bin'], ['any', 'local/']]);
  assert.deepEqual(t.Templates.map((tm) => [tm.ChangeMode, tm.ChangeSignal, tm.Perms, tm.Splay]), [
    ['signal', 'SIGHUP', '0644', 5 * S],
    ['restart', 'SIGUSR1', '0644', 5 * S],
  ]);
  assert.deepEqual(t.Lifecycle, { Hook: 'poststart', Sidecar: false });
});

void test('nulls, as Nomad API clients send them, read as absent', () => {
  const withNulls = canonicalizeJob({
    ID: 'web',
    Region: null,
    Datacenters: null,
    Update: null,
    Meta: null,
    TaskGroups: [{ Name: 'g', Count: null, RestartPolicy: null, Tasks: [{ Name: 't', Driver: 'exec', Resources: null, LogConfig: { MaxFiles: null } }] }],
  });
  assert.deepEqual(withNulls, canonicalizeJob(minimal()));
});

void test('canonicalization is idempotent, leaves its input alone, and survives JSON', () => {
  const inputs: JobInput[] = [
    minimal(),
    minimal('batch'),
    minimal('system'),
    {
      ID: 'x',
      Type: 'service',
      Reschedule: { Attempts: 3, Interval: H, Unlimited: false },
      Periodic: { Spec: '@daily' },
      ParameterizedJob: {},
      TaskGroups: [
        {
          Name: 'g',
          ShutdownDelay: 5 * S,
          Volumes: { data: { Source: 'd' } },
          Tasks: [{ Name: 't', Config: { a: [{ b: 1 }], c: undefined }, VolumeMounts: [{ Volume: 'data' }], Lifecycle: { Sidecar: true } }],
        },
      ],
    },
  ];
  for (const input of inputs) {
    const before = structuredClone(input);
    const once = canonicalizeJob(input);
    assert.deepEqual(input, before, 'input unchanged');
    assert.deepEqual(canonicalizeJob(once), once, 'idempotent');
    assert.deepEqual(JSON.parse(JSON.stringify(once)), once, 'no undefined-valued keys');
  }
});

void test('values of the wrong kind fall back to defaults instead of breaking the job', () => {
  const sloppy = { ID: 'web', Priority: 'high', TaskGroups: [{ Name: 'g', Count: '2', Tasks: [{ Name: 't', KillTimeout: '5s' }] }] } as unknown as JobInput;
  const job = canonicalizeJob(sloppy);
  assert.equal(job.Priority, 50);
  assert.equal(job.TaskGroups[0]?.Count, 1);
  assert.equal(job.TaskGroups[0]?.Tasks[0]?.KillTimeout, 5 * S);
});
