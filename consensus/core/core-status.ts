/** A structured view of a core's state, for status endpoints and tests. */
import type { Suffrage } from './configuration.js';
import { findServer } from './configuration.js';
import type { CoreState } from './core-state.js';
import type { Role } from './messages.js';
import type { ProgressState } from './progress.js';

export interface PeerStatus {
  suffrage: Suffrage;
  match: number;
  next: number;
  state: ProgressState;
  inflight: number;
  recentActive: boolean;
  pendingSnapshot: number;
}

export interface CoreStatus {
  id: string;
  term: number;
  vote: string;
  role: Role;
  leaderId: string | null;
  firstIndex: number;
  lastIndex: number;
  lastTerm: number;
  commit: number;
  applied: number;
  configIndex: number;
  snapshotIndex: number;
  /** Leader only: who leadership is being handed to. */
  leadTransferee: string | null;
  /** Leader only: payload bytes proposed and not yet applied. */
  uncommittedBytes: number;
  /** Leader only: read-index requests waiting for confirmation. */
  pendingReads: number;
  /** Leader only: each server's replication progress. */
  progress: Record<string, PeerStatus>;
}

export function coreStatus(s: CoreState): CoreStatus {
  const progress: Record<string, PeerStatus> = {};
  for (const [id, pr] of s.prs) {
    progress[id] = {
      suffrage: findServer(s.config.configuration, id)?.suffrage ?? 'nonvoter',
      match: pr.match,
      next: pr.next,
      state: pr.state,
      inflight: pr.inflights.count(),
      recentActive: pr.recentActive,
      pendingSnapshot: pr.pendingSnapshot,
    };
  }
  return {
    id: s.id,
    term: s.term,
    vote: s.vote,
    role: s.role,
    leaderId: s.lead,
    firstIndex: s.log.firstIndex(),
    lastIndex: s.log.lastIndex(),
    lastTerm: s.log.lastTerm(),
    commit: s.log.committed,
    applied: s.log.applied,
    configIndex: s.config.index,
    snapshotIndex: s.log.snapshot().index,
    leadTransferee: s.leadTransferee,
    uncommittedBytes: s.uncommittedSize,
    pendingReads: s.readQueue.length + s.deferredReads.length,
    progress,
  };
}
