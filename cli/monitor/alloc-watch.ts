/**
 * After the evaluation placed a job version's allocations, waits until each one has
 * settled — running for service/system jobs, finished for batch/sysbatch — printing
 * every status change. Blocking queries on the job's allocation list drive it.
 */
import type { ApiClient } from '../../api/client.js';
import type { JobType } from '../../structs/job.js';
import { limit } from '../format/table.js';
import { DEFAULT_WAIT_MS, paceBlockingQuery } from './blocking.js';
import { allocChangeLines, allocSnapshots } from './eval-state.js';
import type { AllocSnapshot } from './eval-state.js';
import type { MonitorUi } from './monitor-ui.js';

export interface WaitState {
  /** Every allocation of the version has reached a state it will not leave by itself. */
  done: boolean;
  failed: AllocSnapshot[];
  total: number;
}

/** Batch work is done when it finished; services when they run (or ended on their own). */
export function isAllocSettled(jobType: JobType, clientStatus: string): boolean {
  switch (clientStatus) {
    case 'failed':
    case 'lost':
    case 'complete':
      return true;
    case 'running':
      return jobType === 'service' || jobType === 'system';
    default:
      return false;
  }
}

export function waitState(jobType: JobType, allocs: ReadonlyMap<string, AllocSnapshot>): WaitState {
  const all = [...allocs.values()];
  return {
    done: all.every((a) => isAllocSettled(jobType, a.client)),
    failed: all.filter((a) => a.client === 'failed' || a.client === 'lost').sort((a, b) => (a.id < b.id ? -1 : 1)),
    total: all.length,
  };
}

export interface WatchTarget {
  ID: string;
  Type: JobType;
  Version: number;
}

export async function watchJobAllocations(
  client: ApiClient,
  job: WatchTarget,
  known: ReadonlyMap<string, AllocSnapshot>,
  ui: MonitorUi,
  opts: { idLen: number; signal?: AbortSignal | undefined; waitMs?: number },
): Promise<WaitState> {
  let prev = new Map(known);
  let index = 0;
  for (;;) {
    const started = Date.now();
    const q = await client.jobs.allocations(job.ID, {
      index,
      waitMs: opts.waitMs ?? DEFAULT_WAIT_MS,
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    });
    // Only this version's allocations that are meant to run; stopped ones are on their way out.
    const mine = (q.data ?? []).filter((a) => a.JobVersion === job.Version && a.DesiredStatus === 'run');
    const next = allocSnapshots(mine);
    for (const line of allocChangeLines(prev, next, 0, opts.idLen)) ui.output(line);
    prev = next;
    const state = waitState(job.Type, next);
    if (state.done) {
      reportOutcome(job, state, ui, opts.idLen);
      return state;
    }
    await paceBlockingQuery(index, q.index, started, Date.now(), opts.signal);
    index = Math.max(index, q.index);
  }
}

function reportOutcome(job: WatchTarget, state: WaitState, ui: MonitorUi, idLen: number): void {
  const what = `job "${job.ID}" (version ${job.Version})`;
  if (state.total === 0) return;
  if (state.failed.length === 0) {
    const verb = job.Type === 'batch' || job.Type === 'sysbatch' ? 'complete' : 'running';
    ui.info(`All ${state.total} allocation${state.total === 1 ? '' : 's'} of ${what} ${state.total === 1 ? 'is' : 'are'} ${verb}`);
    return;
  }
  ui.info(`${state.failed.length} of ${state.total} allocation${state.total === 1 ? '' : 's'} of ${what} failed`);
  for (const a of state.failed) {
    ui.output(`Allocation "${limit(a.id, idLen)}" ${a.client}; see "yurt alloc status ${limit(a.id, idLen)}"`);
  }
}
