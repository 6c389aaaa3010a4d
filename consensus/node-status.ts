/**
 * What a RaftNode reports about itself: `status()` structured, `stats()` flat in
 * hashicorp/raft's names where one exists, and the counters behind them.
 */
import type { Server } from './core/configuration.js';
import type { CoreStatus } from './core/core-status.js';
import type { RaftCore } from './core/raft-core.js';
import type { RaftStorage } from './storage/raft-storage.js';
import type { YurtError } from '../structs/errors.js';

export type NodeState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface RaftStatus extends CoreStatus {
  nodeState: NodeState;
  appliedIndex: number;
  lastSnapshotIndex: number;
  lastSnapshotTerm: number;
  /** Milliseconds since the leader was last heard from; 0 on the leader; -1: never. */
  lastContactMs: number;
  servers: Array<Server & { leader: boolean }>;
}

export interface NodeCounters {
  applied: number;
  applyErrors: number;
  droppedMessages: number;
  readies: number;
  snapshotsTaken: number;
  commits: number;
  commitMs: number;
  snapshotsInstalled: number;
  snapshotsSent: number;
  readsServed: number;
  /** Milliseconds spent waiting for durable writes, and in the state machine. */
  persistMs: number;
  applyMs: number;
  /** Entries applied while a later write was still being committed (CoreDriver.splitCommitted). */
  appliedDuringWrites: number;
}

export function newNodeCounters(): NodeCounters {
  return {
    applied: 0,
    applyErrors: 0,
    droppedMessages: 0,
    readies: 0,
    snapshotsTaken: 0,
    commits: 0,
    commitMs: 0,
    snapshotsInstalled: 0,
    snapshotsSent: 0,
    readsServed: 0,
    persistMs: 0,
    applyMs: 0,
    appliedDuringWrites: 0,
  };
}

/** The node's state as the reports need it. */
export interface NodeView {
  id: string;
  state: NodeState;
  core: RaftCore | null;
  storage: RaftStorage | null;
  applied: number;
  /** Date.now() when the leader was last heard from; -1: never. */
  lastLeaderContact: number;
  failure: YurtError | null;
  pendingApplies: number;
  pendingReads: number;
  counters: NodeCounters;
}

/** Everything known about this server's Raft state, structured. */
export function nodeStatus(v: NodeView): RaftStatus {
  const core = v.core;
  const st: CoreStatus = core?.status() ?? {
    id: v.id,
    term: 0,
    vote: '',
    role: 'follower',
    leaderId: null,
    firstIndex: 0,
    lastIndex: 0,
    lastTerm: 0,
    commit: 0,
    applied: 0,
    configIndex: 0,
    snapshotIndex: 0,
    leadTransferee: null,
    uncommittedBytes: 0,
    pendingReads: 0,
    progress: {},
  };
  const snap = v.storage?.snapshot();
  return {
    ...st,
    nodeState: v.state,
    appliedIndex: v.applied,
    lastSnapshotIndex: snap?.index ?? 0,
    lastSnapshotTerm: snap?.term ?? 0,
    lastContactMs: st.role === 'leader' ? 0 : v.lastLeaderContact < 0 ? -1 : Date.now() - v.lastLeaderContact,
    servers: (core?.configuration().configuration.servers ?? []).map((s) => ({ ...s, leader: s.id === st.leaderId })),
  };
}

/** Counters in hashicorp/raft's names where one exists. */
export function nodeStats(v: NodeView): Record<string, string | number> {
  const st = nodeStatus(v);
  const running = v.core !== null && v.state === 'running';
  const roleName = { leader: 'Leader', follower: 'Follower', candidate: 'Candidate', precandidate: 'Candidate' } as const;
  const me = st.servers.find((s) => s.id === v.id);
  const counters = v.counters;
  return {
    state: running ? roleName[st.role] : v.state === 'failed' ? 'Failed' : 'Shutdown',
    node_state: v.state,
    term: st.term,
    last_log_index: st.lastIndex,
    last_log_term: st.lastTerm,
    commit_index: st.commit,
    applied_index: v.applied,
    first_log_index: st.firstIndex,
    last_snapshot_index: st.lastSnapshotIndex,
    last_snapshot_term: st.lastSnapshotTerm,
    latest_configuration_index: st.configIndex,
    latest_configuration: `[${st.servers.map((s) => `{Suffrage:${s.suffrage === 'voter' ? 'Voter' : 'Nonvoter'} ID:${s.id} Address:${s.address}}`).join(' ')}]`,
    num_peers: Math.max(0, st.servers.filter((s) => s.suffrage === 'voter').length - (me?.suffrage === 'voter' ? 1 : 0)),
    num_voters: st.servers.filter((s) => s.suffrage === 'voter').length,
    num_nonvoters: st.servers.filter((s) => s.suffrage === 'nonvoter').length,
    suffrage: me?.suffrage ?? 'none',
    protocol_version: 3,
    last_contact: st.lastContactMs < 0 ? 'never' : st.lastContactMs,
    leader_id: st.leaderId ?? '',
    lead_transferee: st.leadTransferee ?? '',
    fsm_pending: v.pendingApplies,
    pending_reads: v.pendingReads,
    uncommitted_bytes: st.uncommittedBytes,
    applied_commands: counters.applied,
    apply_errors: counters.applyErrors,
    reads_served: counters.readsServed,
    dropped_messages: counters.droppedMessages,
    readies: counters.readies,
    persist_ms: Math.round(counters.persistMs),
    commits: counters.commits,
    commit_ms: Math.round(counters.commitMs),
    apply_ms: Math.round(counters.applyMs),
    applied_during_writes: counters.appliedDuringWrites,
    snapshots_taken: counters.snapshotsTaken,
    snapshots_installed: counters.snapshotsInstalled,
    snapshots_sent: counters.snapshotsSent,
    failure: v.failure?.message ?? '',
  };
}
