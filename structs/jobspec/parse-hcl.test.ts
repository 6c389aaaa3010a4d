import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parseJobHCL } from './parse-hcl.js';
import { ValidationError, YurtError } from '../errors.js';

const S = 1_000_000_000;

async function testdata(name: string): Promise<string> {
  return readFile(new URL(`./testdata/${name}`, import.meta.url), 'utf8');
}

async function parseFile(name: string, opts: Omit<Parameters<typeof parseJobHCL>[1], 'filename'> = {}): ReturnType<typeof parseJobHCL> {
  return parseJobHCL(await testdata(name), { filename: name, ...opts });
}

/** Assert that parsing rejects with exactly this message (and code). */
async function rejectsWith(p: Promise<unknown>, code: string, message: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof YurtError, `not a YurtError: ${String(e)}`);
    assert.equal(e.message, message);
    assert.equal(e.code, code);
    return true;
  });
}

void test('full.hcl: every stanza lands in its Job field', async () => {
  const job = await parseFile('full.hcl');
  assert.equal(job.ID, 'full');
  assert.equal(job.Name, 'full');
  assert.equal(job.Region, 'eu');
  assert.equal(job.Namespace, 'apps');
  assert.deepEqual(job.Datacenters, ['dc1', 'dc2']);
  assert.equal(job.NodePool, 'prod');
  assert.equal(job.Type, 'service');
  assert.equal(job.Priority, 70);
  assert.equal(job.AllAtOnce, true);
  assert.deepEqual(job.Meta, { owner: 'team-a', tier: '2' });
  assert.deepEqual(job.Constraints, [
    { LTarget: '${attr.kernel.name}', RTarget: 'linux', Operand: '=' },
    { LTarget: '', RTarget: '', Operand: 'distinct_hosts' },
  ]);
  assert.deepEqual(job.Affinities, [{ LTarget: '${node.datacenter}', RTarget: 'dc1', Operand: '=', Weight: 80 }]);
  assert.deepEqual(job.Spreads, [
    { Attribute: '${node.datacenter}', Weight: 60, SpreadTarget: [{ Value: 'dc1', Percent: 70 }, { Value: 'dc2', Percent: 30 }] },
  ]);
  assert.deepEqual(job.Update, {
    Stagger: 45 * S,
    MaxParallel: 2,
    HealthCheck: 'task_states',
    MinHealthyTime: 15 * S,
    HealthyDeadline: 240 * S,
    ProgressDeadline: 480 * S,
    AutoRevert: true,
    AutoPromote: true,
    Canary: 1,
  });

  // Groups keep their file order (hcl2json alone would sort them by name).
  assert.deepEqual(job.TaskGroups.map((g) => g.Name), ['web', 'cache']);
  const [web, cache] = job.TaskGroups;
  assert.ok(web !== undefined && cache !== undefined);
  assert.equal(web.Count, 3, 'count = var.replicas');
  assert.deepEqual(web.Constraints, [{ LTarget: '${meta.rack}', RTarget: '^r[0-9]+$', Operand: 'regexp' }]);
  assert.deepEqual(web.Affinities, [{ LTarget: '${attr.cpu.arch}', RTarget: 'amd64', Operand: '=', Weight: -30 }]);
  assert.deepEqual(web.Spreads, [{ Attribute: '${meta.rack}', Weight: 50, SpreadTarget: [] }]);
  assert.deepEqual(web.RestartPolicy, { Attempts: 5, Interval: 600 * S, Delay: 20 * S, Mode: 'delay', RenderTemplates: false });
  assert.deepEqual(web.ReschedulePolicy, { Attempts: 0, Interval: 0, Delay: 40 * S, DelayFunction: 'fibonacci', MaxDelay: 7200 * S, Unlimited: true });
  assert.deepEqual(cache.ReschedulePolicy?.Delay, 40 * S, 'job-level reschedule reaches every group');
  assert.deepEqual(web.EphemeralDisk, { Sticky: true, SizeMB: 1024, Migrate: true });
  assert.equal(web.Update?.Canary, 2);
  assert.equal(web.Update?.MaxParallel, 2, 'group update inherits the job update');
  assert.equal(cache.Update?.Canary, 1);
  assert.deepEqual(web.Migrate, { MaxParallel: 2, HealthCheck: 'task_states', MinHealthyTime: 5 * S, HealthyDeadline: 60 * S });
  assert.deepEqual(web.Networks, [
    {
      Mode: 'bridge',
      Device: '',
      CIDR: '',
      IP: '',
      MBits: 0,
      ReservedPorts: [{ Label: 'admin', Value: 9090, To: 9091, HostNetwork: 'internal' }],
      DynamicPorts: [{ Label: 'http', Value: 0, To: 8080, HostNetwork: 'default' }],
    },
  ]);
  assert.deepEqual(web.Services, [
    {
      Name: 'web-http',
      PortLabel: 'http',
      Provider: 'nomad',
      Tags: ['public', 'v1.25'],
      Checks: [
        { Name: 'service: "web-http" check', Type: 'http', Command: '', Args: [], Path: '/health', Protocol: '', PortLabel: '', Interval: 10 * S, Timeout: 2 * S },
      ],
    },
  ]);
  assert.deepEqual(web.Volumes, { data: { Name: 'data', Type: 'host', Source: 'shared-data', ReadOnly: false } });
  assert.deepEqual(web.Meta, { 'team.name': 'web' });
  assert.equal(web.ShutdownDelay, 5 * S);

  assert.deepEqual(web.Tasks.map((t) => t.Name), ['server', 'log-shipper']);
  const [server, shipper] = web.Tasks;
  assert.ok(server !== undefined && shipper !== undefined);
  assert.equal(server.Driver, 'docker');
  assert.equal(server.User, 'nobody');
  assert.equal(server.Leader, true);
  assert.deepEqual(server.Config, {
    image: 'nginx:1.25',
    ports: ['http'],
    args: ['-g', 'daemon off;', '${NOMAD_TASK_DIR}/nginx.conf'],
    labels: [{ app: 'web' }],
    mount: [
      { type: 'bind', source: 'local/conf', target: '/etc/nginx/conf.d' },
      { type: 'tmpfs', target: '/cache' },
    ],
    logging: [{ type: 'json-file', config: [{ 'max-size': '10m' }] }],
  });
  assert.deepEqual(server.Env, { PORT: '${NOMAD_PORT_http}', HOME_DIR: '${env["HOME"]}', TAG: '1.25', LITERAL: '${NOT_INTERPOLATED}' });
  assert.deepEqual(server.Resources, {
    CPU: 500,
    Cores: 0,
    MemoryMB: 256,
    MemoryMaxMB: 512,
    DiskMB: 0,
    Networks: [],
    Devices: [
      {
        Name: 'nvidia/gpu',
        Count: 2,
        Constraints: [{ LTarget: '${device.attr.memory}', RTarget: '2 GiB', Operand: '>=' }],
        Affinities: [{ LTarget: '${device.model}', RTarget: 'Tesla K80', Operand: '=', Weight: 50 }],
      },
    ],
  });
  assert.deepEqual(server.RestartPolicy, { Attempts: 1, Interval: 600 * S, Delay: 20 * S, Mode: 'delay', RenderTemplates: false });
  assert.deepEqual(shipper.RestartPolicy, web.RestartPolicy);
  assert.deepEqual(server.Meta, { role: 'frontend' });
  assert.equal(server.KillTimeout, 20 * S);
  assert.equal(server.KillSignal, 'SIGTERM');
  assert.deepEqual(server.LogConfig, { MaxFiles: 5, MaxFileSizeMB: 15, Disabled: false });
  assert.deepEqual(server.Artifacts, [
    { GetterSource: 'https://example.com/site.tar.gz', GetterOptions: { checksum: 'sha256:abcd' }, GetterMode: 'any', RelativeDest: 'local/site' },
  ]);
  assert.deepEqual(server.Templates, [
    {
      SourcePath: '',
      DestPath: 'local/conf/default.conf',
      EmbeddedTmpl: 'listen {{ env "NOMAD_PORT_http" }};\nroot ${NOMAD_ALLOC_DIR}/site;\n',
      ChangeMode: 'signal',
      ChangeSignal: 'SIGHUP',
      Splay: 3 * S,
      Perms: '0640',
      LeftDelim: '{{',
      RightDelim: '}}',
      Envvars: false,
    },
  ]);
  assert.deepEqual(server.Services.map((s) => [s.Name, s.PortLabel, s.Checks[0]?.Type]), [['web-admin', 'admin', 'tcp']]);
  assert.deepEqual(server.Constraints, [{ LTarget: '${attr.driver.docker}', RTarget: '1', Operand: '=' }]);
  assert.deepEqual(server.Affinities, [{ LTarget: '${node.class}', RTarget: 'fast', Operand: '=', Weight: 50 }]);
  assert.equal(server.ShutdownDelay, 2 * S);
  assert.deepEqual(server.VolumeMounts, [{ Volume: 'data', Destination: '/srv/data', ReadOnly: true, PropagationMode: 'private' }]);
  assert.deepEqual(shipper.Lifecycle, { Hook: 'prestart', Sidecar: true });
  assert.deepEqual(shipper.Config, { command: '/usr/local/bin/ship', args: ['--dir', '${NOMAD_ALLOC_DIR}/logs'] });

  const redis = cache.Tasks[0];
  assert.equal(redis?.Resources.Cores, 2);
  assert.equal(redis.Resources.CPU, 0);
  assert.equal(redis.Resources.MemoryMB, 954, '"1GB" is 10^9 bytes, rounded up to whole MiB');
});

