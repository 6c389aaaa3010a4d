/**
 * Leader election (§5.2) with PreVote (thesis §9.6): campaigning on an election timeout,
 * asking voters, granting votes (one per term, only for a log at least as up-to-date as
 * ours, §5.4.1) and counting them.
 */
import { voterIds } from './configuration.js';
import type { CoreState } from './core-state.js';
import type { PreVoteRequest, PreVoteResponse, VoteRequest, VoteResponse } from './messages.js';
import { voteResult } from './quorum.js';
import { becomeCandidate, becomeFollower, becomeLeader, becomePreCandidate } from './roles.js';

/** Starts a (pre-)election; `transfer`: on a leader's TimeoutNow, which skips the pre-vote. */
export function hup(s: CoreState, transfer: boolean): boolean {
  if (s.role === 'leader' || !s.promotable()) return false;
  if (s.preVote && !transfer) becomePreCandidate(s);
  else becomeCandidate(s);
  campaignRound(s, transfer);
  return true;
}

function campaignRound(s: CoreState, transfer: boolean): void {
  const pre = s.role === 'precandidate';
  s.votes.set(s.id, true);
  const voters = voterIds(s.config.configuration);
  if (voteResult(voters, s.votes) === 'won') {
    // A single-voter configuration: our own vote is a majority.
    if (pre) {
      becomeCandidate(s);
      campaignRound(s, transfer);
    } else {
      becomeLeader(s);
    }
    return;
  }
  const lastLogIndex = s.log.lastIndex();
  const lastLogTerm = s.log.lastTerm();
  for (const to of voters) {
    if (to === s.id) continue;
    if (pre) s.send({ type: 'preVote', to, term: s.term + 1, lastLogIndex, lastLogTerm });
    else s.send({ type: 'vote', to, lastLogIndex, lastLogTerm, transfer });
  }
}

/** The tick of followers and (pre)candidates. */
export function tickElection(s: CoreState): void {
  s.electionElapsed++;
  if (s.promotable() && s.electionElapsed >= s.randomizedElectionTimeout) {
    s.electionElapsed = 0;
    hup(s, false);
  }
}

export function handleVoteRequest(s: CoreState, m: VoteRequest | PreVoteRequest): void {
  const pre = m.type === 'preVote';
  // One vote per term (§5.2); a pre-vote for a later term commits us to nothing.
  const canVote = s.vote === m.from || (s.vote === '' && s.lead === null) || (pre && m.term > s.term);
  // ...and only for a log at least as up-to-date as ours (§5.4.1).
  if (canVote && s.log.isUpToDate(m.lastLogIndex, m.lastLogTerm)) {
    if (pre) {
      // Granted with the term asked about, so the pre-candidate counts it for that round.
      s.send({ type: 'preVoteResp', to: m.from, term: m.term, reject: false });
    } else {
      s.electionElapsed = 0;
      s.vote = m.from;
      s.send({ type: 'voteResp', to: m.from, reject: false });
    }
  } else {
    s.send({ type: pre ? 'preVoteResp' : 'voteResp', to: m.from, reject: true });
  }
}

export function handleVoteResponse(s: CoreState, m: VoteResponse | PreVoteResponse): void {
  if (!s.votes.has(m.from)) s.votes.set(m.from, !m.reject);
  switch (voteResult(voterIds(s.config.configuration), s.votes)) {
    case 'won':
      if (s.role === 'precandidate') {
        becomeCandidate(s);
        campaignRound(s, false);
      } else {
        becomeLeader(s);
      }
      return;
    case 'lost':
      becomeFollower(s, s.term, null);
      return;
    case 'pending':
      return;
  }
}
