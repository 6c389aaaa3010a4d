/**
 * A node's live (non-terminal) allocations and what they use, derived once per allocation list.
 * The server's state hands out the same (readonly, shared) array for a node until something on that node
 * changes, so this survives from one evaluation to the next: with thousands of nodes, summing
 * every candidate node's allocations again for each evaluation was a large part of placing.
 */
import { isAllocTerminal, type Allocation } from '../structs/alloc.js';
import { nodeUsage, ZERO, type ResourceVector } from './bin-pack.js';

export interface LiveAllocs {
  /** Shared with every reader: copy before changing. */
  live: readonly Allocation[];
  usage: ResourceVector;
  /**
   * Per position of the list this was derived from: is that allocation live (1) or not (0)?
   * A plain array: the state splices one per node per commit, and V8 allocates, copies and
   * splices small typed arrays through slow runtime calls.
   */
  mask: readonly number[];
}

const EMPTY: LiveAllocs = Object.freeze({ live: Object.freeze([]), usage: ZERO, mask: Object.freeze([]) });
const cache = new WeakMap<readonly Allocation[], LiveAllocs>();

export function liveAllocs(all: readonly Allocation[]): LiveAllocs {
  if (all.length === 0) return EMPTY;
  let v = cache.get(all);
  if (v === undefined) {
    const mask: number[] = [];
    const live: Allocation[] = [];
    for (const a of all) {
      const isLive = isAllocTerminal(a) ? 0 : 1;
      mask.push(isLive);
      if (isLive === 1) live.push(a);
    }
    v = Object.freeze({ live, usage: Object.freeze(nodeUsage(live)), mask });
    cache.set(all, v);
  }
  return v;
}

/** What liveAllocs derived for `all`, if it has (the state builds on it when a node changes). */
export function knownLiveAllocs(all: readonly Allocation[]): LiveAllocs | undefined {
  return all.length === 0 ? EMPTY : cache.get(all);
}

/**
 * Record what `all` derives to, computed by someone who knew it cheaper (the state, from the
 * previous list of the node and what one commit changed). It must equal what liveAllocs computes.
 */
export function primeLiveAllocs(all: readonly Allocation[], v: LiveAllocs): void {
  if (all.length > 0) cache.set(all, Object.freeze(v));
}
