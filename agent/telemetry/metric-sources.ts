/**
 * The narrow, read-only views telemetry samples. The server and the client are adapted to them
 * (server-view.ts, client-view.ts), so telemetry depends on what it reads and nothing more, and
 * its tests can feed it plain objects.
 */
import type { EvalBrokerTimings } from '../server/eval-broker.js';

export interface JobSummaryRow {
  namespace: string;
  job: string;
  groups: Record<string, { Queued: number; Starting: number; Running: number; Failed: number; Complete: number; Lost: number; Unknown: number }>;
}

/** What Raft reports about itself (consensus/raft-node.ts stats()). */
export interface RaftFigures {
  state: 'leader' | 'follower' | 'candidate' | 'shutdown';
  peers: number;
  term: number;
  lastIndex: number;
  commitIndex: number;
  appliedIndex: number;
  /** Milliseconds since the leader was last heard from; 0 on the leader; null: never. */
  lastContactMs: number | null;
  /** Entries applied to the state machine since start. */
  appliedEntries: number;
  /** Milliseconds spent since start waiting for durable writes, and in the state machine. */
  persistMs: number;
  fsmApplyMs: number;
  /** Commands this server proposed as leader that were committed and applied, and their total latency. */
  commits: number;
  commitMs: number;
}

/** What the server exposes to telemetry. */
export interface ServerMetricsView {
  isLeader(): boolean;
  raft(): RaftFigures;
  brokerStats(): { ready: number; unacked: number; waiting: number; delayed: number };
  blockedEvals(): number;
  heartbeatsActive(): number;
  jobSummaries(): JobSummaryRow[];
  jobStatusCounts(): { pending: number; running: number; dead: number };
  /** Route the eval broker's timings (null: stop). */
  watchBroker(timings: EvalBrokerTimings | null): void;
}

export interface NodeUsage {
  labels: { node_id: string; datacenter: string; node_class: string; node_pool: string };
  allocated: { cpu: number; memoryMB: number; diskMB: number };
  capacity: { cpu: number; memoryMB: number; diskMB: number };
  running: number;
  pending: number;
}

/** One task of an allocation on this client, as sampled. */
export interface TaskUsage {
  task: string;
  /** Percent of one core over the driver's last sample; null when the driver cannot tell. */
  cpuPercent: number | null;
  memoryRssBytes: number | null;
  cpuAllocatedMHz: number;
  memoryAllocatedBytes: number;
  restarts: number;
  oomKills: number;
}

export interface AllocUsage {
  allocId: string;
  namespace: string;
  job: string;
  taskGroup: string;
  tasks: TaskUsage[];
}

/** What the client exposes to telemetry. */
export interface ClientMetricsSource {
  nodeUsage(): NodeUsage | null;
  /** Live allocations and their tasks' usage; async because drivers measure on request. */
  allocUsage(): Promise<AllocUsage[]>;
}
