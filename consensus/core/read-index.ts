/**
 * Linearizable reads without a log entry (ReadIndex, thesis §6.4): the leader notes its
 * commit index, confirms with a heartbeat round acknowledged by a majority that it still
 * leads, and only then answers with that index.
 */
import { voterIds } from './configuration.js';
import type { CoreState, PendingRead } from './core-state.js';
import type { ReadIndexResponse } from './messages.js';
import { isMajority } from './quorum.js';

export function handleReadIndexRequest(s: CoreState, from: string, ctx: number): void {
  if (!s.committedInTerm()) {
    // Until its no-op commits, a new leader does not know the commit index (§6.4 step 1).
    s.deferredReads.push({ from, ctx });
    return;
  }
  const read: PendingRead = { seq: ++s.readSeq, index: s.log.committed, from, ctx, acks: new Set([s.id]) };
  if (readConfirmed(s, read)) {
    answerRead(s, read); // a single voter needs nobody's confirmation
    return;
  }
  s.readQueue.push(read);
  s.pendingHeartbeat = true;
}

export function ackReads(s: CoreState, from: string, seq: number): void {
  let confirmed = -1;
  for (const [i, r] of s.readQueue.entries()) {
    if (r.seq > seq) break;
    // The heartbeat of round `seq` left after every read up to it was queued, so a reply
    // proves we still led when each of them arrived.
    r.acks.add(from);
    if (readConfirmed(s, r)) confirmed = i;
  }
  if (confirmed < 0) return;
  // Earlier rounds have at least the acks of later ones: release in order.
  for (const r of s.readQueue.splice(0, confirmed + 1)) answerRead(s, r);
}

function readConfirmed(s: CoreState, r: PendingRead): boolean {
  return isMajority(voterIds(s.config.configuration), (id) => r.acks.has(id));
}

function answerRead(s: CoreState, r: { from: string; ctx: number; index: number }): void {
  if (r.from === s.id) s.readStates.push({ ctx: r.ctx, index: r.index, ok: true });
  else s.send({ type: 'readIndexResp', to: r.from, ctx: r.ctx, index: r.index, reject: false });
}

export function handleReadIndexResponse(s: CoreState, m: ReadIndexResponse): void {
  s.readStates.push({ ctx: m.ctx, index: m.index, ok: !m.reject });
}

/** Leadership is gone: every read waiting for confirmation fails. */
export function failReads(s: CoreState): void {
  for (const r of [...s.readQueue, ...s.deferredReads]) {
    if (r.from === s.id) s.readStates.push({ ctx: r.ctx, index: 0, ok: false });
    else s.send({ type: 'readIndexResp', to: r.from, ctx: r.ctx, index: 0, reject: true });
  }
  s.readQueue = [];
  s.deferredReads = [];
}
