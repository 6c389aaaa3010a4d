/**
 * The core's output: a `Ready` batch (state to persist, messages to send, entries to apply)
 * taken by the shell, and `advance` once the shell has done what it said.
 */
import { YurtError } from '../../structs/errors.js';
import type { CoreState } from './core-state.js';
import { afterCommit } from './leader.js';
import type { HardState, Message, Ready, SoftState } from './messages.js';
import { bcastAppend, bcastHeartbeat, maybeCommit } from './replication.js';

/** Messages only a leader sends: they promise nothing about its disk, so once its term is
 *  durable they may leave before the Ready's entries are (thesis §10.2.1). */
const leaderMessageTypes: ReadonlySet<Message['type']> = new Set(['app', 'heartbeat', 'snap', 'timeoutNow', 'readIndexResp']);

export function hasReady(s: CoreState): boolean {
  if (s.readyOutstanding) return false;
  return (
    s.msgs.length > 0 ||
    s.pendingBcast ||
    s.pendingHeartbeat ||
    s.readStates.length > 0 ||
    s.log.unstable.entries.length > 0 ||
    s.log.unstable.snapshot !== undefined ||
    s.log.hasNextCommittedEntries() ||
    !sameHardState(s.hardState(), s.prevHardState) ||
    !sameSoftState(s.softState(), s.prevSoftState)
  );
}

export function ready(s: CoreState): Ready {
  if (s.readyOutstanding) throw new YurtError('internal', 'raft: ready() called before advance() of the previous Ready');
  if (s.pendingBcast) bcastAppend(s);
  if (s.pendingHeartbeat) bcastHeartbeat(s);
  s.pendingBcast = false;
  s.pendingHeartbeat = false;
  s.readyOutstanding = true;
  const early: Message[] = [];
  const late: Message[] = [];
  // A leader whose term is not yet durable (it may have just won) must not let anything
  // carrying that term out before it is: a crash could let it vote again in that term.
  const termDurable = s.role === 'leader' && s.prevHardState.term === s.term;
  for (const m of s.msgs) (termDurable && leaderMessageTypes.has(m.type) ? early : late).push(m);
  s.msgs = [];
  const rd: Ready = {
    entries: s.log.unstableEntries(),
    committedEntries: s.log.nextCommittedEntries(s.maxCommittedSize),
    earlyMessages: early,
    messages: late,
    readStates: s.readStates,
  };
  s.readStates = [];
  const snap = s.log.unstable.snapshot;
  if (snap !== undefined) rd.snapshot = snap;
  const hs = s.hardState();
  if (!sameHardState(hs, s.prevHardState)) rd.hardState = hs;
  const ss = s.softState();
  if (!sameSoftState(ss, s.prevSoftState)) {
    rd.softState = ss;
    s.prevSoftState = ss;
  }
  return rd;
}

export function advance(s: CoreState, rd: Ready): void {
  if (!s.readyOutstanding) throw new YurtError('internal', 'raft: advance() without an outstanding Ready');
  s.readyOutstanding = false;
  if (rd.hardState !== undefined) s.prevHardState = rd.hardState;
  if (rd.snapshot !== undefined) s.log.stableSnapTo(rd.snapshot.meta.index);
  const last = rd.entries.at(-1);
  if (last !== undefined && s.log.stableTo(last.index, last.term) && s.role === 'leader') {
    // The leader counts its own copy only once it is durable, so a single-voter cluster
    // commits exactly on local persistence.
    s.prs.get(s.id)?.maybeUpdate(last.index);
    if (maybeCommit(s)) afterCommit(s);
  }
  const applied = rd.committedEntries.at(-1);
  if (applied !== undefined) {
    s.log.appliedTo(applied.index);
    let size = 0;
    for (const e of rd.committedEntries) size += e.data.byteLength;
    // Entries of earlier leaders were never counted here: clamp at zero.
    s.uncommittedSize = Math.max(0, s.uncommittedSize - size);
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.leaderId === b.leaderId && a.role === b.role;
}
