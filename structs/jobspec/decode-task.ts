/**
 * task blocks and what they contain: driver config, resources and devices, artifacts,
 * templates, volume mounts.
 *
 * Driver config has no schema here (each driver owns its own), so it is kept as written,
 * snake_case keys and all, in the shape Nomad's jobspec2 gives it (hclutil.BlocksAsAttrs):
 * nested blocks become lists of objects (`mount { }` twice gives `mount: [{...}, {...}]`),
 * a labeled block nests under its labels (`x "a" { }` gives `x: [{ a: [{...}] }]`), and an
 * attribute written as an object constructor (`labels = { a = "b" }`) becomes a one-element
 * list of that object.
 */
import type { Task, TaskArtifact, Template, VolumeMount } from '../job.js';
import type { RequestedDevice, Resources } from '../resources.js';
import type { Input, TaskInput } from '../job-defaults.js';
import type { DecodeContext } from './body-reader.js';
import { BodyReader } from './body-reader.js';
import type { HclBlock, HclBody } from './hcl-tree.js';
import { decodeAffinities, decodeConstraints } from './decode-placement.js';
import { decodeLifecycle, decodeLogs, decodeRestart } from './decode-policies.js';
import { decodeNetworks, decodeServices } from './decode-network.js';

export function decodeTask(group: BodyReader, b: HclBlock, index: number): TaskInput {
  const name = b.labels[0] ?? '';
  const r = new BodyReader(group.ctx, b.body, `task ${JSON.stringify(name)}`, group.field(`Tasks[${index}]`), b.pos);
  const configBlock = r.single('config');
  const task: Input<Task> = {
    Name: name,
    Driver: r.string('driver', 'Driver'),
    User: r.string('user', 'User'),
    Config: configBlock === undefined ? undefined : decodeConfig(r.ctx, configBlock, r.field('Config'), `config block in ${r.where}`),
    Env: r.stringMap('env', 'Env'),
    Meta: r.stringMap('meta', 'Meta'),
    Resources: decodeResources(r),
    RestartPolicy: decodeRestart(r),
    KillTimeout: r.duration('kill_timeout', 'KillTimeout'),
    KillSignal: r.string('kill_signal', 'KillSignal'),
    LogConfig: decodeLogs(r),
    Artifacts: r.blocks('artifact', []).map((ab, i) => decodeArtifact(r, ab, i)),
    Templates: r.blocks('template', []).map((tb, i) => decodeTemplate(r, tb, i)),
    Leader: r.bool('leader', 'Leader'),
    Lifecycle: decodeLifecycle(r),
    Services: decodeServices(r),
    Constraints: decodeConstraints(r),
    Affinities: decodeAffinities(r),
    ShutdownDelay: r.duration('shutdown_delay', 'ShutdownDelay'),
    VolumeMounts: r.blocks('volume_mount', []).map((vb, i) => decodeVolumeMount(r, vb, i)),
  };
  r.finish();
  return task;
}

function decodeResources(task: BodyReader): Input<Resources> | undefined {
  const b = task.single('resources');
  if (b === undefined) return undefined;
  const r = task.child(b, task.field('Resources'));
  const res: Input<Resources> = {
    CPU: r.number('cpu', 'CPU'),
    Cores: r.number('cores', 'Cores'),
    MemoryMB: r.sizeMB('memory', 'MemoryMB'),
    MemoryMaxMB: r.sizeMB('memory_max', 'MemoryMaxMB'),
    DiskMB: r.sizeMB('disk', 'DiskMB'),
    Networks: decodeNetworks(r),
    Devices: r.blocks('device', ['name']).map((db, i) => {
      const dr = r.child(db, r.field(`Devices[${i}]`));
      const d: Input<RequestedDevice> = {
        Name: db.labels[0] ?? '',
        Count: dr.number('count', 'Count'),
        Constraints: decodeConstraints(dr),
        Affinities: decodeAffinities(dr),
      };
      dr.finish();
      return d;
    }),
  };
  r.finish();
  return res;
}

function decodeArtifact(task: BodyReader, b: HclBlock, i: number): Input<TaskArtifact> {
  const r = task.child(b, task.field(`Artifacts[${i}]`));
  const a: Input<TaskArtifact> = {
    GetterSource: r.string('source', 'GetterSource'),
    RelativeDest: r.string('destination', 'RelativeDest'),
    GetterMode: r.string('mode', 'GetterMode'),
    GetterOptions: r.stringMap('options', 'GetterOptions'),
  };
  r.finish();
  return a;
}

function decodeTemplate(task: BodyReader, b: HclBlock, i: number): Input<Template> {
  const r = task.child(b, task.field(`Templates[${i}]`));
  const t: Input<Template> = {
    SourcePath: r.string('source', 'SourcePath'),
    DestPath: r.string('destination', 'DestPath'),
    EmbeddedTmpl: r.string('data', 'EmbeddedTmpl'),
    ChangeMode: r.string('change_mode', 'ChangeMode'),
    ChangeSignal: r.string('change_signal', 'ChangeSignal'),
    Splay: r.duration('splay', 'Splay'),
    Perms: r.string('perms', 'Perms'),
    LeftDelim: r.string('left_delimiter', 'LeftDelim'),
    RightDelim: r.string('right_delimiter', 'RightDelim'),
    Envvars: r.bool('env', 'Envvars'),
  };
  r.finish();
  return t;
}

function decodeVolumeMount(task: BodyReader, b: HclBlock, i: number): Input<VolumeMount> {
  const r = task.child(b, task.field(`VolumeMounts[${i}]`));
  const m: Input<VolumeMount> = {
    Volume: r.string('volume', 'Volume'),
    Destination: r.string('destination', 'Destination'),
    ReadOnly: r.bool('read_only', 'ReadOnly'),
    PropagationMode: r.string('propagation_mode', 'PropagationMode'),
  };
  r.finish();
  return m;
}

export function decodeConfig(ctx: DecodeContext, block: HclBlock, path: string, where: string): Record<string, unknown> {
  ctx.record(path, block.pos);
  return configBody(ctx, block.body, path, where);
}

function configBody(ctx: DecodeContext, body: HclBody, path: string, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of body.attrs) {
    const r = ctx.evaluate(a, `${path}.${a.name}`, where);
    // A null value means "not set" in HCL.
    if (!r.ok || r.value === null || r.value === undefined) continue;
    out[a.name] = a.objectCons && isRecord(r.value) ? [r.value] : r.value;
  }
  const byType = new Map<string, HclBlock[]>();
  for (const b of body.blocks) byType.set(b.type, [...(byType.get(b.type) ?? []), b]);
  for (const [type, blocks] of byType) {
    out[type] = blocks.map((b) => {
      const inner = configBody(ctx, b.body, `${path}.${type}`, `${type} block in ${where}`);
      return b.labels.reduceRight<Record<string, unknown>>((acc, label) => ({ [label]: [acc] }), inner);
    });
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
