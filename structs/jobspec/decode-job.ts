/**
 * The top of a job file: exactly one `job "id"` block (next to `variable` blocks, which
 * variables.ts reads), its arguments, and its `group` blocks.
 */
import type { VolumeRequest } from '../job.js';
import type { Input, JobInput, TaskGroupInput } from '../job-defaults.js';
import type { DecodeContext } from './body-reader.js';
import { BodyReader, FILE_PATH } from './body-reader.js';
import type { HclBlock, HclBody } from './hcl-tree.js';
import { decodeAffinities, decodeConstraints, decodeSpreads } from './decode-placement.js';
import {
  decodeEphemeralDisk,
  decodeMigrate,
  decodeParameterized,
  decodePeriodic,
  decodeReschedule,
  decodeRestart,
  decodeUpdate,
} from './decode-policies.js';
import { decodeNetworks, decodeServices } from './decode-network.js';
import { decodeTask } from './decode-task.js';

/** Decode the file's job block; undefined when there is no usable one (reported). */
export function decodeFile(ctx: DecodeContext, root: HclBody): JobInput | undefined {
  const r = new BodyReader(ctx, root, ctx.filename, FILE_PATH, { line: 1, col: 1 });
  const jobs = r.blocks('job', ['name']);
  // Variables are read before the job is decoded (variables.ts); listed here as known.
  r.blocks('variable', ['name']);
  r.blocks('variables', []);
  r.finish();
  for (const extra of jobs.slice(1)) {
    ctx.error(extra.pos, FILE_PATH, `duplicate job block in ${ctx.filename}; a file holds exactly one job`);
  }
  const first = jobs[0];
  if (first === undefined) {
    if (!root.blocks.some((b) => b.type === 'job')) ctx.error(undefined, FILE_PATH, `missing job block in ${ctx.filename}`);
    return undefined;
  }
  return decodeJob(ctx, first);
}

function decodeJob(ctx: DecodeContext, b: HclBlock): JobInput {
  const id = b.labels[0] ?? '';
  const r = new BodyReader(ctx, b.body, `job ${JSON.stringify(id)}`, '', b.pos);
  const job: JobInput = {
    ID: id,
    Name: r.string('name', 'Name'),
    Region: r.string('region', 'Region'),
    Namespace: r.string('namespace', 'Namespace'),
    Type: r.string('type', 'Type'),
    Priority: r.number('priority', 'Priority'),
    AllAtOnce: r.bool('all_at_once', 'AllAtOnce'),
    Datacenters: r.stringList('datacenters', 'Datacenters'),
    NodePool: r.string('node_pool', 'NodePool'),
    Meta: r.stringMap('meta', 'Meta'),
    Constraints: decodeConstraints(r),
    Affinities: decodeAffinities(r),
    Spreads: decodeSpreads(r),
    Update: decodeUpdate(r),
    Periodic: decodePeriodic(r),
    ParameterizedJob: decodeParameterized(r),
    // Job-level reschedule and migrate blocks apply to every group (job-defaults.ts).
    Reschedule: decodeReschedule(r, 'Reschedule'),
    Migrate: decodeMigrate(r),
    TaskGroups: r.blocks('group', ['name']).map((gb, i) => decodeGroup(r, gb, i)),
  };
  r.finish();
  return job;
}

function decodeGroup(job: BodyReader, b: HclBlock, index: number): TaskGroupInput {
  const name = b.labels[0] ?? '';
  const r = new BodyReader(job.ctx, b.body, `group ${JSON.stringify(name)}`, `TaskGroups[${index}]`, b.pos);
  const group: TaskGroupInput = {
    Name: name,
    Count: r.number('count', 'Count'),
    Constraints: decodeConstraints(r),
    Affinities: decodeAffinities(r),
    Spreads: decodeSpreads(r),
    RestartPolicy: decodeRestart(r),
    ReschedulePolicy: decodeReschedule(r),
    EphemeralDisk: decodeEphemeralDisk(r),
    Update: decodeUpdate(r),
    Migrate: decodeMigrate(r),
    Networks: decodeNetworks(r),
    Services: decodeServices(r),
    Volumes: decodeVolumes(r),
    Meta: r.stringMap('meta', 'Meta'),
    ShutdownDelay: r.duration('shutdown_delay', 'ShutdownDelay'),
    StopAfterClientDisconnect: r.duration('stop_after_client_disconnect', 'StopAfterClientDisconnect'),
    MaxClientDisconnect: r.duration('max_client_disconnect', 'MaxClientDisconnect'),
    Tasks: r.blocks('task', ['name']).map((tb, i) => decodeTask(r, tb, i)),
  };
  r.finish();
  return group;
}

function decodeVolumes(group: BodyReader): Record<string, Input<VolumeRequest>> {
  const out: Record<string, Input<VolumeRequest>> = {};
  for (const b of group.blocks('volume', ['name'])) {
    const name = b.labels[0] ?? '';
    const r = group.child(b, group.field(`Volumes[${JSON.stringify(name)}]`));
    if (name in out) group.ctx.error(b.pos, r.path, `duplicate volume ${JSON.stringify(name)} in ${group.where}`);
    out[name] = {
      Name: name,
      Type: r.string('type', 'Type'),
      Source: r.string('source', 'Source'),
      ReadOnly: r.bool('read_only', 'ReadOnly'),
    };
    r.finish();
  }
  return out;
}
