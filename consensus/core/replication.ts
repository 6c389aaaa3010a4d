/**
 * Log replication (§5.3): the leader appending to its log and sending appends, heartbeats
 * and snapshots to each follower as its progress allows (flow control: a window of
 * in-flight appends per follower); the follower taking them in.
 */
import { decodeConfiguration, voterIds } from './configuration.js';
import type { CoreState } from './core-state.js';
import { noData } from './core-state.js';
import { configurationAt, setConfiguration } from './membership.js';
import type { AppendRequest, Entry, EntryType, Heartbeat, HeartbeatResponse, SnapshotMeta, SnapshotRequest } from './messages.js';
import type { Progress } from './progress.js';
import { committedIndex } from './quorum.js';
import { ackReads } from './read-index.js';

// ---- leader -----------------------------------------------------------------------------

/** Appends new entries of the current term; returns the last index. They count toward
 *  the leader's own match only once durable (see advance). */
export function appendEntries(s: CoreState, ents: ReadonlyArray<{ type: EntryType; data: Uint8Array }>): number {
  const first = s.log.lastIndex() + 1;
  const full: Entry[] = ents.map((e, i) => ({ index: first + i, term: s.term, type: e.type, data: e.data }));
  const last = s.log.append(full);
  const lastConfig = full.findLast((e) => e.type === 'config');
  if (lastConfig !== undefined) {
    setConfiguration(s, { index: lastConfig.index, configuration: decodeConfiguration(lastConfig.data, lastConfig.index) });
  }
  s.pendingBcast = true;
  return last;
}

export function maybeCommit(s: CoreState): boolean {
  const voters = voterIds(s.config.configuration);
  return s.log.maybeCommit(committedIndex(voters, (id) => s.prs.get(id)?.match ?? 0), s.term);
}

export function bcastAppend(s: CoreState): void {
  for (const id of s.prs.keys()) {
    if (id !== s.id) sendAppend(s, id);
  }
}

export function bcastHeartbeat(s: CoreState): void {
  const ctx = s.readQueue.at(-1)?.seq ?? 0;
  for (const [id, pr] of s.prs) {
    if (id !== s.id) s.send({ type: 'heartbeat', to: id, commit: Math.min(pr.match, s.log.committed), ctx });
  }
}

export function sendAppend(s: CoreState, to: string): void {
  maybeSendAppend(s, to, true);
}

/** Sends the next append (or the snapshot) to `to` if its progress allows; returns whether
 *  an append was sent. */
export function maybeSendAppend(s: CoreState, to: string, sendIfEmpty: boolean): boolean {
  const pr = s.prs.get(to);
  if (pr === undefined || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  const prevTerm = s.log.term(prevIndex);
  const entries = s.log.slice(pr.next, s.log.lastIndex() + 1, s.maxSizePerMsg);
  if (prevTerm === undefined || entries === undefined) {
    sendSnapshot(s, to, pr);
    return false;
  }
  if (entries.length === 0 && !sendIfEmpty) return false;
  s.send({ type: 'app', to, prevIndex, prevTerm, entries, commit: s.log.committed });
  const last = entries.at(-1);
  switch (pr.state) {
    case 'replicate':
      if (last !== undefined) {
        pr.optimisticUpdate(last.index);
        pr.inflights.add(last.index);
      }
      break;
    case 'probe':
      pr.probeSent = true;
      break;
    case 'snapshot':
      break;
  }
  return true;
}

/** What the follower needs was compacted away: only a snapshot can bring it up to date. */
function sendSnapshot(s: CoreState, to: string, pr: Progress): void {
  const snapshot = s.log.snapshot();
  if (snapshot.index === 0) {
    s.logger.warn({ to, next: pr.next }, 'follower needs compacted entries but there is no snapshot yet');
    return;
  }
  s.logger.info({ to, next: pr.next, firstIndex: s.log.firstIndex(), snapshot: snapshot.index }, 'sending a snapshot');
  pr.becomeSnapshot(snapshot.index);
  s.send({ type: 'snap', to, snapshot, data: noData });
}

export function handleHeartbeatResponse(s: CoreState, m: HeartbeatResponse): void {
  const pr = s.prs.get(m.from);
  if (pr === undefined) return;
  pr.recentActive = true;
  pr.probeSent = false;
  // A lost ack must not block a full window forever: free one slot per heartbeat.
  if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
  if (pr.match < s.log.lastIndex()) sendAppend(s, m.from);
  if (m.ctx > 0) ackReads(s, m.from, m.ctx);
}

// ---- follower ---------------------------------------------------------------------------

export function handleAppend(s: CoreState, m: AppendRequest): void {
  if (m.prevIndex < s.log.committed) {
    // Our committed prefix already agrees with any leader (§5.4); tell it where we are.
    s.send({ type: 'appResp', to: m.from, reject: false, index: s.log.committed, rejectHint: 0, hintTerm: 0 });
    return;
  }
  const configBefore = s.config.index;
  const lastNew = s.log.maybeAppend(m.prevIndex, m.prevTerm, m.commit, m.entries);
  if (lastNew !== undefined) {
    const first = m.entries[0];
    if (first !== undefined && (configBefore >= first.index || m.entries.some((e) => e.type === 'config'))) {
      setConfiguration(s, configurationAt(s, s.log.lastIndex()));
    }
    s.send({ type: 'appResp', to: m.from, reject: false, index: lastNew, rejectHint: 0, hintTerm: 0 });
    return;
  }
  const hint = s.log.findConflictByTerm(Math.min(m.prevIndex, s.log.lastIndex()), m.prevTerm);
  s.logger.debug({ from: m.from, prevIndex: m.prevIndex, prevTerm: m.prevTerm, hint }, 'rejected append');
  s.send({ type: 'appResp', to: m.from, reject: true, index: m.prevIndex, rejectHint: hint.index, hintTerm: hint.term });
}

export function handleHeartbeat(s: CoreState, m: Heartbeat): void {
  // The leader sends min(our match, its commit), which our log is known to hold; the
  // extra min guards against a leader that is wrong about us.
  s.log.commitTo(Math.min(m.commit, s.log.lastIndex()));
  s.send({ type: 'heartbeatResp', to: m.from, ctx: m.ctx });
}

export function handleSnapshot(s: CoreState, m: SnapshotRequest): void {
  const snap = m.snapshot;
  if (restore(s, snap, m.data)) {
    s.logger.info({ from: m.from, index: snap.index, term: snap.term }, 'restoring a snapshot from the leader');
    s.send({ type: 'appResp', to: m.from, reject: false, index: s.log.lastIndex(), rejectHint: 0, hintTerm: 0 });
  } else {
    s.send({ type: 'appResp', to: m.from, reject: false, index: s.log.committed, rejectHint: 0, hintTerm: 0 });
  }
}

/** Returns whether the snapshot replaces our log (false: we already have what it holds). */
function restore(s: CoreState, snap: SnapshotMeta, data: Uint8Array): boolean {
  if (snap.index <= s.log.committed) return false;
  if (s.log.matchTerm(snap.index, snap.term)) {
    // Our log already holds the snapshot's last entry, hence everything before it
    // (Log Matching, §5.3): only the commit index moves.
    s.log.commitTo(snap.index);
    return false;
  }
  s.log.restore(snap, data);
  setConfiguration(s, { index: snap.configIndex, configuration: snap.configuration });
  return true;
}
