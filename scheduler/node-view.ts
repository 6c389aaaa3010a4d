/**
 * The node as this plan leaves it: the state's live allocations less the plan's stops, plus the
 * plan's placements, with what they use. Views are cached per position in the shuffled order and
 * rebuilt only when the plan placed something new there (at 10,000 nodes, re-summing every
 * node's allocations per placement dominates).
 */
import { isAllocTerminal, type Allocation } from '../structs/alloc.js';
import type { Plan } from '../structs/plan.js';
import { addInto, allocatedVector, nodeUsage, ZERO, type Dimension, type ResourceVector } from './bin-pack.js';
import type { Candidates } from './candidates.js';
import { liveAllocs } from './live-allocs.js';
import type { SchedulerState } from './scheduler-api.js';

export interface NodeView {
  /** Existing allocations still live after the plan's stops. */
  live: readonly Allocation[];
  /** What `live` uses, when known without summing (no stops on the node). */
  liveUsage: ResourceVector | null;
  liveIds: Set<string> | null;
  /** `live` is everything live on the node in the state (no stop or eviction of this plan touches it). */
  liveShared: boolean;
  /** The first `sharedLen` entries of `proposed` are `live`, when it is shared (0 otherwise). */
  sharedLen: number;
  /** The plan placed something here since `proposed` was built. */
  dirty: boolean;
  /** How many of the plan's placements on the node `proposed` and `usage` include (-1: none yet). */
  placedLen: number;
  proposed: readonly Allocation[];
  /** `proposed` once this plan added to it (a copy of `live` that grows). */
  own: Allocation[] | null;
  usage: ResourceVector;
  capacity: ResourceVector;
  /** The last fit computed against `usage`: for which ask, and its outcome. */
  fitAsk: ResourceVector | null;
  fitDim: Dimension | null;
  fitScore: number;
  /** The group `collisionCount` was counted for (null: not counted since the view was built). */
  collisionGroup: string | null;
  collisionCount: number;
}

export class NodeViews {
  private readonly views: (NodeView | undefined)[];

  constructor(
    private readonly state: SchedulerState,
    private readonly plan: Plan,
    /**
     * The candidates, with their IDs and capacities in the same order: a view is built
     * without reading the node object (a few cache misses per node visited).
     */
    private readonly candidates: Pick<Candidates, 'ids' | 'capacities'>,
  ) {
    this.views = new Array<NodeView | undefined>(candidates.ids.length);
  }

  /** The view of the node at `pos`, cached: rebuilt only when the plan placed something new there. */
  at(pos: number): NodeView {
    let v = this.views[pos];
    if (v !== undefined && !v.dirty) return v;
    const nodeId = this.candidates.ids[pos]!;
    if (v === undefined) {
      const stops = this.plan.NodeUpdate[nodeId];
      const stopping = stops === undefined ? null : new Set(stops.map((a) => a.ID));
      const all = this.state.allocsByNode(nodeId);
      const derived = stopping === null ? liveAllocs(all) : null;
      const live = derived !== null ? derived.live : all.filter((a) => !isAllocTerminal(a) && !stopping!.has(a.ID));
      const capacity = this.candidates.capacities[pos]!;
      v = { live, liveUsage: derived?.usage ?? null, liveIds: null, liveShared: derived !== null, sharedLen: 0, dirty: true, placedLen: -1, proposed: live, own: null, usage: ZERO, capacity, fitAsk: null, fitDim: null, fitScore: 0, collisionGroup: null, collisionCount: 0 };
      this.views[pos] = v;
    }
    const placed = this.plan.NodeAllocation[nodeId] ?? [];
    if (v.placedLen >= 0 && v.placedLen <= placed.length && this.appendOnly(v, placed)) {
      // The common case: new allocations joined the node; add them rather than re-summing.
      if (v.own === null) {
        v.proposed = v.own = [...v.live];
        v.sharedLen = v.liveShared ? v.live.length : 0;
      }
      const own = v.own;
      const usage = { ...v.usage };
      for (let k = v.placedLen; k < placed.length; k++) {
        const a = placed[k]!;
        own.push(a);
        if (!isAllocTerminal(a)) addInto(usage, allocatedVector(a.AllocatedResources));
      }
      v.usage = usage;
    } else if (placed.length === 0) {
      v.proposed = v.live;
      v.own = null;
      v.sharedLen = v.liveShared ? v.live.length : 0;
      v.usage = v.liveUsage ?? (v.live.length === 0 ? ZERO : nodeUsage(v.live));
    } else {
      // Some placement replaces a live allocation (an in-place update): rebuild.
      const replaced = new Set(placed.map((a) => a.ID));
      v.proposed = v.own = [...v.live.filter((a) => !replaced.has(a.ID)), ...placed];
      v.sharedLen = 0;
      v.usage = nodeUsage(v.proposed);
    }
    v.placedLen = placed.length;
    v.fitAsk = null;
    v.collisionGroup = null;
    v.dirty = false;
    return v;
  }

  /** The plan placed something on the node at `pos`: its view is brought up to date when next asked for. */
  touch(pos: number): void {
    const v = this.views[pos];
    if (v !== undefined) v.dirty = true;
  }

  /** Replace what a node runs from before the plan (preemption evicts some of it). */
  setLive(view: NodeView, live: readonly Allocation[]): void {
    view.live = live;
    view.liveShared = false;
    view.sharedLen = 0;
    view.liveUsage = null;
    view.liveIds = null;
    view.placedLen = -1;
    view.dirty = true;
  }

  /** Do the placements added since the view was built all add to the node (none replaces a live allocation)? */
  private appendOnly(v: NodeView, placed: Allocation[]): boolean {
    if (v.live.length === 0) return true;
    v.liveIds ??= new Set(v.live.map((a) => a.ID));
    for (let k = v.placedLen; k < placed.length; k++) if (v.liveIds.has(placed[k]!.ID)) return false;
    return true;
  }
}
