/**
 * What a placement stack knows about a task group: the facts fixed for the evaluation (worked
 * out on the group's first placement, with its feasibility caches) and the per-placement round.
 */
import type { Allocation } from '../structs/alloc.js';
import type { Affinity, Spread } from '../structs/constraint.js';
import type { Job, TaskGroup } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import { taskGroupAsk, type ResourceVector } from './bin-pack.js';
import { groupWantsDevices } from './devices.js';
import type { EquivalenceIndex } from './equivalence-index.js';
import { groupEscapesClass, targetEscapes } from './node-class.js';
import { SpreadScore } from './spread-score.js';

/** Feasibility not decided yet for a position; 0 (FEASIBLE) means feasible, >0 is a filter kind. */
export const UNKNOWN = -1;

/** Everything about a group that stays fixed for the evaluation. */
export interface GroupPlan {
  tg: TaskGroup;
  affinities: Affinity[];
  affinityWeight: number;
  /** Affinities and spreads need every node scored (Nomad lifts the limit for them). */
  unlimited: boolean;
  escaped: boolean;
  ask: ResourceVector;
  wantsDevices: boolean;
  hasNetworks: boolean;
  hasDistinct: boolean;
  spreads: Spread[];
  spread: SpreadScore | null;
  /** Equal keys score equally: no ports, devices, distinct or unique-attribute rules. */
  shortcut: boolean;
  /** Feasibility per position: UNKNOWN, FEASIBLE or a filter kind. */
  verdict: Int32Array;
  /** Feasibility per computed class, as FEASIBLE or a filter kind. */
  kindByClassId: number[];
  /** Positions that pass feasibility, ascending (built when every node must be scored). */
  feasible: number[] | null;
  /** Filtered nodes per kind, for the bulk count of an exhaustive walk. */
  filteredKinds: Map<number, number>;
  index: EquivalenceIndex | null;
  /** Static part of a position's equivalence key. */
  staticKey: string[];
  /** Live allocations of the group per node in the state (existingOf). */
  existing: Map<string, number> | null;
}

/** What changes from one placement to the next: distinct rules read the plan as it grows. */
export interface Round {
  g: GroupPlan;
  distinct: ((node: Node, proposed: readonly Allocation[]) => string | null) | null;
  penalty: ReadonlySet<string> | null;
}

/** The group's fixed facts, for a stack over `nodeCount` candidate nodes. */
export function planGroup(job: Job, tg: TaskGroup, nodeCount: number): GroupPlan {
  const affinities = [...job.Affinities, ...tg.Affinities, ...tg.Tasks.flatMap((t) => t.Affinities)];
  const spreads = [...job.Spreads, ...tg.Spreads];
  const escaped = groupEscapesClass(job, tg);
  const hasDistinct = [...job.Constraints, ...tg.Constraints].some((c) => c.Operand === 'distinct_hosts' || c.Operand === 'distinct_property');
  const wantsDevices = groupWantsDevices(tg);
  return {
    tg,
    affinities,
    affinityWeight: affinities.reduce((s, a) => s + Math.abs(a.Weight), 0),
    unlimited: affinities.length > 0 || spreads.length > 0 || tg.Tasks.some((t) => t.Resources.Devices.some((d) => d.Affinities.length > 0)),
    escaped,
    ask: taskGroupAsk(tg),
    wantsDevices,
    hasNetworks: tg.Networks.length > 0,
    hasDistinct,
    spreads,
    spread: spreads.length > 0 ? new SpreadScore(tg, spreads) : null,
    shortcut:
      !escaped &&
      tg.Networks.length === 0 &&
      !wantsDevices &&
      !hasDistinct &&
      !affinities.some((a) => targetEscapes(a.LTarget) || targetEscapes(a.RTarget)) &&
      !spreads.some((sp) => targetEscapes(sp.Attribute)),
    verdict: new Int32Array(nodeCount).fill(UNKNOWN),
    kindByClassId: [],
    feasible: null,
    filteredKinds: new Map(),
    index: null,
    staticKey: [],
    existing: null,
  };
}
