/** `yurt alloc status` output, laid out as Nomad's `nomad alloc status`. */
import type { Allocation, TaskEvent, TaskState } from '../../structs/alloc.js';
import { formatAllocMetrics } from './placement.js';
import { formatKV, formatList, limit } from './table.js';
import type { Row } from './table.js';
import { formatDurationNs, formatTaskTime, formatUnixNano, nsToMs, prettyTimeDiff } from './time.js';
import { humanizeIBytes, mbToBytes } from './units.js';

/** The Description column when the client sent no DisplayMessage (Nomad's buildDisplayMessage). */
export function eventDescription(e: TaskEvent): string {
  if (e.DisplayMessage !== undefined && e.DisplayMessage !== '') return e.DisplayMessage;
  const details = e.Details ?? {};
  switch (e.Type) {
    case 'Started':
      return 'Task started by client';
    case 'Received':
      return 'Task received by client';
    case 'Setup Failure':
      return details['setup_error'] ?? (e.Message !== '' ? e.Message : 'Task setup failed');
    case 'Driver Failure':
      return e.DriverError !== '' ? e.DriverError : 'Failed to start task';
    case 'Killing':
      return e.KillTimeout !== 0 ? `Sent interrupt. Waiting ${formatDurationNs(e.KillTimeout)} before force killing` : 'Sent interrupt';
    case 'Killed':
      return details['kill_error'] ?? 'Task successfully killed';
    case 'Terminated': {
      const parts = [`Exit Code: ${e.ExitCode}`];
      if (e.Signal !== 0) parts.push(`Signal: ${e.Signal}`);
      if (e.Message !== '') parts.push(`Exit Message: ${JSON.stringify(e.Message)}`);
      return parts.join(', ');
    }
    case 'Restarting': {
      const delay = Number(details['start_delay'] ?? '0');
      const inText = `Task restarting in ${formatDurationNs(Number.isFinite(delay) ? delay : 0)}`;
      return e.RestartReason !== '' && e.RestartReason !== 'Restart within policy' ? `${e.RestartReason} - ${inText}` : inText;
    }
    case 'Not Restarting':
      return e.RestartReason !== '' ? e.RestartReason : 'Task exceeded restart policy';
    case 'Sibling Task Failed':
      return details['failed_sibling'] !== undefined ? `Task's sibling "${details['failed_sibling']}" failed` : "Task's sibling failed";
    default:
      return e.Message;
  }
}

/** Events newest first, as Nomad lists them. */
export function formatTaskEvents(state: TaskState): string {
  const rows: Row[] = [['Time', 'Type', 'Description']];
  const events = [...(state.Events ?? [])].reverse();
  for (const e of events) rows.push([formatUnixNano(e.Time), e.Type, eventDescription(e)]);
  return formatList(rows);
}

function formatTaskResources(alloc: Allocation, task: string): string | null {
  const r = alloc.AllocatedResources?.Tasks?.[task];
  if (r === undefined) return null;
  const ports = (r.Networks ?? []).flatMap((n) => [...n.DynamicPorts, ...n.ReservedPorts].map((p) => `${p.Label}: ${n.IP}:${p.Value}`));
  const disk = alloc.AllocatedResources.Shared?.DiskMB ?? 0;
  return formatList([
    ['CPU', 'Memory', 'Disk', 'Addresses'],
    [`${r.Cpu.CpuShares} MHz`, humanizeIBytes(mbToBytes(r.Memory.MemoryMB)), humanizeIBytes(mbToBytes(disk)), ports.join(', ')],
  ]);
}

function formatTask(alloc: Allocation, name: string, state: TaskState): string {
  const parts = [`Task "${name}" is "${state.State}"`];
  const res = formatTaskResources(alloc, name);
  if (res !== null) parts.push(`Task Resources:\n${res}`);
  parts.push(
    `Task Events:\n${formatKV([
      ['Started At', formatTaskTime(state.StartedAt)],
      ['Finished At', formatTaskTime(state.FinishedAt)],
      ['Total Restarts', state.Restarts],
      ['Last Restart', formatTaskTime(state.LastRestart)],
    ])}`,
  );
  parts.push(`Recent Events:\n${formatTaskEvents(state)}`);
  return parts.join('\n\n');
}

export function formatAllocDetail(alloc: Allocation, opts: { verbose: boolean; nowMs: number }): string {
  const idLen = opts.verbose ? 36 : 8;
  const when = (ns: number): string => (opts.verbose ? formatUnixNano(ns) : prettyTimeDiff(nsToMs(ns), opts.nowMs));
  const basic: Array<[string, string | number]> = [
    ['ID', alloc.ID],
    ['Eval ID', limit(alloc.EvalID, idLen)],
    ['Name', alloc.Name],
    ['Node ID', limit(alloc.NodeID, idLen)],
    ['Node Name', alloc.NodeName],
    ['Job ID', alloc.JobID],
    ['Job Version', alloc.Job?.Version ?? 0],
    ['Client Status', alloc.ClientStatus],
    ['Client Description', alloc.ClientDescription],
    ['Desired Status', alloc.DesiredStatus],
    ['Desired Description', alloc.DesiredDescription],
    ['Created', when(alloc.CreateTime)],
    ['Modified', when(alloc.ModifyTime)],
  ];
  if (alloc.NextAllocation !== '') basic.push(['Replacement Alloc ID', limit(alloc.NextAllocation, idLen)]);
  if (opts.verbose && alloc.Metrics !== null) {
    basic.push(
      ['Evaluated Nodes', alloc.Metrics.NodesEvaluated],
      ['Filtered Nodes', alloc.Metrics.NodesFiltered],
      ['Exhausted Nodes', alloc.Metrics.NodesExhausted],
      ['Allocation Time', formatDurationNs(alloc.Metrics.AllocationTime)],
      ['Failures', alloc.Metrics.CoalescedFailures],
    );
  }
  const sections = [formatKV(basic)];
  // Tasks in name order; a group's tasks without state yet are not shown (as Nomad).
  for (const name of Object.keys(alloc.TaskStates ?? {}).sort()) {
    const state = alloc.TaskStates[name];
    if (state !== undefined) sections.push(formatTask(alloc, name, state));
  }
  if (opts.verbose && alloc.Metrics !== null) {
    sections.push(`Placement Metrics\n${formatAllocMetrics(alloc.Metrics, true, '  ').join('\n')}`);
  }
  return sections.join('\n\n');
}
