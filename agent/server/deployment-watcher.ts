/**
 * The leader's deployment watcher (Nomad's nomad/deploymentwatcher). It follows every running
 * deployment and decides what happens next:
 *  - an unhealthy allocation fails it ("Failed due to unhealthy allocations"), and so does a
 *    group that made no progress by its RequireProgressBy ("Failed due to progress deadline");
 *    with auto_revert the job's latest stable version is registered again;
 *  - every group healthy at its desired total (canaries promoted) makes it successful, and the
 *    job version stable;
 *  - canaries all healthy with auto_promote promote it;
 *  - any change of health creates a `deployment-watcher` evaluation, which moves the rollout on
 *    (the next max_parallel batch).
 * Counts themselves are kept by the FSM (deployment-fsm.ts). A pass runs after any change of
 * deployments or allocations (coalesced) and on a timer for deadlines; its status changes and
 * evaluations go to Raft as one entry per pass, not one per allocation.
 */
import type { Logger } from 'pino';
import {
  DeploymentDescription,
  hasAutoPromote,
  noRollbackTargetDescription,
  requiresPromotion,
  rfc3339ToNs,
  rollbackDescription,
  rollbackNoopDescription,
  type Deployment,
  type DeploymentState,
  type DeploymentStatusUpdate,
} from '../../structs/deployment.js';
import type { Evaluation, EvalTrigger } from '../../structs/eval.js';
import type { Job } from '../../structs/job.js';
import type { FsmCommand } from './fsm-commands.js';
import { jobSpecChanged } from './fsm.js';
import type { StateChange } from './state/state-store.js';
import type { StateReader } from './state/state-reader.js';

export interface DeploymentWatcherDeps {
  state: Pick<StateReader, 'deployments' | 'jobById' | 'jobVersions'> & { onChange(cb: (c: StateChange) => void): () => void };
  apply(cmd: FsmCommand): Promise<unknown>;
  newEval(job: Job, trigger: EvalTrigger, extra: Partial<Evaluation>): Evaluation;
  /** Unix nanoseconds. */
  now(): number;
  logger: Logger;
}

/** What one pass decided: at most one batched status entry, plus one entry per revert or promotion. */
export interface WatchDecision {
  commands: FsmCommand[];
}

/** A failing deployment, and what auto_revert makes of it. */
export interface Failure {
  update: DeploymentStatusUpdate;
  revertTo: Job | null;
}

