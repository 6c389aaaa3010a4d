/**
 * Devices (GPUs and the like): which of a node's device groups satisfy a task's
 * `device "vendor/type/model" { count, constraint, affinity }` request, and which healthy
 * instances to hand out, never one already held by another allocation on the node (Nomad's
 * DeviceChecker and deviceAllocator). Attribute values compare with their units
 * ("40 GiB" < "81559 MiB"), as Nomad's psstructs.Attribute does.
 */
import { isAllocTerminal, type Allocation } from '../structs/alloc.js';
import type { Affinity, Constraint } from '../structs/constraint.js';
import type { TaskGroup } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import type { AllocatedDeviceResource, NodeDeviceResource, RequestedDevice } from '../structs/resources.js';
import { applyOperand } from './constraint-check.js';

/** Nomad's filter reason for nodes without a matching device group. */
export const MISSING_DEVICES = 'missing devices';

/** Unit multipliers to a base unit per family (bytes, hertz, watts), as in Nomad's plugins/shared/structs/units.go. */
const UNITS: Record<string, { family: string; factor: number }> = {
  B: { family: 'byte', factor: 1 },
  KB: { family: 'byte', factor: 1e3 },
  MB: { family: 'byte', factor: 1e6 },
  GB: { family: 'byte', factor: 1e9 },
  TB: { family: 'byte', factor: 1e12 },
  PB: { family: 'byte', factor: 1e15 },
  KiB: { family: 'byte', factor: 2 ** 10 },
  MiB: { family: 'byte', factor: 2 ** 20 },
  GiB: { family: 'byte', factor: 2 ** 30 },
  TiB: { family: 'byte', factor: 2 ** 40 },
  PiB: { family: 'byte', factor: 2 ** 50 },
  'B/s': { family: 'byterate', factor: 1 },
  'KB/s': { family: 'byterate', factor: 1e3 },
  'MB/s': { family: 'byterate', factor: 1e6 },
  'GB/s': { family: 'byterate', factor: 1e9 },
  'KiB/s': { family: 'byterate', factor: 2 ** 10 },
  'MiB/s': { family: 'byterate', factor: 2 ** 20 },
  'GiB/s': { family: 'byterate', factor: 2 ** 30 },
  Hz: { family: 'hertz', factor: 1 },
  KHz: { family: 'hertz', factor: 1e3 },
  MHz: { family: 'hertz', factor: 1e6 },
  GHz: { family: 'hertz', factor: 1e9 },
  mW: { family: 'watt', factor: 1e-3 },
  W: { family: 'watt', factor: 1 },
  kW: { family: 'watt', factor: 1e3 },
  MW: { family: 'watt', factor: 1e6 },
};

interface Quantity {
  value: number;
  family: string;
}

/** "40 GiB" → bytes; "1.5GHz" → hertz; "12" → a plain number. null when not a quantity. */
export function parseQuantity(s: string): Quantity | null {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*([A-Za-z/]*)\s*$/.exec(s);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2] ?? '';
  if (unit === '') return { value: n, family: '' };
  const u = UNITS[unit];
  return u ? { value: n * u.factor, family: u.family } : null;
}

/** Resolve `${device.attr.x}`, `${device.vendor}`, `${device.type}`, `${device.model}` against a device group. */
function resolveDeviceTarget(target: string, dev: NodeDeviceResource): string | undefined {
  const m = /^\$\{(.+)\}$/.exec(target.trim());
  if (!m) return target;
  const key = m[1]!;
  if (key === 'device.vendor') return dev.Vendor;
  if (key === 'device.type') return dev.Type;
  if (key === 'device.model') return dev.Name;
  if (key === 'device.ids') return dev.Instances.map((i) => i.ID).join(',');
  if (key.startsWith('device.attr.')) return dev.Attributes[key.slice('device.attr.'.length)];
  return undefined;
}

/** One device constraint: numeric operators compare quantities with units; the rest as node constraints do. */
export function checkDeviceConstraint(c: Constraint | Affinity, dev: NodeDeviceResource): boolean {
  const l = resolveDeviceTarget(c.LTarget, dev);
  const r = resolveDeviceTarget(c.RTarget, dev);
  if (c.Operand === 'is_set') return l !== undefined;
  if (c.Operand === 'is_not_set') return l === undefined;
  if (l === undefined || r === undefined) return false;
  const lq = parseQuantity(l);
  const rq = parseQuantity(r);
  if (lq && rq && (lq.family === rq.family || lq.family === '' || rq.family === '')) {
    const d = lq.value - rq.value;
    switch (c.Operand) {
      case '=':
      case '==':
      case 'is':
        return d === 0;
      case '!=':
      case 'not':
        return d !== 0;
      case '<':
        return d < 0;
      case '<=':
        return d <= 0;
      case '>':
        return d > 0;
      case '>=':
        return d >= 0;
      default:
        break;
    }
  }
  // Not two comparable quantities: the node constraint semantics (lexical, regexp, version, sets).
  return applyOperand(c.Operand, l, r);
}

