/**
 * Deployments as `nomad deployment list|status` and `nomad job status` print them: the list,
 * the header block, and the "Deployed" per-group table, whose optional columns (Auto Revert,
 * Promoted, Canaries, Progress Deadline) appear only when some group uses them.
 */
import { isDeploymentActive, type Deployment } from '../../structs/deployment.js';
import { formatKV, formatList, limit, type Row } from './table.js';
import { formatTaskTime } from './time.js';

export function formatDeploymentList(list: readonly Deployment[], idLen: number): string {
  const rows: Row[] = [['ID', 'Job ID', 'Job Version', 'Status', 'Description']];
  for (const d of list) rows.push([limit(d.ID, idLen), d.JobID, d.JobVersion, d.Status, d.StatusDescription]);
  return formatList(rows);
}

/** Nomad's formatDeploymentGroups. */
export function formatDeploymentGroups(d: Deployment): string {
  const groups = Object.entries(d.TaskGroups).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const autoRevert = groups.some(([, g]) => g.AutoRevert);
  const canaries = groups.some(([, g]) => g.DesiredCanaries > 0);
  const deadline = groups.some(([, g]) => g.ProgressDeadline !== 0);
  const header: string[] = ['Task Group'];
  if (autoRevert) header.push('Auto Revert');
  if (canaries) header.push('Promoted');
  header.push('Desired');
  if (canaries) header.push('Canaries');
  header.push('Placed', 'Healthy', 'Unhealthy');
  if (deadline) header.push('Progress Deadline');
  const rows: Row[] = [header];
  for (const [name, g] of groups) {
    const row: Array<string | number | boolean> = [name];
    if (autoRevert) row.push(g.AutoRevert);
    // Nomad shows "N/A" for groups without canaries in the Promoted column.
    if (canaries) row.push(g.DesiredCanaries > 0 ? g.Promoted : 'N/A');
    row.push(g.DesiredTotal);
    if (canaries) row.push(g.PlacedCanaries.length);
    row.push(g.PlacedAllocs, g.HealthyAllocs, g.UnhealthyAllocs);
    if (deadline) row.push(isDeploymentActive(d) ? formatTaskTime(g.RequireProgressBy) : 'N/A');
    rows.push(row);
  }
  return formatList(rows);
}

/** `yurt deployment status`: the header block and the Deployed table. */
export function formatDeployment(d: Deployment, idLen: number): string {
  const base = formatKV([
    ['ID', limit(d.ID, idLen)],
    ['Job ID', d.JobID],
    ['Job Version', d.JobVersion],
    ['Status', d.Status],
    ['Description', d.StatusDescription],
  ]);
  if (Object.keys(d.TaskGroups).length === 0) return base;
  return `${base}\n\nDeployed\n${formatDeploymentGroups(d)}`;
}

/** The "Latest Deployment" section of `yurt job status`. */
export function formatLatestDeployment(d: Deployment, idLen: number): string {
  const base = formatKV([
    ['ID', limit(d.ID, idLen)],
    ['Status', d.Status],
    ['Description', d.StatusDescription],
  ]);
  if (Object.keys(d.TaskGroups).length === 0) return `Latest Deployment\n${base}`;
  return `Latest Deployment\n${base}\n\nDeployed\n${formatDeploymentGroups(d)}`;
}
