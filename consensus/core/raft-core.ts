/**
 * The Raft algorithm as a pure state machine, in the style of etcd-io/raft: the shell calls
 * `tick()` on a timer and `step(msg)` per message, then takes a `Ready` (state to persist,
 * messages to send, entries to apply) and calls `advance`. No clock, disk, network or
 * randomness of its own: time is ticks, randomness is injected.
 *
 * Role behaviour is swapped, not branched: `becomeX` (roles.ts) installs `stepX` and the
 * matching tick function. `step` settles terms once (§5.1), then delegates to the role.
 *
 * Beyond the paper's core (§5): PreVote and CheckQuorum (thesis §9.6, §6.2), ReadIndex
 * reads (§6.4), leadership transfer (§3.10), single-server membership changes (§4.1-4.2),
 * snapshots (§5 of the thesis, §7 of the paper), and flow control — a window of in-flight
 * appends per follower and a cap on the bytes proposed but not yet committed.
 *
 * RaftCore is the dispatcher; the algorithm lives beside it, one concept per module, as
 * functions over the shared CoreState: election.ts, replication.ts, leader.ts, roles.ts,
 * read-index.ts, membership.ts, proposals.ts, ready.ts.
 */
import type { ConfigChange, IndexedConfiguration } from './configuration.js';
import type { RaftCoreOptions } from './core-options.js';
import type { CoreStatus } from './core-status.js';
import { coreStatus } from './core-status.js';
import type { RoleBehaviours } from './core-state.js';
import { CoreState, noData } from './core-state.js';
import { handleVoteRequest, handleVoteResponse, hup, tickElection } from './election.js';
import { handleAppendResponse, tickHeartbeat } from './leader.js';
import type { RaftLog } from './log.js';
import { configurationAt } from './membership.js';
import type { HardState, Message, Ready, Role, SoftState } from './messages.js';
import type { Proposal } from './proposals.js';
import { proposeConfigChange, proposeEntry, transferLeadership } from './proposals.js';
import { advance, hasReady, ready } from './ready.js';
import { handleReadIndexRequest, handleReadIndexResponse } from './read-index.js';
import { handleAppend, handleHeartbeat, handleHeartbeatResponse, handleSnapshot } from './replication.js';
import { becomeFollower } from './roles.js';

export class RaftCore {
  private readonly s: CoreState;

  constructor(opts: RaftCoreOptions) {
    const s = new CoreState(opts, roleBehaviours);
    this.s = s;
    s.config = configurationAt(s, s.log.lastIndex());
    becomeFollower(s, s.term, null);
    s.prevSoftState = s.softState();
  }

  get id(): string {
    return this.s.id;
  }

  get term(): number {
    return this.s.term;
  }

  get vote(): string {
    return this.s.vote;
  }

  get lead(): string | null {
    return this.s.lead;
  }

  get role(): Role {
    return this.s.role;
  }

  get log(): RaftLog {
    return this.s.log;
  }

  // ---- inputs -------------------------------------------------------------------------

  /** One unit of logical time. */
  tick(): void {
    this.s.tickRole(this.s);
  }