void test('periodic.hcl and dispatch.hcl: periodic and parameterized batch jobs', async () => {
  const nightly = await parseFile('periodic.hcl');
  assert.equal(nightly.Type, 'batch');
  assert.deepEqual(nightly.Periodic, { Enabled: true, Spec: '30 2 * * *', SpecType: 'cron', ProhibitOverlap: true, TimeZone: 'Europe/Berlin' });
  const transcode = await parseFile('dispatch.hcl');
  assert.deepEqual(transcode.ParameterizedJob, { Payload: 'required', MetaRequired: ['input'], MetaOptional: ['preset'] });
  assert.deepEqual(transcode.TaskGroups[0]?.Tasks[0]?.Config['args'], ['-i', '${NOMAD_META_input}']);
});

void test('variables: defaults and -var values, with their types', async () => {
  const job = await parseFile('vars.hcl', { vars: { replicas: '2', image: 'redis:7' } });
  assert.equal(job.TaskGroups[0]?.Count, 2);
  assert.deepEqual(job.Datacenters, ['dc1']);
  assert.equal(job.Region, 'eu', 'from a variables block');
  assert.deepEqual(job.Meta, { image: 'redis:7', debug: 'false', label: 'dc1-2' });
  assert.deepEqual(job.TaskGroups[0]?.Tasks[0]?.Config, { image: 'redis:7', debug: false });
});