/** `gpu`, `nvidia/gpu` or `nvidia/gpu/Tesla K80`. */
export function deviceNameMatches(name: string, dev: NodeDeviceResource): boolean {
  const parts = name.split('/');
  switch (parts.length) {
    case 1:
      return parts[0] === dev.Type;
    case 2:
      return parts[0] === dev.Vendor && parts[1] === dev.Type;
    default:
      return parts[0] === dev.Vendor && parts[1] === dev.Type && parts.slice(2).join('/') === dev.Name;
  }
}

function groupMatches(req: RequestedDevice, dev: NodeDeviceResource): boolean {
  return deviceNameMatches(req.Name, dev) && req.Constraints.every((c) => checkDeviceConstraint(c, dev));
}

function healthyCount(dev: NodeDeviceResource): number {
  return dev.Instances.filter((i) => i.Healthy).length;
}

function requests(tg: TaskGroup): RequestedDevice[] {
  return tg.Tasks.flatMap((t) => t.Resources.Devices);
}

export function groupWantsDevices(tg: TaskGroup): boolean {
  return tg.Tasks.some((t) => t.Resources.Devices.length > 0);
}

/** Feasibility: does the node have, for every request, a matching group with enough healthy instances at all? */
export function hasDevices(tg: TaskGroup, node: Node): boolean {
  return requests(tg).every((req) => node.NodeResources.Devices.some((d) => groupMatches(req, d) && healthyCount(d) >= req.Count));
}

/** Device instance IDs held by live allocations on the node. */
export function usedDeviceIds(allocs: readonly Allocation[]): Set<string> {
  const used = new Set<string>();
  for (const a of allocs) {
    if (isAllocTerminal(a)) continue;
    for (const t of Object.values(a.AllocatedResources.Tasks)) for (const d of t.Devices) for (const id of d.DeviceIDs) used.add(id);
  }
  return used;
}

export type DeviceAssignment =
  | { ok: true; byTask: Record<string, AllocatedDeviceResource[]>; /** affinity score in [-1, 1]; 0 without affinities */ score: number; hasAffinities: boolean }
  | { ok: false; reason: string };

/**
 * Pick instances for every device request of the group. Among matching groups with enough free
 * healthy instances the one with the best affinity score wins (Nomad's deviceAllocator).
 */
export function assignDevices(tg: TaskGroup, node: Node, used: Set<string>): DeviceAssignment {
  const taken = new Set(used);
  const byTask: Record<string, AllocatedDeviceResource[]> = {};
  let weightSum = 0;
  let scoreSum = 0;
  for (const task of tg.Tasks) {
    const out: AllocatedDeviceResource[] = [];
    for (const req of task.Resources.Devices) {
      let best: { dev: NodeDeviceResource; free: string[]; score: number } | null = null;
      for (const dev of node.NodeResources.Devices) {
        if (!groupMatches(req, dev)) continue;
        const free = dev.Instances.filter((i) => i.Healthy && !taken.has(i.ID)).map((i) => i.ID);
        if (free.length < req.Count) continue;
        let score = 0;
        for (const a of req.Affinities) if (checkDeviceConstraint(a, dev)) score += a.Weight;
        if (!best || score > best.score) best = { dev, free, score };
      }
      if (!best) return { ok: false, reason: 'no devices match request' };
      for (const a of req.Affinities) weightSum += Math.abs(a.Weight);
      scoreSum += best.score;
      const ids = best.free.slice(0, req.Count);
      for (const id of ids) taken.add(id);
      out.push({ Vendor: best.dev.Vendor, Type: best.dev.Type, Name: best.dev.Name, DeviceIDs: ids });
    }
    byTask[task.Name] = out;
  }
  return { ok: true, byTask, score: weightSum > 0 ? scoreSum / weightSum : 0, hasAffinities: weightSum > 0 };
}

/** The first device instance two live allocations on a node both hold, or one the node does not have; null when none. */
export function deviceOverAssignment(node: Node, allocs: Allocation[]): string | null {
  const exists = new Set(node.NodeResources.Devices.flatMap((d) => d.Instances.map((i) => i.ID)));
  const seen = new Map<string, string>();
  for (const a of allocs) {
    if (isAllocTerminal(a)) continue;
    for (const t of Object.values(a.AllocatedResources.Tasks)) {
      for (const d of t.Devices) {
        for (const id of d.DeviceIDs) {
          if (!exists.has(id)) return `device ${id} of alloc ${a.ID} is not on the node`;
          const other = seen.get(id);
          if (other !== undefined) return `device ${id} is held by allocs ${other} and ${a.ID}`;
          seen.set(id, a.ID);
        }
      }
    }
  }
  return null;
}
