/**
 * A job diff (from `job plan` or `job history -p`) rendered as Nomad's CLI renders it
 * (command/job_plan.go: formatJobDiff and friends): "+" added, "-" deleted, "+/-" edited,
 * markers and field names aligned per block, objects as `Name {` ... `}`.
 */
import type { DesiredUpdates, DiffType, FieldDiff, JobDiff, ObjectDiff, TaskDiff, TaskGroupDiff } from '../../api/job-plan.js';

/** The marker and its printed width ("+/- " is 4). */
function marker(t: DiffType): [string, number] {
  switch (t) {
    case 'Added':
      return ['+ ', 2];
    case 'Deleted':
      return ['- ', 2];
    case 'Edited':
      return ['+/- ', 4];
    case 'None':
      return ['', 0];
  }
}

const sp = (n: number): string => ' '.repeat(Math.max(0, n));

function longestPrefixes(fields: readonly FieldDiff[], objects: readonly ObjectDiff[]): { field: number; marker: number } {
  let field = 0;
  let mark = 0;
  for (const f of fields) {
    field = Math.max(field, f.Name.length);
    mark = Math.max(mark, marker(f.Type)[1]);
  }
  for (const o of objects) mark = Math.max(mark, marker(o.Type)[1]);
  return { field, marker: mark };
}

/** Go's %q for the plain strings diffs carry. */
const quote = (s: string): string => JSON.stringify(s ?? '');

function fieldLine(d: FieldDiff, start: number, keyPad: number, valuePad: number): string {
  let out = `${sp(start)}${marker(d.Type)[0]}${sp(keyPad)}${d.Name}: ${sp(valuePad)}`;
  switch (d.Type) {
    case 'Added':
      out += quote(d.New);
      break;
    case 'Deleted':
      out += quote(d.Old);
      break;
    case 'Edited':
      out += `${quote(d.Old)} => ${quote(d.New)}`;
      break;
    case 'None':
      out += quote(d.New);
      break;
  }
  if ((d.Annotations ?? []).length > 0) out += ` (${(d.Annotations ?? []).join(', ')})`;
  return out;
}

function objectBlock(d: ObjectDiff, start: number, keyPad: number): string {
  const [mark, markLen] = marker(d.Type);
  const fields = d.Fields ?? [];
  const objects = d.Objects ?? [];
  const longest = longestPrefixes(fields, objects);
  const body = aligned(fields, objects, start + keyPad + 2, longest.field, longest.marker);
  return `${sp(start)}${mark}${sp(keyPad)}${d.Name} {\n${body}\n${sp(start + keyPad + markLen)}}`;
}

function aligned(fields: readonly FieldDiff[], objects: readonly ObjectDiff[], start: number, longestField: number, longestMarker: number): string {
  const lines: string[] = [];
  for (const f of fields) lines.push(fieldLine(f, start, longestMarker - marker(f.Type)[1], longestField - f.Name.length));
  for (const o of objects) lines.push(objectBlock(o, start, longestMarker - marker(o.Type)[1]));
  return lines.join('\n');
}

/** Nomad's names for the scheduler's per-group decisions, used when a diff carries no Updates. */
export function updatesFromAnnotations(u: DesiredUpdates | undefined): Record<string, number> {
  if (u === undefined) return {};
  const all: Array<[string, number]> = [
    ['create', u.Place],
    ['destroy', u.Stop],
    ['migrate', u.Migrate],
    ['in-place update', u.InPlaceUpdate],
    ['create/destroy update', u.DestructiveUpdate],
    ['canary', u.Canary],
    ['ignore', u.Ignore],
  ];
  return Object.fromEntries(all.filter(([, n]) => n > 0));
}

function taskLine(t: TaskDiff, start: number, taskPad: number, verbose: boolean): string {
  let out = `${sp(start)}${marker(t.Type)[0]}${sp(taskPad)}Task: ${quote(t.Name)}`;
  if ((t.Annotations ?? []).length > 0) out += ` (${(t.Annotations ?? []).join(', ')})`;
  // Added or deleted tasks show their fields only with -verbose, unchanged ones never.
  if (t.Type === 'None' || ((t.Type === 'Added' || t.Type === 'Deleted') && !verbose)) return out;
  const fields = t.Fields ?? [];
  const objects = t.Objects ?? [];
  const longest = longestPrefixes(fields, objects);
  return `${out}\n${aligned(fields, objects, start + 2, longest.field, longest.marker)}`;
}

function taskGroupBlock(tg: TaskGroupDiff, tgPad: number, verbose: boolean, fallback: Record<string, number>): string {
  let out = `${marker(tg.Type)[0]}${sp(tgPad)}Task Group: ${quote(tg.Name)}`;
  const updates = tg.Updates !== null && tg.Updates !== undefined && Object.keys(tg.Updates).length > 0 ? tg.Updates : fallback;
  const kinds = Object.keys(updates).sort();
  if (kinds.length > 0) out += ` (${kinds.map((k) => `${updates[k] ?? 0} ${k}`).join(', ')})`;
  out += '\n';
  const fields = tg.Fields ?? [];
  const objects = tg.Objects ?? [];
  const longest = longestPrefixes(fields, objects);
  let longestMarker = longest.marker;
  for (const t of tg.Tasks ?? []) longestMarker = Math.max(longestMarker, marker(t.Type)[1]);
  const sub = tgPad + 2;
  if (tg.Type === 'Edited' || verbose) {
    const fo = aligned(fields, objects, sub, longest.field, longestMarker);
    if (fo !== '') out += `${fo}\n`;
  }
  for (const t of tg.Tasks ?? []) out += `${taskLine(t, sub, longestMarker - marker(t.Type)[1], verbose)}\n`;
  return out;
}

export function formatJobDiff(job: JobDiff, verbose: boolean, desired: Record<string, DesiredUpdates> | null = null): string {
  let out = `${marker(job.Type)[0]}Job: ${quote(job.ID)}\n`;
  const fields = job.Fields ?? [];
  const objects = job.Objects ?? [];
  const longest = longestPrefixes(fields, objects);
  let longestMarker = longest.marker;
  for (const tg of job.TaskGroups ?? []) longestMarker = Math.max(longestMarker, marker(tg.Type)[1]);
  if (job.Type === 'Edited' || verbose) {
    const fo = aligned(fields, objects, 0, longest.field, longestMarker);
    if (fo !== '') out += `${fo}\n`;
  }
  for (const tg of job.TaskGroups ?? []) {
    out += `${taskGroupBlock(tg, longestMarker - marker(tg.Type)[1], verbose, updatesFromAnnotations(desired?.[tg.Name]))}\n`;
  }
  return out.trim();
}
