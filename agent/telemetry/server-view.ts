/**
 * Adapts a Server to the read-only view telemetry scrapes.
 */
import type { Server } from '../server/server.js';
import { computeJobSummary } from '../server/job-status.js';
import type { JobSummaryRow, ServerMetricsView } from './telemetry.js';

export function serverMetricsView(server: Server): ServerMetricsView {
  const stat = (k: string): string | number | undefined => server.raft.stats()[k];
  return {
    isLeader: () => server.isLeader(),
    raftState: () => {
      const s = String(stat('state') ?? '');
      return s === 'Leader' ? 'leader' : s === 'Candidate' ? 'candidate' : 'follower';
    },
    raftPeers: () => server.raft.configuration().length,
    raftCommitIndex: () => server.raft.commitIndex(),
    raftAppliedIndex: () => server.raft.appliedIndex(),
    raftLastContactMs: () => Number(stat('last_contact_ms') ?? 0),
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
  };
}
