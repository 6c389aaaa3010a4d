/**
 * What a leader does on its own clock and on its followers' acknowledgements: heartbeats,
 * CheckQuorum (thesis §6.2), the transfer and snapshot timeouts, moving the commit index,
 * and stepping down once its own removal commits (thesis §4.2.2).
 */
import { voterIds } from './configuration.js';
import type { CoreState } from './core-state.js';
import { bestTransferTarget } from './membership.js';
import type { AppendResponse } from './messages.js';
import { isMajority } from './quorum.js';
import { handleReadIndexRequest } from './read-index.js';
import { bcastAppend, bcastHeartbeat, maybeCommit, maybeSendAppend, sendAppend } from './replication.js';
import { becomeFollower } from './roles.js';

/** The leader's tick. */
export function tickHeartbeat(s: CoreState): void {
  s.heartbeatElapsed++;
  s.electionElapsed++;
  if (s.electionElapsed >= s.electionTimeout) {
    s.electionElapsed = 0;
    if (s.checkQuorum && !quorumActive(s)) {
      // A leader cut off from a majority steps down rather than keep accepting writes it
      // cannot commit and answering reads it cannot confirm (thesis §6.2).
      s.logger.warn({ term: s.term }, 'stepping down: no majority heard from within an election timeout');
      becomeFollower(s, s.term, null);
      return;
    }
    if (s.leadTransferee !== null) {
      s.logger.warn({ to: s.leadTransferee }, 'leadership transfer timed out');
      s.leadTransferee = null;
    }
  }
  for (const [id, pr] of s.prs) {
    if (pr.state === 'snapshot' && ++pr.snapshotElapsed >= s.snapshotTimeout) {
      s.logger.info({ to: id, index: pr.pendingSnapshot }, 'snapshot not acknowledged in time; will retry');
      pr.snapshotFailed();
    }
  }
  if (s.heartbeatElapsed >= s.heartbeatTimeout) {
    s.heartbeatElapsed = 0;
    bcastHeartbeat(s);
  }
}

/** CheckQuorum: a majority of voters was heard from since the last check. */
function quorumActive(s: CoreState): boolean {
  const active = isMajority(voterIds(s.config.configuration), (id) => id === s.id || (s.prs.get(id)?.recentActive ?? false));
  for (const [id, pr] of s.prs) if (id !== s.id) pr.recentActive = false;
  return active;
}

export function handleAppendResponse(s: CoreState, m: AppendResponse): void {
  const pr = s.prs.get(m.from);
  if (pr === undefined) return;
  pr.recentActive = true;
  if (m.reject) {
    const hint = m.hintTerm > 0 ? s.log.findConflictByTerm(m.rejectHint, m.hintTerm).index : m.rejectHint;
    if (pr.maybeDecrTo(m.index, hint)) {
      if (pr.state === 'replicate') pr.becomeProbe();
      sendAppend(s, m.from);
    }
    return;
  }
  const wasPaused = pr.isPaused();
  const learned = pr.maybeUpdate(m.index);
  if (!learned && !(pr.state === 'probe' && pr.match === m.index)) return;
  switch (pr.state) {
    case 'probe':
      pr.becomeReplicate();
      break;
    case 'replicate':
      pr.inflights.freeLE(m.index);
      break;
    case 'snapshot':
      // Whatever snapshot it installed, once the log can take over from there, do.
      if (pr.match + 1 >= s.log.firstIndex()) {
        pr.becomeProbe();
        pr.becomeReplicate();
      }
      break;
  }
  if (maybeCommit(s)) afterCommit(s);
  // A follower that was paused may now take more; the pending broadcast covers it if set.
  else if (wasPaused && !s.pendingBcast) sendAppend(s, m.from);
  // Fill the follower's window with whatever else is waiting.
  while (maybeSendAppend(s, m.from, false)) {
    /* keep sending */
  }
  if (m.from === s.leadTransferee && pr.match === s.log.lastIndex()) {
    s.logger.info({ to: m.from }, 'transferee caught up; sending TimeoutNow');
    s.send({ type: 'timeoutNow', to: m.from });
  }
}

/** The commit index moved on the leader. */
export function afterCommit(s: CoreState): void {
  // Followers learn the new commit index with the next Ready's appends.
  s.pendingBcast = true;
  if (s.committedInTerm() && s.deferredReads.length > 0) {
    const deferred = s.deferredReads;
    s.deferredReads = [];
    for (const r of deferred) handleReadIndexRequest(s, r.from, r.ctx);
  }
  maybeStepDownAfterRemoval(s);
}

/**
 * A leader that removed itself keeps managing the cluster until that change commits, then
 * steps down (thesis §4.2.2), telling the most up-to-date voter to campaign at once so the
 * cluster does not wait out an election timeout.
 */
function maybeStepDownAfterRemoval(s: CoreState): void {
  if (s.role !== 'leader' || s.promotable() || s.log.committed < s.config.index) return;
  bcastAppend(s);
  const target = bestTransferTarget(s);
  if (target !== undefined && s.prs.get(target)?.match === s.log.lastIndex()) s.send({ type: 'timeoutNow', to: target });
  s.logger.info({ term: s.term, handedTo: target ?? null }, 'stepping down: this server was removed from the configuration');
  becomeFollower(s, s.term, null);
}
