/**
 * Whether a fresh fingerprint differs from the registered node in a way the servers must learn
 * about. Values that drift on their own (free disk space, driver fingerprint timestamps) do not
 * count, or every periodic fingerprint would re-register the node; they ride along with the next
 * registration that happens for a real change.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Node } from '../../../structs/node.js';

/**
 * Attributes that change without anything about the node changing: free space, and the clock
 * where it comes from /proc/cpuinfo's current "cpu MHz" (it follows frequency scaling).
 */
const DRIFTING_ATTRIBUTES = new Set(['unique.storage.bytesfree', 'cpu.frequency', 'cpu.totalcompute']);

function stableAttributes(a: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(a).filter(([k]) => !DRIFTING_ATTRIBUTES.has(k)));
}

function stableDrivers(n: Node): Record<string, unknown> {
  return Object.fromEntries(Object.entries(n.Drivers).map(([name, d]) => [name, { ...d, UpdateTime: 0 }]));
}

function stableResources(n: Node): unknown {
  return { ...n.NodeResources, Disk: null, Cpu: { ...n.NodeResources.Cpu, CpuShares: 0 } };
}

export function fingerprintChanged(prev: Node, next: Node): boolean {
  return (
    !isDeepStrictEqual(stableAttributes(prev.Attributes), stableAttributes(next.Attributes)) ||
    !isDeepStrictEqual(stableDrivers(prev), stableDrivers(next)) ||
    !isDeepStrictEqual(stableResources(prev), stableResources(next))
  );
}
