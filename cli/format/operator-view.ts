/** `yurt operator ...` and `yurt agent-info` output, laid out as Nomad's commands print them. */
import type { RaftServer, SchedulerConfiguration } from '../../api/operator.js';
import { formatKV, formatList } from './table.js';
import type { Row } from './table.js';

/** `operator raft list-peers`: Node ID Address State Voter RaftProtocol. */
export function formatRaftPeers(servers: readonly RaftServer[]): string {
  const rows: Row[] = [['Node', 'ID', 'Address', 'State', 'Voter', 'RaftProtocol']];
  for (const s of servers) rows.push([s.Node, s.ID, s.Address, s.Leader ? 'leader' : 'follower', s.Voter, s.RaftProtocol]);
  return formatList(rows);
}

export function formatSchedulerConfig(c: SchedulerConfiguration): string {
  const p = c.PreemptionConfig;
  return formatKV([
    ['Scheduler Algorithm', c.SchedulerAlgorithm],
    ['Memory Oversubscription', c.MemoryOversubscriptionEnabled],
    ['Reject Job Registration', c.RejectJobRegistration],
    ['Pause Eval Broker', c.PauseEvalBroker],
    ['Preemption System Scheduler', p?.SystemSchedulerEnabled ?? false],
    ['Preemption Service Scheduler', p?.ServiceSchedulerEnabled ?? false],
    ['Preemption Batch Scheduler', p?.BatchSchedulerEnabled ?? false],
    ['Preemption SysBatch Scheduler', p?.SysBatchSchedulerEnabled ?? false],
  ]);
}

/** `agent-info`: each stats section, sorted, with its keys indented under it. */
export function formatAgentStats(stats: Record<string, Record<string, string>>): string {
  const lines: string[] = [];
  for (const section of Object.keys(stats).sort()) {
    lines.push(section);
    const kv = stats[section] ?? {};
    for (const k of Object.keys(kv).sort()) lines.push(`  ${k} = ${kv[k] ?? ''}`);
  }
  return lines.join('\n');
}
