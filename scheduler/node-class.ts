/**
 * Computed node classes (Nomad's Node.ComputeClass): nodes whose datacenter, pool, class,
 * attributes, meta, drivers and devices are equal are interchangeable for feasibility, so a
 * verdict reached for one holds for all. `unique.*` attributes and meta are left out of the
 * hash, which is why a constraint that reads them "escapes" the class and is checked per node.
 */
import type { Constraint } from '../structs/constraint.js';
import type { Job, TaskGroup } from '../structs/job.js';
import type { Node } from '../structs/node.js';

const cache = new WeakMap<Node, string>();

/** FNV-1a over a string, two independent 32-bit lanes for a 64-bit-wide class id. */
function fnv64(s: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return `v1:${(h1 >>> 0).toString(16).padStart(8, '0')}${(h2 >>> 0).toString(16).padStart(8, '0')}`;
}

function sortedEntries(rec: Record<string, string>): string {
  return Object.keys(rec)
    .filter((k) => !k.startsWith('unique.'))
    .sort()
    .map((k) => `${k}=${rec[k]}`)
    .join('\u0001');
}

/** The node's computed class: the one the server stored, or one hashed here (memoized per node object). */
export function computedClass(node: Node): string {
  if (node.ComputedClass !== '') return node.ComputedClass;
  const hit = cache.get(node);
  if (hit !== undefined) return hit;
  const drivers = Object.keys(node.Drivers)
    .sort()
    .map((d) => `${d}:${node.Drivers[d]!.Detected ? 1 : 0}${node.Drivers[d]!.Healthy ? 1 : 0}`)
    .join(',');
  const devices = node.NodeResources.Devices.map(
    (d) => `${d.Vendor}/${d.Type}/${d.Name}:${d.Instances.filter((i) => i.Healthy).length}:${sortedEntries(d.Attributes)}`,
  )
    .sort()
    .join(';');
  const cls = fnv64(
    [node.Datacenter, node.NodePool, node.NodeClass, sortedEntries(node.Attributes), sortedEntries(node.Meta), drivers, devices].join('\u0002'),
  );
  cache.set(node, cls);
  return cls;
}

/** Nomad's constraintTargetEscapes: targets on unique node properties cannot be judged by class. */
export function targetEscapes(target: string): boolean {
  return target.startsWith('${node.unique.') || target.startsWith('${attr.unique.') || target.startsWith('${meta.unique.');
}

function constraintsEscape(cs: Constraint[]): boolean {
  return cs.some((c) => targetEscapes(c.LTarget) || targetEscapes(c.RTarget));
}

/** Does any constraint of the job or group (its tasks included) escape the computed class? */
export function groupEscapesClass(job: Job, tg: TaskGroup): boolean {
  return constraintsEscape(job.Constraints) || constraintsEscape(tg.Constraints) || tg.Tasks.some((t) => constraintsEscape(t.Constraints));
}
