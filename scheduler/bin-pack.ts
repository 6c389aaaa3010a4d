/**
 * Resource fit and bin-packing score. A node's capacity is what it fingerprinted minus what
 * the operator reserved; its usage is the sum of its live allocations (and of what the plan
 * being built already put there). The score is Nomad's best-fit v3 (funcs.go ScoreFitBinPack):
 * fuller nodes score higher, so allocations pack tightly and whole nodes stay free.
 */
import { isAllocTerminal, type Allocation } from '../structs/alloc.js';
import type { TaskGroup } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import type { AllocatedResources } from '../structs/resources.js';

export interface ResourceVector {
  cpu: number;
  memoryMB: number;
  diskMB: number;
}

export const ZERO: ResourceVector = { cpu: 0, memoryMB: 0, diskMB: 0 };

export function add(a: ResourceVector, b: ResourceVector): ResourceVector {
  return { cpu: a.cpu + b.cpu, memoryMB: a.memoryMB + b.memoryMB, diskMB: a.diskMB + b.diskMB };
}

/** `into += b`, for sums kept up to date in place. */
export function addInto(into: ResourceVector, b: ResourceVector): void {
  into.cpu += b.cpu;
  into.memoryMB += b.memoryMB;
  into.diskMB += b.diskMB;
}

export function nodeCapacity(node: Node): ResourceVector {
  const r = node.ReservedResources;
  return {
    cpu: node.NodeResources.Cpu.CpuShares - (r?.Cpu.CpuShares ?? 0),
    memoryMB: node.NodeResources.Memory.MemoryMB - (r?.Memory.MemoryMB ?? 0),
    diskMB: node.NodeResources.Disk.DiskMB - (r?.Disk.DiskMB ?? 0),
  };
}

export function allocatedVector(ar: AllocatedResources): ResourceVector {
  let cpu = 0;
  let memoryMB = 0;
  for (const t of Object.values(ar.Tasks)) {
    cpu += t.Cpu.CpuShares;
    memoryMB += t.Memory.MemoryMB;
  }
  return { cpu, memoryMB, diskMB: ar.Shared.DiskMB };
}

export function taskGroupAsk(tg: TaskGroup): ResourceVector {
  let cpu = 0;
  let memoryMB = 0;
  for (const t of tg.Tasks) {
    cpu += t.Resources.CPU;
    memoryMB += t.Resources.MemoryMB;
  }
  return { cpu, memoryMB, diskMB: tg.EphemeralDisk?.SizeMB ?? 0 };
}

/** Sum of the live allocations on a node. */
export function nodeUsage(allocs: readonly Allocation[]): ResourceVector {
  let used = ZERO;
  for (const a of allocs) if (!isAllocTerminal(a)) used = add(used, allocatedVector(a.AllocatedResources));
  return used;
}

export type Dimension = 'cpu' | 'memory' | 'disk';

/** The first exhausted dimension, or null when `ask` fits. Names match Nomad's ("memory", "cpu", "disk"). */
export function exhaustedDimension(capacity: ResourceVector, used: ResourceVector, ask: ResourceVector): Dimension | null {
  if (used.cpu + ask.cpu > capacity.cpu) return 'cpu';
  if (used.memoryMB + ask.memoryMB > capacity.memoryMB) return 'memory';
  if (used.diskMB + ask.diskMB > capacity.diskMB) return 'disk';
  return null;
}

/** Nomad's maximum best-fit score, used to normalize into [0, 1]. */
const MAX_FIT_SCORE = 18;

/** Best-fit score in [0, 1] for a node whose usage would become `after`. */
export function binPackScore(capacity: ResourceVector, after: ResourceVector): number {
  const freeCpu = capacity.cpu > 0 ? 1 - after.cpu / capacity.cpu : 0;
  const freeMem = capacity.memoryMB > 0 ? 1 - after.memoryMB / capacity.memoryMB : 0;
  const total = Math.pow(10, freeCpu) + Math.pow(10, freeMem);
  const score = Math.min(MAX_FIT_SCORE, Math.max(0, 20 - total));
  return score / MAX_FIT_SCORE;
}

/**
 * Worst-fit score in [0, 1] (Nomad's ScoreFitSpread, the `spread` scheduler algorithm): emptier
 * nodes score higher, so allocations are spread out.
 */
export function spreadFitScore(capacity: ResourceVector, after: ResourceVector): number {
  const freeCpu = capacity.cpu > 0 ? 1 - after.cpu / capacity.cpu : 0;
  const freeMem = capacity.memoryMB > 0 ? 1 - after.memoryMB / capacity.memoryMB : 0;
  const total = Math.pow(10, freeCpu) + Math.pow(10, freeMem);
  const score = Math.min(MAX_FIT_SCORE, Math.max(0, total - 2));
  return score / MAX_FIT_SCORE;
}
