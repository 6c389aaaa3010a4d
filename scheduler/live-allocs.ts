/**
 * A node's live (non-terminal) allocations and what they use, derived once per allocation list.
 * The server's state hands out the same frozen array for a node until something on that node
 * changes, so this survives from one evaluation to the next: with thousands of nodes, summing
 * every candidate node's allocations again for each evaluation was a large part of placing.
 */
import { isAllocTerminal, type Allocation } from '../structs/alloc.js';
import { nodeUsage, ZERO, type ResourceVector } from './bin-pack.js';

export interface LiveAllocs {
  /** Frozen: copy before changing. */
  live: readonly Allocation[];
  usage: ResourceVector;
}

const EMPTY: LiveAllocs = Object.freeze({ live: Object.freeze([]), usage: ZERO });
const cache = new WeakMap<readonly Allocation[], LiveAllocs>();

export function liveAllocs(all: readonly Allocation[]): LiveAllocs {
  if (all.length === 0) return EMPTY;
  let v = cache.get(all);
  if (v === undefined) {
    const live = Object.freeze(all.filter((a) => !isAllocTerminal(a)));
    v = Object.freeze({ live, usage: Object.freeze(nodeUsage(live)) });
    cache.set(all, v);
  }
  return v;
}
