/**
 * Job plan (dry run): what registering a job would do, without doing it. The real generic
 * scheduler runs against a state snapshot in which the submitted job replaces the stored one,
 * with a planner that records the plan instead of committing it. The answer has Nomad's
 * JobPlanResponse shape: per-group desired updates, placement failures and a job diff.
 */
import { randomUUID } from 'node:crypto';
import type { Allocation } from '../../structs/alloc.js';
import { isAllocTerminal } from '../../structs/alloc.js';
import type { AllocMetric, Evaluation } from '../../structs/eval.js';
import type { Job } from '../../structs/job.js';
import type { Plan } from '../../structs/plan.js';
import { assertValidJob } from '../../structs/job-validate.js';
import { ALLOC_UPDATING } from '../../scheduler/reconcile.js';
import type { Planner, SchedulerState } from '../../scheduler/scheduler-api.js';
import { jobSpecChanged } from './fsm.js';
import { diffJobs, type JobDiff } from './job-diff.js';
import type { StateStore } from './state/state-store.js';
import { schedulerFor } from './worker.js';

/** Nomad's DesiredUpdates, per task group. */
export interface DesiredUpdates {
  Ignore: number;
  Place: number;
  Migrate: number;
  Stop: number;
  InPlaceUpdate: number;
  DestructiveUpdate: number;
  Canary: number;
  Preemptions: number;
}

export interface JobPlanResponse {
  Annotations: { DesiredTGUpdates: Record<string, DesiredUpdates>; PreemptedAllocs: null };
  FailedTGAllocs: Record<string, AllocMetric> | null;
  JobModifyIndex: number;
  CreatedEvals: Evaluation[] | null;
  Diff: JobDiff | null;
  NextPeriodicLaunch: null;
  Warnings: string;
  Index: number;
}

function emptyUpdates(): DesiredUpdates {
  return { Ignore: 0, Place: 0, Migrate: 0, Stop: 0, InPlaceUpdate: 0, DestructiveUpdate: 0, Canary: 0, Preemptions: 0 };
}

export async function planJob(state: StateStore, incoming: Job, wantDiff: boolean, now: () => number): Promise<JobPlanResponse> {
  assertValidJob(incoming);
  const snap = state.snapshot();
  try {
    const prev = snap.jobById(incoming.Namespace, incoming.ID);
    const index = snap.latestIndex();
    // The job as the FSM would store it if it were registered now.
    const changed = prev === null || jobSpecChanged(prev, incoming);
    const next: Job =
      prev === null
        ? { ...incoming, Version: 0, CreateIndex: index + 1, ModifyIndex: index + 1, JobModifyIndex: index + 1 }
        : changed
          ? { ...incoming, Version: prev.Version + 1, CreateIndex: prev.CreateIndex, ModifyIndex: index + 1, JobModifyIndex: index + 1 }
          : prev;
    const view: SchedulerState = {
      latestIndex: () => index,
      jobById: (ns, id) => (ns === next.Namespace && id === next.ID ? next : snap.jobById(ns, id)),
      nodes: () => snap.nodes(),
      nodeById: (id) => snap.nodeById(id),
      allocsByJob: (ns, id) => snap.allocsByJob(ns, id),
      allocsByNode: (id) => snap.allocsByNode(id),
    };
    let recorded: Plan | null = null;
    let failed: Record<string, AllocMetric> | null = null;
    const planner: Planner = {
      submitPlan: async (plan) => {
        recorded = plan;
        return { result: { NodeUpdate: plan.NodeUpdate, NodeAllocation: plan.NodeAllocation, RefreshIndex: 0, AllocIndex: index }, refreshedState: null };
      },
      updateEval: async (ev) => {
        if (ev.FailedTGAllocs) failed = ev.FailedTGAllocs;
      },
      createEval: async () => undefined,
    };
    const ev: Evaluation = {
      ID: randomUUID(), Namespace: next.Namespace, Priority: next.Priority, Type: next.Type, TriggeredBy: 'job-register', JobID: next.ID,
      JobModifyIndex: next.JobModifyIndex, NodeID: '', NodeModifyIndex: 0, DeploymentID: '', Status: 'pending', StatusDescription: '', Wait: 0,
      WaitUntil: 0, NextEval: '', PreviousEval: '', BlockedEval: '', FailedTGAllocs: null, ClassEligibility: null, EscapedComputedClass: false,
      QueuedAllocations: {}, SnapshotIndex: index, CreateIndex: 0, ModifyIndex: 0, CreateTime: now(), ModifyTime: now(),
    };
    // The same scheduler the job's evaluations get (system jobs plan one allocation per node).
    await schedulerFor(ev, view, planner, { now, random: Math.random, newId: randomUUID }).process(ev);
    const existing = snap.allocsByJob(next.Namespace, next.ID);
    return {
      Annotations: { DesiredTGUpdates: desiredUpdates(next, existing, recorded), PreemptedAllocs: null },
      FailedTGAllocs: failed,
      JobModifyIndex: prev?.JobModifyIndex ?? 0,
      CreatedEvals: null,
      Diff: wantDiff ? diffJobs(prev, incoming) : null,
      NextPeriodicLaunch: null,
      Warnings: '',
      Index: index,
    };
  } finally {
    snap.release();
  }
}

/** Count, per group, what the plan does to the job's allocations (Nomad's plan annotations). */
function desiredUpdates(job: Job, existing: Allocation[], plan: Plan | null): Record<string, DesiredUpdates> {
  const out: Record<string, DesiredUpdates> = {};
  const of = (g: string): DesiredUpdates => (out[g] ??= emptyUpdates());
  for (const tg of job.TaskGroups) of(tg.Name);
  const existingIds = new Set(existing.map((a) => a.ID));
  const touched = new Set<string>();
  let destructive: Record<string, number> = {};
  if (plan !== null) {
    const p: Plan = plan;
    destructive = {};
    for (const a of Object.values(p.NodeUpdate).flat()) {
      touched.add(a.ID);
      if (a.DesiredDescription === ALLOC_UPDATING) {
        of(a.TaskGroup).DestructiveUpdate++;
        destructive[a.TaskGroup] = (destructive[a.TaskGroup] ?? 0) + 1;
      } else {
        of(a.TaskGroup).Stop++;
      }
    }
    for (const a of Object.values(p.NodeAllocation).flat()) {
      if (existingIds.has(a.ID)) {
        touched.add(a.ID);
        of(a.TaskGroup).InPlaceUpdate++;
      } else if ((destructive[a.TaskGroup] ?? 0) > 0) {
        // The replacement half of a destructive update is not a new placement.
        destructive[a.TaskGroup]!--;
      } else if (a.DeploymentStatus?.Canary === true) {
        // A canary of the new version, beside the old allocations (which count as ignored).
        of(a.TaskGroup).Canary++;
      } else {
        of(a.TaskGroup).Place++;
      }
    }
  }
  for (const a of existing) {
    if (!touched.has(a.ID) && !isAllocTerminal(a)) of(a.TaskGroup).Ignore++;
  }
  return out;
}