export class DeploymentWatcher {
  /** The health each deployment had at the last pass: a change means its job is evaluated again. */
  private readonly seen = new Map<string, string>();
  private off: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private pending: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly deps: DeploymentWatcherDeps,
    private readonly intervalMs = 1000,
    /** Changes arriving within this window share one pass. */
    private readonly coalesceMs = 20,
  ) {}

  start(): void {
    if (this.off) return;
    this.seen.clear();
    // Health reaches the deployment's counts in the FSM, so a change that matters is a change
    // of the deployments table; deadlines pass without one, hence the timer.
    this.off = this.deps.state.onChange((c) => {
      if (c.tables.has('deployments')) this.kick();
    });
    this.timer = setInterval(() => this.kick(), this.intervalMs);
    this.timer.unref();
    this.kick();
  }

  stop(): void {
    this.off?.();
    this.off = null;
    if (this.timer) clearInterval(this.timer);
    if (this.pending) clearTimeout(this.pending);
    this.timer = null;
    this.pending = null;
  }

  /** Schedule a pass soon; passes never overlap (a change during one runs another after it). */
  kick(): void {
    if (!this.off || this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      if (this.running) {
        this.again = true;
        return;
      }
      this.running = this.pass()
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'deployment watcher pass failed; retrying'))
        .finally(() => {
          this.running = null;
          if (this.again) {
            this.again = false;
            this.kick();
          }
        });
    }, this.coalesceMs);
    this.pending.unref();
  }

  /** One pass: decide, then commit. Resolves once its entries are applied. */
  async pass(): Promise<void> {
    const { commands } = this.decide();
    for (const cmd of commands) {
      if (!this.off) return;
      await this.deps.apply(cmd);
    }
  }

  /** What the deployments' current state calls for (no side effects but the health memory). */
  decide(): WatchDecision {
    const now = this.deps.now();
    const updates: DeploymentStatusUpdate[] = [];
    const evals: Evaluation[] = [];
    const commands: FsmCommand[] = [];
    const live = new Set<string>();
    for (const d of this.deps.state.deployments()) {
      if (d.Status !== 'running') continue;
      live.add(d.ID);
      const job = this.deps.state.jobById(d.Namespace, d.JobID);
      // A deployment of a version the job no longer has is the scheduler's to cancel.
      if (!job || job.Version !== d.JobVersion || job.CreateIndex !== d.JobCreateIndex) continue;
      const evalFor = (): Evaluation => this.deps.newEval(job, 'deployment-watcher', { DeploymentID: d.ID, Priority: d.EvalPriority || job.Priority });
      const failure = this.failure(d, job, now);
      if (failure) {
        if (failure.revertTo) {
          commands.push({ type: 'DeploymentStatusUpdate', updates: [failure.update], job: failure.revertTo, evals: [evalFor()], now });
        } else {
          updates.push(failure.update);
          evals.push(evalFor());
        }
        continue;
      }
      const groups = Object.values(d.TaskGroups);
      if (groups.length > 0 && groups.every(groupDone)) {
        updates.push({ DeploymentID: d.ID, Status: 'successful', StatusDescription: DeploymentDescription.Successful });
        continue;
      }
      if (requiresPromotion(d) && hasAutoPromote(d) && canariesHealthy(d)) {
        commands.push({ type: 'DeploymentPromote', deploymentId: d.ID, all: true, groups: [], evals: [evalFor()], now });
        continue;
      }
      const health = healthSignature(d);
      const before = this.seen.get(d.ID);
      this.seen.set(d.ID, health);
      // First sight (a new leader) with verdicts already in: evaluate once, in case one was missed.
      const anyVerdict = groups.some((g) => g.HealthyAllocs + g.UnhealthyAllocs > 0);
      if (before === undefined ? anyVerdict : before !== health) evals.push(evalFor());
    }
    for (const id of this.seen.keys()) if (!live.has(id)) this.seen.delete(id);
    if (updates.length > 0 || evals.length > 0) commands.unshift({ type: 'DeploymentStatusUpdate', updates, job: null, evals, now });
    return { commands };
  }

  private failure(d: Deployment, job: Job, now: number): Failure | null {
    const groups = Object.values(d.TaskGroups);
    let base: string | null = null;
    if (groups.some((g) => g.UnhealthyAllocs > 0)) base = DeploymentDescription.FailedAllocations;
    else if (groups.some((g) => !groupDone(g) && rfc3339ToNs(g.RequireProgressBy) > 0 && now > rfc3339ToNs(g.RequireProgressBy))) base = DeploymentDescription.ProgressDeadline;
    return base === null ? null : deploymentFailure(this.deps.state, d, job, base);
  }
}

/**
 * A deployment failing for `base` (a Nomad description), and what auto_revert makes of it:
 * Nomad's latestStableJob is the newest version marked stable other than the failing one; it
 * is registered again only when its spec differs from the job's.
 */
export function deploymentFailure(state: Pick<StateReader, 'jobVersions'>, d: Deployment, job: Job, base: string): Failure {
  const update: DeploymentStatusUpdate = { DeploymentID: d.ID, Status: 'failed', StatusDescription: base };
  if (!Object.values(d.TaskGroups).some((g) => g.AutoRevert)) return { update, revertTo: null };
  const stable = state.jobVersions(d.Namespace, d.JobID).find((v) => v.Stable && v.Version !== d.JobVersion) ?? null;
  if (stable === null) return { update: { ...update, StatusDescription: noRollbackTargetDescription(base) }, revertTo: null };
  if (!jobSpecChanged(stable, job)) return { update: { ...update, StatusDescription: rollbackNoopDescription(base, stable.Version) }, revertTo: null };
  return { update: { ...update, StatusDescription: rollbackDescription(base, stable.Version) }, revertTo: { ...stable, Stop: false } };
}

/** A group is done when its desired total is healthy and its canaries (if any) were promoted. */
function groupDone(g: DeploymentState): boolean {
  return g.HealthyAllocs >= g.DesiredTotal && (g.DesiredCanaries === 0 || g.Promoted);
}

/** Every group waiting for promotion has its canaries placed and healthy. */
function canariesHealthy(d: Deployment): boolean {
  return Object.values(d.TaskGroups).every((g) => g.DesiredCanaries === 0 || g.Promoted || (g.PlacedCanaries.length >= g.DesiredCanaries && g.HealthyAllocs >= g.DesiredCanaries));
}

function healthSignature(d: Deployment): string {
  return JSON.stringify(Object.entries(d.TaskGroups).map(([name, g]) => [name, g.HealthyAllocs, g.UnhealthyAllocs, g.Promoted]));
}
