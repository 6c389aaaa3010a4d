/**
 * The node drainer, run by the leader. For every node with a drain strategy it moves the
 * node's allocations elsewhere, following Nomad's drainer (nomad/drainer):
 *
 * - service allocations migrate a few at a time: per task group, only as many as keep
 *   `count - migrate.max_parallel` allocations running (Nomad counts healthy ones; we count
 *   those the client reports running), so a drain never takes a service below that;
 * - batch allocations are left to finish and only stopped at the deadline;
 * - system allocations go last, after everything else has left, unless the drain ignores
 *   system jobs (then they stay);
 * - at the deadline (or at once for a forced drain, Deadline < 0) whatever remains is stopped;
 * - when nothing remains the drain is cleared; the node stays ineligible.
 *
 * A migration is a stop with `DesiredTransition.Migrate` plus an evaluation for the job, so
 * the scheduler places the replacement on another (eligible, non-draining) node. Every change
 * goes through Raft as a typed command.
 */
import { isAllocTerminal, type Allocation } from '../../structs/alloc.js';
import type { Evaluation } from '../../structs/eval.js';
import type { Job } from '../../structs/job.js';
import type { Node } from '../../structs/node.js';
import type { AllocDesiredUpdate, FsmCommand } from './fsm-commands.js';
import type { StateReader } from './state/state-reader.js';

export const DRAIN_DESCRIPTION = 'alloc is being migrated due to node drain';
export const DRAIN_FORCED_DESCRIPTION = 'alloc stopped at the node drain deadline';

export interface DrainerDeps {
  state: StateReader;
  apply: (cmd: FsmCommand) => Promise<unknown>;
  newEval: (job: Job, nodeId: string) => Evaluation;
  now: () => number;
}

function isSystem(job: Job): boolean {
  return job.Type === 'system' || job.Type === 'sysbatch';
}

export class NodeDrainer {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  /**
   * Nodes with a drain strategy. Kept up to date from the nodes each write touched, so a pass
   * costs nothing when no node drains: scanning every node on every allocation change is
   * O(nodes) per Raft entry, which large clusters cannot afford.
   */
  private readonly draining = new Set<string>();

  constructor(
    private readonly deps: DrainerDeps,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.timer) return;
    this.rescan();
    this.timer = setInterval(() => this.kick(), this.intervalMs);
    this.timer.unref();
    this.kick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Run a pass soon; passes never overlap (each awaits its Raft applies before the next reads state). */
  kick(): void {
    if (!this.timer) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch((err: unknown) => this.onError(err))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Re-reads which nodes drain (leadership gained, state restored from a snapshot). */
  rescan(): void {
    this.draining.clear();
    for (const node of this.deps.state.nodes()) if (node.DrainStrategy !== null) this.draining.add(node.ID);
  }

  /** Nodes a write touched: their drain strategy may have been set, cleared, or removed. */
  nodesChanged(ids: Iterable<string>): void {
    for (const id of ids) {
      if (this.deps.state.nodeById(id)?.DrainStrategy != null) this.draining.add(id);
      else this.draining.delete(id);
    }
  }

  /** One pass over every draining node. Exposed for tests. */
  async pass(): Promise<void> {
    if (this.timer === null) this.rescan();
    for (const id of [...this.draining]) {
      const node = this.deps.state.nodeById(id);
      if (node?.DrainStrategy != null) await this.drainNode(node);
    }
  }

  private async drainNode(node: Node): Promise<void> {
    const s = node.DrainStrategy!;
    const now = this.deps.now();
    const forced = s.Deadline < 0 || (s.ForceDeadline > 0 && now >= s.ForceDeadline);
    const live = this.deps.state.allocsByNode(node.ID).filter((a) => !isAllocTerminal(a));
    const system = live.filter((a) => isSystem(a.Job));
    const others = live.filter((a) => !isSystem(a.Job));

    const stops: Array<{ alloc: Allocation; description: string }> = [];
    if (forced) {
      for (const a of others) stops.push({ alloc: a, description: DRAIN_FORCED_DESCRIPTION });
    } else {
      for (const a of this.serviceMigrations(others)) stops.push({ alloc: a, description: DRAIN_DESCRIPTION });
    }
    // System allocations serve the node itself: they leave last, once everything else is gone.
    const remainingOthers = others.length - stops.length;
    if (!s.IgnoreSystemJobs && remainingOthers === 0) {
      for (const a of system) stops.push({ alloc: a, description: forced ? DRAIN_FORCED_DESCRIPTION : DRAIN_DESCRIPTION });
    }

    if (stops.length > 0) {
      const updates: AllocDesiredUpdate[] = stops.map(({ alloc, description }) => ({
        ID: alloc.ID,
        DesiredStatus: 'stop',
        DesiredDescription: description,
        DesiredTransition: { ...alloc.DesiredTransition, Migrate: true },
      }));
      const evals: Evaluation[] = [];
      const seen = new Set<string>();
      for (const { alloc } of stops) {
        const key = `${alloc.Namespace}\u0000${alloc.JobID}`;
        if (seen.has(key) || isSystem(alloc.Job)) continue;
        seen.add(key);
        const job = this.deps.state.jobById(alloc.Namespace, alloc.JobID);
        if (job) evals.push(this.deps.newEval(job, node.ID));
      }
      await this.deps.apply({ type: 'AllocDesiredUpdate', updates, evals, now });
    }

    const remaining = remainingOthers + (s.IgnoreSystemJobs ? 0 : system.length - stops.filter((x) => isSystem(x.alloc.Job)).length);
    if (remaining === 0) {
      // Drain complete: clear the strategy; eligibility stays as it is (ineligible), as in Nomad.
      await this.deps.apply({ type: 'NodeUpdateDrain', nodeId: node.ID, drain: null, markEligible: false, evals: [], now });
    }
  }

  /**
   * Which service allocations may migrate now. Per task group (Nomad's handleTaskGroup):
   * `running - (count - max_parallel)` of them, where `running` counts the group's live
   * allocations the clients report running anywhere in the cluster.
   */
  private serviceMigrations(candidates: Allocation[]): Allocation[] {
    const byGroup = new Map<string, Allocation[]>();
    for (const a of candidates) {
      if (a.Job.Type !== 'service') continue;
      const key = JSON.stringify([a.Namespace, a.JobID, a.TaskGroup]);
      const list = byGroup.get(key) ?? [];
      list.push(a);
      byGroup.set(key, list);
    }
    const out: Allocation[] = [];
    for (const [key, list] of byGroup) {
      const [ns, jobId, group] = JSON.parse(key) as [string, string, string];
      const job = this.deps.state.jobById(ns, jobId);
      const tg = job?.TaskGroups.find((g) => g.Name === group);
      if (!job || job.Stop || !tg) {
        // Nothing to keep running: the job is gone or stopped, so these may all go now.
        out.push(...list);
        continue;
      }
      const maxParallel = Math.max(1, tg.Migrate?.MaxParallel ?? 1);
      const running = this.deps.state
        .allocsByJob(ns, jobId)
        .filter((a) => a.TaskGroup === group && !isAllocTerminal(a) && a.ClientStatus === 'running').length;
      const allowed = Math.max(0, running - (tg.Count - maxParallel));
      // Prefer allocations that are not running yet: moving them costs no running capacity.
      const ordered = [...list].sort((x, y) => Number(x.ClientStatus === 'running') - Number(y.ClientStatus === 'running'));
      out.push(...ordered.slice(0, Math.min(allowed, ordered.length)));
    }
    return out;
  }
}
