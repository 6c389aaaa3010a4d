/**
 * What a leader accepts into its log, and when it refuses: commands and barriers (with
 * back-pressure on uncommitted bytes), membership changes (one at a time), and handing
 * leadership over.
 */
import type { ErrorCode } from '../../structs/errors.js';
import { YurtError } from '../../structs/errors.js';
import type { ConfigChange } from './configuration.js';
import { applyConfigChange, encodeConfiguration, voterIds } from './configuration.js';
import type { CoreState } from './core-state.js';
import { afterCommit } from './leader.js';
import { bestTransferTarget } from './membership.js';
import type { EntryType } from './messages.js';
import { appendEntries, maybeCommit, sendAppend } from './replication.js';

/** What a proposal to the leader came to. `unchanged`: a membership change that was already
 *  in effect (index is the configuration entry holding it). */
export type Proposal =
  | { ok: true; index: number; term: number; unchanged?: boolean }
  | { ok: false; code: ErrorCode; reason: string; details?: Record<string, unknown> };

function notLeaderRefusal(s: CoreState): Proposal {
  return { ok: false, code: 'not_leader', reason: 'not the leader', details: { leaderId: s.lead } };
}

function refuseProposal(s: CoreState): Proposal | null {
  if (s.role !== 'leader') return notLeaderRefusal(s);
  if (s.leadTransferee !== null) {
    return {
      ok: false,
      code: 'unavailable',
      reason: `leadership is being transferred to ${s.leadTransferee}`,
      details: { transferee: s.leadTransferee },
    };
  }
  return null;
}

export function proposeEntry(s: CoreState, type: EntryType, data: Uint8Array): Proposal {
  const refused = refuseProposal(s);
  if (refused !== null) return refused;
  const size = data.byteLength;
  if (size > 0 && s.uncommittedSize > 0 && s.uncommittedSize + size > s.maxUncommittedSize) {
    return {
      ok: false,
      code: 'unavailable',
      reason: `back-pressure: ${s.uncommittedSize} bytes of proposals are not yet committed (limit ${s.maxUncommittedSize})`,
      details: { reason: 'backpressure', uncommittedBytes: s.uncommittedSize, limit: s.maxUncommittedSize },
    };
  }
  s.uncommittedSize += size;
  const index = appendEntries(s, [{ type, data }]);
  return { ok: true, index, term: s.term };
}

/** Single-server changes are safe only one at a time (thesis §4.1), and only once the
 *  leader has committed an entry of its own term (the fix in Ongaro's 2015 erratum). */
export function proposeConfigChange(s: CoreState, change: ConfigChange): Proposal {
  const refused = refuseProposal(s);
  if (refused !== null) return refused;
  const next = applyConfigChange(s.config.configuration, change);
  if (next instanceof YurtError) return { ok: false, code: next.code, reason: next.message };
  if (next === null) return { ok: true, index: s.config.index, term: s.term, unchanged: true };
  if (s.config.index > s.log.committed) {
    return {
      ok: false,
      code: 'conflict',
      reason: `the configuration change at index ${s.config.index} is not committed yet; membership changes go one at a time`,
    };
  }
  if (!s.committedInTerm()) {
    return { ok: false, code: 'unavailable', reason: 'the new leader has not committed an entry of its term yet; retry shortly' };
  }
  const index = appendEntries(s, [{ type: 'config', data: encodeConfiguration(next) }]);
  s.logger.info({ change, index }, 'proposed a configuration change');
  // Removing a voter can shrink the majority enough to commit what is already replicated.
  if (maybeCommit(s)) afterCommit(s);
  return { ok: true, index, term: s.term };
}

/** TimeoutNow (thesis §3.10) goes out once the target's log matches ours; the attempt is
 *  abandoned after an election timeout (see tickHeartbeat). */
export function transferLeadership(s: CoreState, to?: string): Proposal {
  if (s.role !== 'leader') return notLeaderRefusal(s);
  const target = to ?? bestTransferTarget(s);
  if (target === undefined) return { ok: false, code: 'unavailable', reason: 'there is no other voter to hand leadership to' };
  if (target === s.id) return { ok: false, code: 'invalid_argument', reason: `${target} is already the leader` };
  const pr = s.prs.get(target);
  if (pr === undefined || !voterIds(s.config.configuration).includes(target)) {
    return { ok: false, code: 'invalid_argument', reason: `${target} is not a voter of the configuration` };
  }
  if (s.leadTransferee !== target) {
    s.logger.info({ to: target, match: pr.match, lastIndex: s.log.lastIndex() }, 'transferring leadership');
    s.leadTransferee = target;
    // The transfer must finish within one election timeout.
    s.electionElapsed = 0;
    if (pr.match === s.log.lastIndex()) s.send({ type: 'timeoutNow', to: target });
    else sendAppend(s, target);
  }
  return { ok: true, index: s.log.lastIndex(), term: s.term };
}