  step(m: Message): void {
    const s = this.s;
    if (m.to !== s.id) {
      s.logger.warn({ type: m.type, from: m.from, to: m.to }, 'dropped a message addressed to another server');
      return;
    }
    if ((m.type === 'vote' || m.type === 'preVote') && !s.mayVoteFor(m.from)) {
      // A server outside our configuration (typically one removed while it was cut off,
      // which never learnt it was removed) must not disturb the cluster by campaigning.
      s.logger.debug({ from: m.from, term: m.term }, 'ignored a vote request from a server outside the configuration');
      return;
    }
    if (m.term > s.term) {
      if ((m.type === 'vote' && !m.transfer) || m.type === 'preVote') {
        if (s.inLease()) {
          // We heard from a leader less than an election timeout ago: a candidate that
          // cannot hear it is not a reason to depose it (thesis §4.2.3).
          s.logger.debug({ from: m.from, term: m.term, type: m.type }, 'ignored a vote request: the leader is alive');
          return;
        }
      }
      if (m.type === 'preVote' || (m.type === 'preVoteResp' && !m.reject)) {
        // Pre-votes are about a term nobody holds yet; they change no one's term.
      } else {
        const leader = m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap' ? m.from : null;
        s.logger.info({ from: m.from, term: m.term, ourTerm: s.term, type: m.type }, 'newer term seen');
        becomeFollower(s, m.term, leader);
      }
    } else if (m.term < s.term) {
      switch (m.type) {
        case 'app':
        case 'heartbeat':
        case 'snap':
          // A deposed leader still thinks it leads: our reply carries the newer term, which
          // makes it step down. It also unsticks a server whose term ran ahead while it was
          // cut off and that CheckQuorum keeps from winning votes.
          s.send({ type: 'appResp', to: m.from, reject: false, index: 0, rejectHint: 0, hintTerm: 0 });
          return;
        case 'preVote':
          // Tell the pre-candidate about the newer term so it stops asking.
          s.send({ type: 'preVoteResp', to: m.from, reject: true });
          return;
        default:
          return; // stale
      }
    }
    s.stepRole(s, m);
  }

  /** Starts an election now, as an election timeout would (with a pre-vote first when
   *  enabled). Returns whether it did. */
  campaign(): boolean {
    return hup(this.s, false);
  }

  /** Appends a command to the leader's log. */
  propose(data: Uint8Array): Proposal {
    return proposeEntry(this.s, 'normal', data);
  }

  /** Appends an entry the state machine never sees; once it is applied, everything before
   *  it is too. Backs the shell's barrier(). */
  proposeBarrier(): Proposal {
    return proposeEntry(this.s, 'noop', noData);
  }

  /**
   * Proposes one membership change. Refused while another one is uncommitted (single-server
   * changes are safe only one at a time, thesis §4.1) and before the leader has committed an
   * entry of its own term (the fix to single-server changes in Ongaro's 2015 erratum).
   */
  proposeConfigChange(change: ConfigChange): Proposal {
    return proposeConfigChange(this.s, change);
  }

  /**
   * Hands leadership to `to` (default: the most up-to-date voter): once its log matches
   * ours it is told to campaign at once (TimeoutNow, thesis §3.10). Proposals are refused
   * meanwhile; the attempt is abandoned after an election timeout.
   */
  transferLeadership(to?: string): Proposal {
    return transferLeadership(this.s, to);
  }

  /**
   * Asks for a linearizable read index (thesis §6.4); `ctx` identifies the request in the
   * `ReadState` that answers it. The leader confirms it still leads with a heartbeat round
   * acknowledged by a majority; a follower forwards the request to its leader. Returns
   * false when no leader is known.
   */
  readIndex(ctx: number): boolean {
    const s = this.s;
    if (s.role === 'leader') {
      handleReadIndexRequest(s, s.id, ctx);
      return true;
    }
    if (s.lead === null || s.lead === s.id) return false;
    s.send({ type: 'readIndex', to: s.lead, ctx });
    return true;
  }

  /** The shell could not deliver the snapshot sent to `to`: try again instead of waiting. */
  reportSnapshotFailure(to: string): void {
    const pr = this.s.prs.get(to);
    if (this.s.role === 'leader' && pr?.state === 'snapshot') {
      pr.snapshotFailed();
      this.s.logger.info({ to }, 'snapshot delivery failed; will retry');
    }
  }

  // ---- outputs ------------------------------------------------------------------------

  hasReady(): boolean {
    return hasReady(this.s);
  }

  /** Takes the next batch of work. Only one Ready may be outstanding: call `advance` first. */
  ready(): Ready {
    return ready(this.s);
  }

  /** The shell persisted `rd`, sent its messages and applied its committed entries. */
  advance(rd: Ready): void {
    advance(this.s, rd);
  }

  // ---- queries ------------------------------------------------------------------------

  configuration(): IndexedConfiguration {
    return this.s.config;
  }

  softState(): SoftState {
    return this.s.softState();
  }

  hardState(): HardState {
    return this.s.hardState();
  }

