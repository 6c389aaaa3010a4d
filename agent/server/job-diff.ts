/**
 * A field-level diff between two versions of a job, in the outline of Nomad's JobDiff
 * (Type Added/Deleted/Edited/None, Fields, TaskGroups). Nested objects are flattened into
 * dotted field names (`Update.MaxParallel`, `Tasks[web].Resources.CPU`) instead of Nomad's
 * nested ObjectDiffs: every changed value is reported, just less deeply structured.
 */
import type { Job, TaskGroup } from '../../structs/job.js';

export type DiffType = 'Added' | 'Deleted' | 'Edited' | 'None';

export interface FieldDiff {
  Type: DiffType;
  Name: string;
  Old: string;
  New: string;
  Annotations: string[] | null;
}

export interface TaskGroupDiff {
  Type: DiffType;
  Name: string;
  Fields: FieldDiff[] | null;
  Objects: null;
  Tasks: null;
  Updates: null;
}

export interface JobDiff {
  Type: DiffType;
  ID: string;
  Fields: FieldDiff[] | null;
  Objects: null;
  TaskGroups: TaskGroupDiff[] | null;
}

/** Fields the server sets, not the submitter: never part of a diff (as in Nomad). */
const IGNORED = new Set(['Status', 'StatusDescription', 'Stable', 'Version', 'SubmitTime', 'CreateIndex', 'ModifyIndex', 'JobModifyIndex', 'TaskGroups']);

function flatten(value: unknown, prefix: string, out: Map<string, string>): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      // Named elements (tasks, services) are keyed by name so reordering is not a change.
      const name = typeof v === 'object' && v !== null && typeof (v as { Name?: unknown }).Name === 'string' ? (v as { Name: string }).Name : String(i);
      flatten(v, `${prefix}[${name}]`, out);
    });
    return;
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix === '' ? k : `${prefix}.${k}`, out);
    return;
  }
  out.set(prefix, typeof value === 'string' ? value : JSON.stringify(value));
}

function fieldDiffs(oldV: object | null, newV: object | null, ignore: ReadonlySet<string>): FieldDiff[] {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  if (oldV) for (const [k, v] of Object.entries(oldV)) if (!ignore.has(k)) flatten(v, k, a);
  if (newV) for (const [k, v] of Object.entries(newV)) if (!ignore.has(k)) flatten(v, k, b);
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  const out: FieldDiff[] = [];
  for (const name of names) {
    const o = a.get(name);
    const n = b.get(name);
    // An absent field and an empty one are the same to a user.
    if ((o ?? '') === (n ?? '')) continue;
    out.push({ Type: o === undefined ? 'Added' : n === undefined ? 'Deleted' : 'Edited', Name: name, Old: o ?? '', New: n ?? '', Annotations: null });
  }
  return out;
}

function groupDiff(name: string, oldG: TaskGroup | undefined, newG: TaskGroup | undefined): TaskGroupDiff {
  const fields = fieldDiffs(oldG ?? null, newG ?? null, new Set());
  const type: DiffType = oldG === undefined ? 'Added' : newG === undefined ? 'Deleted' : fields.length > 0 ? 'Edited' : 'None';
  return { Type: type, Name: name, Fields: fields.length > 0 ? fields : null, Objects: null, Tasks: null, Updates: null };
}

export function diffJobs(oldJob: Job | null, newJob: Job): JobDiff {
  const fields = fieldDiffs(oldJob, newJob, IGNORED);
  const oldGroups = new Map((oldJob?.TaskGroups ?? []).map((g) => [g.Name, g]));
  const newGroups = new Map(newJob.TaskGroups.map((g) => [g.Name, g]));
  const names = [...new Set([...oldGroups.keys(), ...newGroups.keys()])].sort();
  const groups = names.map((n) => groupDiff(n, oldGroups.get(n), newGroups.get(n)));
  const changed = fields.length > 0 || groups.some((g) => g.Type !== 'None');
  return {
    Type: oldJob === null ? 'Added' : changed ? 'Edited' : 'None',
    ID: newJob.ID,
    Fields: fields.length > 0 ? fields : null,
    Objects: null,
    TaskGroups: groups,
  };
}