void test('variables: environment < var file < -var', async () => {
  const varFile = { filename: 'vars-file.hcl', content: await testdata('vars-file.hcl') };
  const env = { NOMAD_VAR_replicas: '4', NOMAD_VAR_image: 'from-env', NOMAD_VAR_unrelated: 'ignored', PATH: '/bin' };

  const fromEnv = await parseFile('vars.hcl', { env });
  assert.equal(fromEnv.TaskGroups[0]?.Count, 4);
  assert.equal(fromEnv.Meta['image'], 'from-env');

  const fromFile = await parseFile('vars.hcl', { env, varFiles: [varFile] });
  assert.equal(fromFile.TaskGroups[0]?.Count, 5);
  assert.equal(fromFile.Meta['image'], 'redis:6');

  const fromFlag = await parseFile('vars.hcl', { env, varFiles: [varFile], vars: { replicas: '6', dcs: '["a", "b"]', debug: 'true' } });
  assert.equal(fromFlag.TaskGroups[0]?.Count, 6);
  assert.deepEqual(fromFlag.Datacenters, ['a', 'b']);
  assert.equal(fromFlag.TaskGroups[0]?.Tasks[0]?.Config['debug'], true);
});

void test('variables: a variable without a value is an error, as are values that do not fit', async () => {
  await rejectsWith(
    parseFile('vars.hcl', { vars: { image: 'x' } }),
    'validation_failed',
    'vars.hcl: 1 error occurred:\n  * vars.hcl:6,1: var.replicas: variable "replicas" has no value: give it a default, or set it with -var replicas=..., a var file, or NOMAD_VAR_replicas',
  );
  await rejectsWith(
    parseFile('vars.hcl', { vars: { image: 'x', replicas: 'five', nope: '1', dcs: '["a",' } }),
    'validation_failed',
    [
      'vars.hcl: 3 errors occurred:',
      '  * var.replicas: invalid value for -var replicas: number required, got "five"',
      '  * var.nope: variable "nope" was given with -var but is not declared in vars.hcl; add a variable "nope" block',
      '  * var.dcs: invalid value for variable "dcs" from -var dcs: <value for var.dcs from -var dcs>:2,1-1: Missing expression; Expected the start of an expression, but found the end of the file.',
    ].join('\n'),
  );
  await rejectsWith(
    parseFile('vars.hcl', { vars: { image: 'x' }, varFiles: [{ filename: 'bad.vars', content: 'replicas = "many"\nunknown = 1\n\nvariable "x" {}\n' }] }),
    'validation_failed',
    [
      'vars.hcl: 3 errors occurred:',
      '  * bad.vars:4,1: (var file): declarations belong in the job file; here write x = <value> (var file bad.vars)',
      '  * bad.vars:1,1: var.replicas: invalid value for variable "replicas" in bad.vars: number required, got "many"',
      '  * bad.vars:2,1: var.unknown: variable "unknown" is set in bad.vars but not declared in vars.hcl',
    ].join('\n'),
  );
  await rejectsWith(
    parseJobHCL('variable "n" {\n  type    = number\n  default = "lots"\n}\njob "j" {}\n', { filename: 'd.hcl' }),
    'validation_failed',
    'd.hcl: 1 error occurred:\n  * d.hcl:3,3: var.n: invalid value for the default of variable "n": number required, got "lots"',
  );
});

