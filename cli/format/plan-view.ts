/**
 * `yurt job plan` output and exit code, as Nomad's `nomad job plan` (command/job_plan.go):
 * the diff, "Scheduler dry-run:" with placement failures, warnings, then the job modify
 * index to pass to `job run -check-index`.
 */
import type { JobPlanResponse } from '../../api/job-plan.js';
import type { JobType } from '../../structs/job.js';
import { formatJobDiff } from './job-diff.js';
import { formatAllocMetrics, failedGroupHeader } from './placement.js';

/** Exit codes of `job plan`: 0 nothing would change, 1 allocations would change, 255 error. */
export const PLAN_NO_CHANGE = 0;
export const PLAN_CHANGES = 1;
export const PLAN_ERROR = 255;

/** 1 when the dry run would create, stop, migrate, replace or canary any allocation. */
export function planExitCode(resp: JobPlanResponse): number {
  for (const d of Object.values(resp.Annotations?.DesiredTGUpdates ?? {})) {
    if (d.Stop + d.Place + d.Migrate + d.DestructiveUpdate + d.Canary > 0) return PLAN_CHANGES;
  }
  return PLAN_NO_CHANGE;
}

export function formatDryRun(resp: JobPlanResponse, jobType: JobType): string {
  const failed = resp.FailedTGAllocs ?? {};
  const groups = Object.keys(failed).sort();
  if (groups.length === 0) return '- All tasks successfully allocated.';
  const lines = [jobType === 'system' ? '- WARNING: Failed to place allocations on all nodes.' : '- WARNING: Failed to place all allocations.'];
  for (const tg of groups) {
    const m = failed[tg];
    if (m === undefined) continue;
    lines.push(`  ${failedGroupHeader(tg, m)}`, ...formatAllocMetrics(m, false, '    '), '');
  }
  return lines.join('\n').trimEnd();
}

export function formatJobModifyIndex(index: number, path: string): string {
  return `Job Modify Index: ${index}
To submit the job with version verification run:

yurt job run -check-index ${index} ${path}

When running the job with the check-index flag, the job will only be run if the
job modify index given matches the server-side version. If the index has
changed, another user has modified the job and the plan's results are
potentially invalid.`;
}

export function formatPlan(resp: JobPlanResponse, opts: { jobType: JobType; path: string; diff: boolean; verbose: boolean }): string {
  const parts: string[] = [];
  if (opts.diff && resp.Diff !== null && resp.Diff !== undefined) {
    parts.push(`${formatJobDiff(resp.Diff, opts.verbose, resp.Annotations?.DesiredTGUpdates ?? null)}\n`);
  }
  parts.push('Scheduler dry-run:', formatDryRun(resp, opts.jobType), '');
  if (resp.Warnings !== '' && resp.Warnings !== undefined) parts.push(`Job Warnings:\n${resp.Warnings}\n`);
  parts.push(formatJobModifyIndex(resp.JobModifyIndex, opts.path));
  return parts.join('\n');
}
