/**
 * Role changes. Role behaviour is swapped, not branched: each `becomeX` installs the
 * role's step and tick functions (from the table RaftCore supplies) and resets the
 * volatile state of the role it leaves.
 */
import { YurtError } from '../../structs/errors.js';
import type { CoreState } from './core-state.js';
import { noData } from './core-state.js';
import { syncProgress } from './membership.js';
import { failReads } from './read-index.js';
import { appendEntries } from './replication.js';

export function becomeFollower(s: CoreState, term: number, lead: string | null): void {
  s.stepRole = s.behaviours.follower.step;
  s.tickRole = s.behaviours.follower.tick;
  reset(s, term);
  s.lead = lead;
  s.role = 'follower';
}

export function becomePreCandidate(s: CoreState): void {
  if (s.role === 'leader') throw new YurtError('internal', 'raft: leader cannot become pre-candidate');
  // Neither the term nor the vote changes: a pre-vote round disturbs nobody (thesis §9.6).
  s.stepRole = s.behaviours.candidate.step;
  s.tickRole = s.behaviours.candidate.tick;
  s.votes.clear();
  s.lead = null;
  s.role = 'precandidate';
  s.randomizeElectionTimeout();
  s.logger.info({ term: s.term }, 'starting a pre-vote');
}

export function becomeCandidate(s: CoreState): void {
  if (s.role === 'leader') throw new YurtError('internal', 'raft: leader cannot become candidate');
  s.stepRole = s.behaviours.candidate.step;
  s.tickRole = s.behaviours.candidate.tick;
  reset(s, s.term + 1);
  s.vote = s.id;
  s.role = 'candidate';
  s.logger.info({ term: s.term }, 'campaigning');
}

export function becomeLeader(s: CoreState): void {
  if (s.role === 'follower') throw new YurtError('internal', 'raft: follower cannot become leader without an election');
  s.stepRole = s.behaviours.leader.step;
  s.tickRole = s.behaviours.leader.tick;
  reset(s, s.term);
  s.lead = s.id;
  s.role = 'leader';
  syncProgress(s);
  const self = s.prs.get(s.id);
  if (self !== undefined) {
    self.maybeUpdate(s.log.stableIndex());
    self.recentActive = true;
  }
  // A no-op of the new term lets the leader commit (and learn the commit point of) the
  // entries of earlier terms (§5.4.2, thesis §6.4).
  appendEntries(s, [{ type: 'noop', data: noData }]);
  s.logger.info({ term: s.term, lastIndex: s.log.lastIndex() }, 'became leader');
}

function reset(s: CoreState, term: number): void {
  if (s.term !== term) {
    s.term = term;
    s.vote = '';
  }
  failReads(s);
  s.lead = null;
  s.electionElapsed = 0;
  s.heartbeatElapsed = 0;
  s.randomizeElectionTimeout();
  s.votes.clear();
  s.prs.clear();
  s.leadTransferee = null;
  s.uncommittedSize = 0;
  s.pendingBcast = false;
  s.pendingHeartbeat = false;
}
