/**
 * Garbage collection, the leader's core job (Nomad's CoreScheduler: evalGC, jobGC, nodeGC).
 * The leader decides what is old and finished enough to forget and removes it through one
 * typed Raft command (GcApply), so every server forgets the same things. Thresholds default
 * to Nomad's server config: eval_gc_threshold 1h, job_gc_threshold 4h, node_gc_threshold 24h,
 * deployment_gc_threshold 1h.
 */
import { isAllocTerminal, type Allocation } from '../../structs/alloc.js';
import { isDeploymentActive } from '../../structs/deployment.js';
import { isEvalTerminal } from '../../structs/eval.js';
import type { Job } from '../../structs/job.js';
import type { FsmCommand } from './fsm-commands.js';
import type { StateReader } from './state/state-reader.js';

export interface GcConfig {
  evalGcThresholdMs: number;
  jobGcThresholdMs: number;
  nodeGcThresholdMs: number;
  deploymentGcThresholdMs: number;
  /** How often the leader runs the collector on its own. */
  intervalMs: number;
}

export const DEFAULT_GC_CONFIG: GcConfig = {
  evalGcThresholdMs: 60 * 60_000,
  jobGcThresholdMs: 4 * 60 * 60_000,
  nodeGcThresholdMs: 24 * 60 * 60_000,
  deploymentGcThresholdMs: 60 * 60_000,
  intervalMs: 5 * 60_000,
};

export type GcCommand = Extract<FsmCommand, { type: 'GcApply' }>;

/** Jobs whose history is kept while they live: a batch job's evaluations say how it ran. */
function keepsHistory(job: Job | null): boolean {
  return job !== null && job.Type === 'batch' && job.Status !== 'dead';
}

function isDead(job: Job | null): boolean {
  return job === null || job.Status === 'dead';
}

/**
 * What to collect now. `nowNs` is Unix nanoseconds; with `force` every threshold is zero
 * (PUT /v1/system/gc, as in Nomad). Returns null when there is nothing to collect.
 */
export function collectGarbage(state: StateReader, cfg: GcConfig, nowNs: number, force = false): GcCommand | null {
  const older = (ns: number, thresholdMs: number): boolean => force || ns <= nowNs - thresholdMs * 1e6;
  const allocIds = new Set<string>();
  const evalIds = new Set<string>();
  const jobs: Array<{ namespace: string; id: string }> = [];
  const jobCache = new Map<string, Job | null>();
  const jobOf = (ns: string, id: string): Job | null => {
    const k = `${ns}\u0000${id}`;
    if (!jobCache.has(k)) jobCache.set(k, state.jobById(ns, id));
    return jobCache.get(k)!;
  };
  const oldTerminal = (a: Allocation, thresholdMs: number): boolean => isAllocTerminal(a) && older(a.ModifyTime, thresholdMs);

  // Dead jobs: everything about them is finished and old enough.
  for (const job of state.jobs()) {
    if (job.Status !== 'dead' || !older(job.SubmitTime, cfg.jobGcThresholdMs)) continue;
    const evals = state.evalsByJob(job.Namespace, job.ID);
    const allocs = state.allocsByJob(job.Namespace, job.ID);
    if (evals.some((e) => !isEvalTerminal(e.Status)) || allocs.some((a) => !isAllocTerminal(a))) continue;
    jobs.push({ namespace: job.Namespace, id: job.ID });
    for (const e of evals) evalIds.add(e.ID);
    for (const a of allocs) allocIds.add(a.ID);
  }

  // Old terminal evaluations, with their allocations once all of those are terminal too.
  for (const ev of state.evals()) {
    if (evalIds.has(ev.ID) || !isEvalTerminal(ev.Status) || !older(ev.ModifyTime, cfg.evalGcThresholdMs)) continue;
    if (keepsHistory(jobOf(ev.Namespace, ev.JobID))) continue;
    const allocs = state.allocsByEval(ev.ID);
    if (!allocs.every((a) => oldTerminal(a, cfg.evalGcThresholdMs))) continue;
    evalIds.add(ev.ID);
    for (const a of allocs) allocIds.add(a.ID);
  }

  // Terminal allocations of dead (or purged) jobs.
  for (const a of state.allocs()) {
    if (allocIds.has(a.ID) || !oldTerminal(a, cfg.evalGcThresholdMs)) continue;
    if (isDead(jobOf(a.Namespace, a.JobID))) allocIds.add(a.ID);
  }

  // Nodes down for long, with nothing left running on them.
  const nodeIds: string[] = [];
  for (const n of state.nodes()) {
    if (n.Status !== 'down' || !older(n.StatusUpdatedAt * 1e9, cfg.nodeGcThresholdMs)) continue;
    if (state.allocsByNode(n.ID).some((a) => !isAllocTerminal(a) && !allocIds.has(a.ID))) continue;
    nodeIds.push(n.ID);
  }

  // Finished deployments once old enough, and every deployment of a job collected now.
  const deploymentIds: string[] = [];
  const jobsGone = new Set(jobs.map((j) => `${j.namespace}\u0000${j.id}`));
  for (const d of state.deployments()) {
    const ofGoneJob = jobsGone.has(`${d.Namespace}\u0000${d.JobID}`);
    if (ofGoneJob || (!isDeploymentActive(d) && older(d.ModifyTime, cfg.deploymentGcThresholdMs))) deploymentIds.push(d.ID);
  }

  if (allocIds.size === 0 && evalIds.size === 0 && jobs.length === 0 && nodeIds.length === 0 && deploymentIds.length === 0) return null;
  return { type: 'GcApply', evalIds: [...evalIds], allocIds: [...allocIds], jobs, nodeIds, deploymentIds };
}
