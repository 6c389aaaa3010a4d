/** `yurt status` / `yurt job status` output, laid out as Nomad's `nomad job status`. */
import type { Deployment } from '../../structs/deployment.js';
import { formatLatestDeployment } from './deployment-view.js';
import type { AllocListStub } from '../../structs/alloc.js';
import type { Evaluation } from '../../structs/eval.js';
import type { Job, JobListStub, JobStatus, JobSummary } from '../../structs/job.js';
import { formatFailedPlacements } from './placement.js';
import { formatKV, formatList, limit } from './table.js';
import type { Row } from './table.js';
import { formatUnixNano, prettyTimeDiff, nsToMs } from './time.js';

/** Nomad stops showing failure reasons after this many groups and points at `eval status`. */
const MAX_FAILED_TGS = 5;

export function jobStatusString(status: JobStatus, stop: boolean): string {
  return stop ? `${status} (stopped)` : status;
}

function jobTypeString(j: Pick<JobListStub, 'Type' | 'Periodic' | 'ParameterizedJob'>): string {
  return `${j.Type}${j.Periodic ? '/periodic' : ''}${j.ParameterizedJob ? '/parameterized' : ''}`;
}

export function formatJobList(jobs: readonly JobListStub[]): string {
  const rows: Row[] = [['ID', 'Type', 'Priority', 'Status', 'Submit Date']];
  for (const j of jobs) {
    rows.push([j.ID, jobTypeString(j), j.Priority, jobStatusString(j.Status, j.Stop), formatUnixNano(j.SubmitTime)]);
  }
  return formatList(rows);
}

export function formatAllocListStubs(stubs: readonly AllocListStub[], verbose: boolean, idLen: number, nowMs: number): string {
  if (stubs.length === 0) return 'No allocations placed';
  const header = verbose
    ? ['ID', 'Eval ID', 'Node ID', 'Node Name', 'Task Group', 'Version', 'Desired', 'Status', 'Created', 'Modified']
    : ['ID', 'Node ID', 'Task Group', 'Version', 'Desired', 'Status', 'Created', 'Modified'];
  const rows: Row[] = [header];
  for (const a of stubs) {
    const created = verbose ? formatUnixNano(a.CreateTime) : prettyTimeDiff(nsToMs(a.CreateTime), nowMs);
    const modified = verbose ? formatUnixNano(a.ModifyTime) : prettyTimeDiff(nsToMs(a.ModifyTime), nowMs);
    rows.push(
      verbose
        ? [limit(a.ID, idLen), limit(a.EvalID, idLen), limit(a.NodeID, idLen), a.NodeName, a.TaskGroup, a.JobVersion, a.DesiredStatus, a.ClientStatus, created, modified]
        : [limit(a.ID, idLen), limit(a.NodeID, idLen), a.TaskGroup, a.JobVersion, a.DesiredStatus, a.ClientStatus, created, modified],
    );
  }
  return formatList(rows);
}

export function formatJobSummary(summary: JobSummary): string {
  const rows: Row[] = [['Task Group', 'Queued', 'Starting', 'Running', 'Failed', 'Complete', 'Lost', 'Unknown']];
  for (const tg of Object.keys(summary.Summary).sort()) {
    const s = summary.Summary[tg];
    if (s === undefined) continue;
    rows.push([tg, s.Queued, s.Starting, s.Running, s.Failed, s.Complete, s.Lost, s.Unknown]);
  }
  return formatList(rows);
}

export function formatEvalList(evals: readonly Evaluation[], idLen: number): string {
  const rows: Row[] = [['ID', 'Priority', 'Triggered By', 'Status', 'Placement Failures']];
  for (const e of evals) {
    const failures = e.Status === 'blocked' ? 'N/A - In Progress' : String(Object.keys(e.FailedTGAllocs ?? {}).length > 0);
    rows.push([limit(e.ID, idLen), e.Priority, e.TriggeredBy, e.Status, failures]);
  }
  return formatList(rows);
}

export interface JobDetailInput {
  job: Job;
  summary: JobSummary | null;
  allocations: readonly AllocListStub[];
  evaluations: readonly Evaluation[];
  verbose: boolean;
  nowMs: number;
  /** The job's latest deployment (service jobs), shown as Nomad's "Latest Deployment". */
  latestDeployment?: Deployment | null;
}

/** The job's header block, Summary, Evaluations (verbose), Placement Failure and Allocations. */
export function formatJobDetail(input: JobDetailInput): string {
  const { job, verbose, nowMs } = input;
  const idLen = verbose ? 36 : 8;
  const periodic = job.Periodic !== undefined && job.Periodic !== null;
  const parameterized = job.ParameterizedJob !== undefined && job.ParameterizedJob !== null;
  const sections: string[] = [
    formatKV([
      ['ID', job.ID],
      ['Name', job.Name],
      ['Submit Date', formatUnixNano(job.SubmitTime)],
      ['Type', job.Type],
      ['Priority', job.Priority],
      ['Datacenters', job.Datacenters.join(',')],
      ['Namespace', job.Namespace],
      ['Node Pool', job.NodePool],
      ['Status', jobStatusString(job.Status, job.Stop)],
      ['Periodic', periodic],
      ['Parameterized', parameterized],
    ]),
  ];
  if (input.summary !== null) sections.push(`Summary\n${formatJobSummary(input.summary)}`);
  if (verbose && input.evaluations.length > 0) sections.push(`Evaluations\n${formatEvalList(input.evaluations, idLen)}`);

  // As Nomad: show why the newest failed placement failed while a blocked eval still waits.
  const blocked = input.evaluations.some((e) => e.Status === 'blocked');
  const failed = input.evaluations
    .filter((e) => Object.keys(e.FailedTGAllocs ?? {}).length > 0)
    .sort((a, b) => b.CreateIndex - a.CreateIndex)[0];
  if (blocked && failed !== undefined) {
    const all = Object.entries(failed.FailedTGAllocs ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
    const groups = all.map(([g]) => g);
    const shown = Object.fromEntries(all.slice(0, MAX_FAILED_TGS));
    let text = `Placement Failure\n${formatFailedPlacements(shown).join('\n')}`;
    if (groups.length > MAX_FAILED_TGS) {
      text += `\n\nPlacement failures truncated. To see remainder run:\nyurt eval status ${failed.ID}`;
    }
    sections.push(text);
  }
  if (input.latestDeployment) sections.push(formatLatestDeployment(input.latestDeployment, idLen));
  sections.push(`Allocations\n${formatAllocListStubs(input.allocations, verbose, idLen, nowMs)}`);
  return sections.join('\n\n');
}
