/**
 * The stand-in's job plan: a diff of a job against the running version and the dry run's
 * per-group decisions, in Nomad's JobPlanResponse shape. Only what the CLI shows is compared
 * (task drivers and config values), which is enough to exercise every kind of diff line.
 */
import type { DesiredUpdates, FieldDiff, JobDiff, JobPlanResponse, ObjectDiff, TaskGroupDiff } from '../../api/job-plan.js';
import { newAllocMetric } from '../../structs/eval.js';
import type { Job, Task } from '../../structs/job.js';

function updates(over: Partial<DesiredUpdates>): DesiredUpdates {
  return { Ignore: 0, Place: 0, Migrate: 0, Stop: 0, InPlaceUpdate: 0, DestructiveUpdate: 0, Canary: 0, Preemptions: 0, ...over };
}

function configFields(t: Task | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(t?.Config ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

function fieldDiffs(before: Record<string, string>, after: Record<string, string>): FieldDiff[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const out: FieldDiff[] = [];
  for (const n of names) {
    const o = before[n];
    const v = after[n];
    if (o === v) continue;
    const Type = o === undefined ? 'Added' : v === undefined ? 'Deleted' : 'Edited';
    out.push({ Type, Name: n, Old: o ?? '', New: v ?? '', Annotations: null });
  }
  return out;
}

export function planJob(next: Job, prev: Job | undefined, jobModifyIndex: number): JobPlanResponse {
  const desired: Record<string, DesiredUpdates> = {};
  const groups: TaskGroupDiff[] = [];
  let changed = prev === undefined;
  for (const g of next.TaskGroups) {
    const old = prev?.TaskGroups.find((x) => x.Name === g.Name);
    if (old === undefined) {
      desired[g.Name] = updates({ Place: g.Count });
      groups.push({
        Type: 'Added', Name: g.Name, Fields: [{ Type: 'Added', Name: 'Count', Old: '', New: String(g.Count), Annotations: null }], Objects: null,
        Tasks: g.Tasks.map((t) => ({ Type: 'Added', Name: t.Name, Fields: [{ Type: 'Added', Name: 'Driver', Old: '', New: t.Driver, Annotations: null }], Objects: null, Annotations: ['forces create'] })),
        Updates: null,
      });
      changed = true;
      continue;
    }
    const tasks = g.Tasks.map((t) => {
      const ot = old.Tasks.find((x) => x.Name === t.Name);
      const fields = fieldDiffs(configFields(ot), configFields(t));
      const objects: ObjectDiff[] = fields.length > 0 ? [{ Type: 'Edited', Name: 'Config', Fields: fields, Objects: null }] : [];
      return fields.length > 0
        ? { Type: 'Edited' as const, Name: t.Name, Fields: [], Objects: objects, Annotations: ['forces create/destroy update'] }
        : { Type: 'None' as const, Name: t.Name, Fields: null, Objects: null, Annotations: null };
    });
    const edited = tasks.some((t) => t.Type === 'Edited');
    changed ||= edited;
    desired[g.Name] = edited ? updates({ DestructiveUpdate: g.Count }) : updates({ Ignore: g.Count });
    groups.push({ Type: edited ? 'Edited' : 'None', Name: g.Name, Fields: null, Objects: null, Tasks: tasks, Updates: null });
  }
  const diff: JobDiff = { Type: prev === undefined ? 'Added' : changed ? 'Edited' : 'None', ID: next.ID, Fields: null, Objects: null, TaskGroups: groups };
  const unplaceable = next.Meta?.['unplaceable'] === 'true';
  const metric = { ...newAllocMetric(), NodesEvaluated: 1, NodesExhausted: 1, DimensionExhausted: { memory: 1 }, NodesAvailable: { dc1: 1 } };
  return {
    JobModifyIndex: jobModifyIndex,
    Diff: diff,
    Annotations: { DesiredTGUpdates: desired, PreemptedAllocs: null },
    FailedTGAllocs: unplaceable ? Object.fromEntries(next.TaskGroups.map((g) => [g.Name, metric])) : null,
    CreatedEvals: null,
    Warnings: '',
  };
}

/** The diff between two stored versions, as GET /v1/job/:id/versions?diffs=true carries it. */
export function versionDiff(newer: Job, older: Job): JobDiff {
  const d = planJob(newer, older, 0).Diff;
  const base: JobDiff = d ?? { Type: 'None', ID: newer.ID, Fields: null, Objects: null, TaskGroups: null };
  const fields: FieldDiff[] = newer.Priority !== older.Priority ? [{ Type: 'Edited', Name: 'Priority', Old: String(older.Priority), New: String(newer.Priority), Annotations: null }] : [];
  return { ...base, Type: fields.length > 0 || base.Type === 'Edited' ? 'Edited' : base.Type, Fields: fields };
}
