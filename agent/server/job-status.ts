/**
 * Derived job state: the status Nomad reports for a job (pending / running / dead) and the
 * per-group summary counts, both computed from allocations and evaluations.
 */
import { isAllocTerminal, type Allocation } from '../../structs/alloc.js';
import { isEvalTerminal, type Evaluation } from '../../structs/eval.js';
import type { Job, JobStatus, JobSummary, TaskGroupSummary } from '../../structs/job.js';

/**
 * Nomad's rule (state_store.go getJobStatus): system/periodic/parameterized jobs run until
 * stopped. Allocations and evaluations are asked for only as far as the answer needs them:
 * the FSM decides this after every plan, and one live allocation already settles it.
 */
export function computeJobStatus(job: Job, allocs: () => readonly Pick<Allocation, 'DesiredStatus' | 'ClientStatus'>[], evals: () => readonly Evaluation[]): JobStatus {
  if (job.Type === 'system' || job.Periodic?.Enabled === true || job.ParameterizedJob !== undefined) {
    return job.Stop ? 'dead' : 'running';
  }
  const as = allocs();
  if (as.some((a) => !isAllocTerminal(a))) return 'running';
  const es = evals();
  if (es.some((e) => !isEvalTerminal(e.Status))) return 'pending';
  if (as.length > 0 || es.length > 0) return 'dead';
  return 'pending';
}

export function emptyGroupSummary(): TaskGroupSummary {
  return { Queued: 0, Complete: 0, Failed: 0, Running: 0, Starting: 0, Lost: 0, Unknown: 0 };
}

export function computeJobSummary(job: Job, allocs: Allocation[], evals: Evaluation[]): JobSummary {
  const summary: Record<string, TaskGroupSummary> = {};
  for (const tg of job.TaskGroups) summary[tg.Name] = emptyGroupSummary();
  for (const a of allocs) {
    const s = summary[a.TaskGroup] ?? (summary[a.TaskGroup] = emptyGroupSummary());
    switch (a.ClientStatus) {
      case 'pending':
        if (a.DesiredStatus === 'run') s.Starting++;
        break;
      case 'running':
        s.Running++;
        break;
      case 'complete':
        s.Complete++;
        break;
      case 'failed':
        s.Failed++;
        break;
      case 'lost':
        s.Lost++;
        break;
      case 'unknown':
        s.Unknown++;
        break;
    }
  }
  // Queued: what the latest evaluation could not place and is still waiting (blocked) to place.
  const blocked = evals.filter((e) => e.Status === 'blocked').sort((x, y) => y.CreateIndex - x.CreateIndex)[0];
  if (blocked) {
    for (const [group, n] of Object.entries(blocked.QueuedAllocations)) {
      const s = summary[group];
      if (s) s.Queued = n;
    }
  }
  return { JobID: job.ID, Namespace: job.Namespace, Summary: summary, CreateIndex: job.CreateIndex, ModifyIndex: job.ModifyIndex };
}
