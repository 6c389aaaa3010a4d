/**
 * What an evaluation monitor has seen, and the lines a change produces. Pure, after Nomad's
 * command/monitor.go `update`: a line only when something changed since the last look.
 */
import type { AllocListStub } from '../../structs/alloc.js';
import type { Evaluation } from '../../structs/eval.js';
import { limit } from '../format/table.js';

export interface AllocSnapshot {
  id: string;
  group: string;
  node: string;
  desired: string;
  client: string;
  clientDesc: string;
  createIndex: number;
}

export interface EvalSnapshot {
  status: string;
  node: string;
  job: string;
  deployment: string;
  /** The eval's CreateIndex: allocations older than it were modified, not created, by it. */
  index: number;
  allocs: Map<string, AllocSnapshot>;
}

export function emptyEvalSnapshot(): EvalSnapshot {
  return { status: 'pending', node: '', job: '', deployment: '', index: 0, allocs: new Map() };
}

export function allocSnapshots(stubs: readonly AllocListStub[]): Map<string, AllocSnapshot> {
  const m = new Map<string, AllocSnapshot>();
  for (const a of stubs) {
    m.set(a.ID, {
      id: a.ID,
      group: a.TaskGroup,
      node: a.NodeID,
      desired: a.DesiredStatus,
      client: a.ClientStatus,
      clientDesc: a.ClientDescription,
      createIndex: a.CreateIndex,
    });
  }
  return m;
}

export function evalSnapshot(ev: Evaluation, allocs: readonly AllocListStub[]): EvalSnapshot {
  return {
    status: ev.Status,
    node: ev.NodeID,
    job: ev.JobID,
    deployment: ev.DeploymentID,
    index: ev.CreateIndex,
    allocs: allocSnapshots(allocs),
  };
}

/** New and changed allocations, in ID order. `sinceIndex` separates created from modified. */
export function allocChangeLines(
  prev: ReadonlyMap<string, AllocSnapshot>,
  next: ReadonlyMap<string, AllocSnapshot>,
  sinceIndex: number,
  idLen: number,
): string[] {
  const lines: string[] = [];
  for (const id of [...next.keys()].sort()) {
    const a = next.get(id);
    if (a === undefined) continue;
    const before = prev.get(id);
    if (before === undefined) {
      if (a.createIndex < sinceIndex) {
        lines.push(`Allocation "${limit(a.id, idLen)}" modified: node "${limit(a.node, idLen)}", group "${a.group}"`);
      } else if (a.desired === 'run') {
        lines.push(`Allocation "${limit(a.id, idLen)}" created: node "${limit(a.node, idLen)}", group "${a.group}"`);
      }
    } else if (before.client !== a.client) {
      const desc = a.clientDesc !== '' ? ` (${a.clientDesc})` : '';
      lines.push(`Allocation "${limit(a.id, idLen)}" status changed: "${before.client}" -> "${a.client}"${desc}`);
    }
  }
  return lines;
}

export function evalChangeLines(prev: EvalSnapshot, next: EvalSnapshot, idLen: number): string[] {
  const lines: string[] = [];
  if (prev.node === '' && next.node !== '') lines.push(`Evaluation triggered by node "${limit(next.node, idLen)}"`);
  if (prev.job === '' && next.job !== '') lines.push(`Evaluation triggered by job "${next.job}"`);
  if (prev.deployment === '' && next.deployment !== '') {
    lines.push(`Evaluation within deployment: "${limit(next.deployment, idLen)}"`);
  }
  lines.push(...allocChangeLines(prev.allocs, next.allocs, next.index, idLen));
  // Transitions into "pending" are not news (Nomad skips them too).
  if (prev.status !== '' && next.status !== 'pending' && prev.status !== next.status) {
    lines.push(`Evaluation status changed: "${prev.status}" -> "${next.status}"`);
  }
  return lines;
}