  /** Whom leadership is being handed to, if a transfer is under way. */
  transferee(): string | null {
    return this.s.leadTransferee;
  }

  status(): CoreStatus {
    return coreStatus(this.s);
  }

  /** Whether this server may become leader: it is a voter of its latest configuration. */
  promotable(): boolean {
    return this.s.promotable();
  }

  /** The latest configuration at or below `index`: from the unstable tail, the stored
   *  configuration entries, or the snapshot that replaced them. */
  configurationAt(index: number): IndexedConfiguration {
    return configurationAt(this.s, index);
  }
}

// ---- roles ------------------------------------------------------------------------------

function stepFollower(s: CoreState, m: Message): void {
  switch (m.type) {
    case 'vote':
    case 'preVote':
      handleVoteRequest(s, m);
      return;
    case 'app':
      s.electionElapsed = 0;
      s.lead = m.from;
      handleAppend(s, m);
      return;
    case 'heartbeat':
      s.electionElapsed = 0;
      s.lead = m.from;
      handleHeartbeat(s, m);
      return;
    case 'snap':
      s.electionElapsed = 0;
      s.lead = m.from;
      handleSnapshot(s, m);
      return;
    case 'timeoutNow':
      if (hup(s, true)) s.logger.info({ from: m.from, term: s.term }, 'leadership handed to us; campaigning at once');
      return;
    case 'readIndex':
      s.send({ type: 'readIndexResp', to: m.from, ctx: m.ctx, index: 0, reject: true });
      return;
    case 'readIndexResp':
      handleReadIndexResponse(s, m);
      return;
    case 'voteResp':
    case 'preVoteResp':
    case 'appResp':
    case 'heartbeatResp':
      return; // answers meant for a role we no longer hold
  }
}

/** Candidates and pre-candidates. */
function stepCandidate(s: CoreState, m: Message): void {
  switch (m.type) {
    case 'vote':
    case 'preVote':
      handleVoteRequest(s, m);
      return;
    case 'app':
      // §5.2: a leader of our own term exists; concede.
      becomeFollower(s, m.term, m.from);
      handleAppend(s, m);
      return;
    case 'heartbeat':
      becomeFollower(s, m.term, m.from);
      handleHeartbeat(s, m);
      return;
    case 'snap':
      becomeFollower(s, m.term, m.from);
      handleSnapshot(s, m);
      return;
    case 'voteResp':
      if (s.role === 'candidate') handleVoteResponse(s, m);
      return;
    case 'preVoteResp':
      if (s.role === 'precandidate') handleVoteResponse(s, m);
      return;
    case 'readIndex':
      s.send({ type: 'readIndexResp', to: m.from, ctx: m.ctx, index: 0, reject: true });
      return;
    case 'readIndexResp':
      handleReadIndexResponse(s, m);
      return;
    case 'timeoutNow': // already campaigning
    case 'appResp':
    case 'heartbeatResp':
      return;
  }
}

function stepLeader(s: CoreState, m: Message): void {
  switch (m.type) {
    case 'vote':
    case 'preVote':
      handleVoteRequest(s, m); // we voted for ourselves this term: refused
      return;
    case 'app':
    case 'heartbeat':
    case 'snap':
      // Election Safety (§5.2) allows one leader per term; a second one means a bug or a
      // misconfigured cluster (two servers sharing an id). Ignore and say so.
      s.logger.warn({ from: m.from, term: m.term }, 'another leader in our term');
      return;
    case 'appResp':
      handleAppendResponse(s, m);
      return;
    case 'heartbeatResp':
      handleHeartbeatResponse(s, m);
      return;
    case 'readIndex':
      handleReadIndexRequest(s, m.from, m.ctx);
      return;
    case 'voteResp':
    case 'preVoteResp':
    case 'timeoutNow':
    case 'readIndexResp':
      return;
  }
}

const roleBehaviours: RoleBehaviours = {
  follower: { step: stepFollower, tick: tickElection },
  candidate: { step: stepCandidate, tick: tickElection },
  leader: { step: stepLeader, tick: tickHeartbeat },
};
