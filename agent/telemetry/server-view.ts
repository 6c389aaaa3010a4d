/**
 * Adapts a Server to the read-only view telemetry scrapes.
 */
import type { Server } from '../server/server.js';
import { computeJobSummary } from '../server/job-status.js';
import type { JobSummaryRow, RaftFigures, ServerMetricsView } from './metric-sources.js';

export function serverMetricsView(server: Server): ServerMetricsView {
  return {
    isLeader: () => server.isLeader(),
    raft: () => raftFigures(server.raft.stats(), server.raft.configuration().length),
    brokerStats: () => server.broker.stats(),
    blockedEvals: () => server.blocked.size(),
    heartbeatsActive: () => server.heartbeats.size(),
    jobSummaries: (): JobSummaryRow[] =>
      server.state.jobs().map((job) => ({
        namespace: job.Namespace,
        job: job.ID,
        groups: computeJobSummary(job, server.state.allocsByJob(job.Namespace, job.ID), server.state.evalsByJob(job.Namespace, job.ID)).Summary,
      })),
    jobStatusCounts: () => {
      const counts = { pending: 0, running: 0, dead: 0 };
      for (const j of server.state.jobs()) counts[j.Status]++;
      return counts;
    },
    watchBroker: (timings) => {
      server.broker.timings = timings;
    },
  };
}

/** Reads RaftNode.stats() (hashicorp/raft's names, as `nomad operator raft` shows them). */
export function raftFigures(stats: Record<string, string | number>, peers: number): RaftFigures {
  const num = (k: string): number => {
    const v = stats[k];
    return typeof v === 'number' && Number.isFinite(v) ? v : 0;
  };
  const state = ROLE[String(stats['state'])] ?? 'shutdown';
  const contact = stats['last_contact'];
  return {
    state,
    peers,
    term: num('term'),
    lastIndex: num('last_log_index'),
    commitIndex: num('commit_index'),
    appliedIndex: num('applied_index'),
    // 'never' until the first message from a leader.
    lastContactMs: typeof contact === 'number' ? contact : null,
    appliedEntries: num('applied_commands'),
    persistMs: num('persist_ms'),
    fsmApplyMs: num('apply_ms'),
    commits: num('commits'),
    commitMs: num('commit_ms'),
  };
}

const ROLE: Record<string, RaftFigures['state']> = { Leader: 'leader', Follower: 'follower', Candidate: 'candidate' };