void test('variables: a syntax error in a var file names that file', async () => {
  await rejectsWith(
    parseFile('vars.hcl', { varFiles: [{ filename: 'broken.vars', content: 'replicas = \n' }] }),
    'parse_error',
    'broken.vars:1,12-2,1: Invalid expression; Expected the start of an expression, but found an invalid expression token.',
  );
});

void test('references: runtime interpolations pass through, expressions yurt cannot evaluate are refused', async () => {
  const src = [
    'variable "n" {',
    '  default = 2',
    '}',
    'job "j" {',
    '  group "g" {',
    '    count = "${var.n + 1}"',
    '    task "t" {',
    '      driver = "exec"',
    '      env {',
    '        A = "${local.x}"',
    '        B = "${var.missing}"',
    '      }',
    '    }',
    '  }',
    '}',
  ].join('\n');
  await rejectsWith(
    parseJobHCL(src, { filename: 'r.hcl' }),
    'validation_failed',
    [
      'r.hcl: 3 errors occurred:',
      '  * r.hcl:6,5: TaskGroups[0].Count: in "count" in group "g": unsupported expression "${var.n + 1}": only variable references such as ${var.name} are evaluated, and runtime references such as ${attr.kernel.name} are passed through',
      '  * r.hcl:10,9: TaskGroups[0].Tasks[0].Env.A: in "A" in env block in task "t": "${local.x}": locals are not supported; use a variable',
      '  * r.hcl:11,9: TaskGroups[0].Tasks[0].Env.B: in "B" in env block in task "t": reference to undeclared variable "missing" in "${var.missing}"',
    ].join('\n'),
  );
});

void test('syntax errors keep HCL\'s message and position', async () => {
  await rejectsWith(
    parseFile('bad-syntax.hcl'),
    'parse_error',
    'bad-syntax.hcl:3,12-4,1: Invalid expression; Expected the start of an expression, but found an invalid expression token.',
  );
  await rejectsWith(
    parseJobHCL('job "a" {\n  a = 1\n  a = 2\n}\n', { filename: 'dup.hcl' }),
    'parse_error',
    'dup.hcl:3,3-4: Attribute redefined; The argument "a" was already set at dup.hcl:2,3-4. Each argument may be set only once.',
  );
});

void test('an unknown block is reported where it is', async () => {
  await rejectsWith(
    parseFile('bad-block.hcl'),
    'validation_failed',
    'bad-block.hcl: 1 error occurred:\n  * bad-block.hcl:13,5: TaskGroups[0]: unsupported block type "taks" in group "cache"',
  );
});

void test('a value of the wrong type is reported with the argument and what was given', async () => {
  await rejectsWith(
    parseFile('bad-type.hcl'),
    'validation_failed',
    'bad-type.hcl: 1 error occurred:\n  * bad-type.hcl:3,5: TaskGroups[0].Count: wrong type for "count" in group "cache": a number is required, got "three"',
  );
});

void test('a task without a driver fails validation, pointing at the task', async () => {
  await rejectsWith(
    parseFile('bad-driver.hcl'),
    'validation_failed',
    [
      'bad-driver.hcl: 2 errors occurred:',
      '  * bad-driver.hcl:3,5: TaskGroups[0].Tasks[0].Driver: missing driver',
      '  * bad-driver.hcl:9,5: TaskGroups[0].Tasks[1].Driver: missing driver',
    ].join('\n'),
  );
});

void test('a negative count fails validation, pointing at the count', async () => {
  await assert.rejects(parseFile('bad-count.hcl'), (e: unknown) => {
    assert.ok(e instanceof ValidationError);
    assert.equal(e.message, 'bad-count.hcl: 1 error occurred:\n  * bad-count.hcl:3,5: TaskGroups[0].Count: must be >= 0');
    assert.deepEqual(e.errors, [{ path: 'TaskGroups[0].Count', message: 'must be >= 0', pos: 'bad-count.hcl:3,5' }]);
    return true;
  });
});

void test('every decoding problem in a file is reported at once', async () => {
  const src = [
    'locals {',
    '  x = 1',
    '}',
    'job "j" {',
    '  colour = "red"',
    '  restart = { attempts = 1 }',
    '  spread "x" {',
    '  }',
    '  group "g" {',
    '    restart { attempts = 1 }',
    '    restart { attempts = 2 }',
    '    ephemeral_disk {',
    '      size = "big"',
    '    }',
    '    task "t" {',
    '      driver       = "exec"',
    '      kill_timeout = "5 minutes"',
    '      leader       = "yes"',
    '      config = { command = "x" }',
    '      resources {',
    '        memory = [1]',
    '        device {}',
    '      }',
    '    }',
    '  }',
    '}',
  ].join('\n');
  await rejectsWith(
    parseJobHCL(src, { filename: 'many.hcl' }),
    'validation_failed',
    [
      'many.hcl: 11 errors occurred:',
      '  * many.hcl:1,1: (file): unsupported block type "locals" in many.hcl',
      '  * many.hcl:5,3: Job: unsupported argument "colour" in job "j"',
      '  * many.hcl:6,3: Job: unsupported argument "restart" in job "j"',
      '  * many.hcl:7,3: Job: too many labels for spread block in job "j": it takes no labels',
      '  * many.hcl:11,5: TaskGroups[0]: duplicate restart block in group "g"; only one is allowed',
      '  * many.hcl:13,7: TaskGroups[0].EphemeralDisk.SizeMB: invalid value for "size" in ephemeral_disk block in group "g": invalid size "big": expected a number with an optional unit such as "512MB" or "1GiB"',
      '  * many.hcl:17,7: TaskGroups[0].Tasks[0].KillTimeout: invalid value for "kill_timeout" in task "t": invalid duration "5 minutes": unknown unit " minutes" (valid units: ns, us, ms, s, m, h)',
      '  * many.hcl:18,7: TaskGroups[0].Tasks[0].Leader: wrong type for "leader" in task "t": a bool is required, got "yes"',
      '  * many.hcl:19,7: TaskGroups[0].Tasks[0]: unsupported argument "config" in task "t"; write it as a block: config { ... }',
      '  * many.hcl:21,9: TaskGroups[0].Tasks[0].Resources.MemoryMB: wrong type for "memory" in resources block in task "t": a number of MB or a size such as "512MiB" is required, got a list',
      '  * many.hcl:22,9: TaskGroups[0].Tasks[0].Resources: missing name for device block in resources block in task "t"',
    ].join('\n'),
  );
});

void test('blocks of one type that mix labeled and unlabeled forms are located', async () => {
  await rejectsWith(
    parseJobHCL('job "j" {\n  group "a" {\n  }\n  group {\n  }\n}\n', { filename: 'mix.hcl' }),
    'parse_error',
    'mix.hcl:4,3: Inconsistent labels; this group block has 0 labels where the other group blocks here have 1.',
  );
});

void test('a file must hold exactly one job', async () => {
  await rejectsWith(parseJobHCL('# nothing\n', { filename: 'empty.hcl' }), 'validation_failed', 'empty.hcl: 1 error occurred:\n  * (file): missing job block in empty.hcl');
  await rejectsWith(
    parseJobHCL('job "a" {\n}\njob "b" {\n}\n', { filename: 'two.hcl' }),
    'validation_failed',
    'two.hcl: 1 error occurred:\n  * two.hcl:3,1: (file): duplicate job block in two.hcl; a file holds exactly one job',
  );
});

void test('validation errors point at the argument that caused them', async () => {
  const src = ['job "j" {', '  group "g" {', '    restart {', '      mode = "retry"', '    }', '    task "t" {', '      driver = "exec"', '    }', '  }', '}'].join('\n');
  await rejectsWith(
    parseJobHCL(src, { filename: 'v.hcl' }),
    'validation_failed',
    'v.hcl: 1 error occurred:\n  * v.hcl:4,7: TaskGroups[0].RestartPolicy.Mode: unsupported restart mode "retry"; must be "fail" or "delay"',
  );
});
