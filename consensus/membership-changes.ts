/** How a RaftNode tells that a new server has caught up enough to become a voter. */
import type { RaftCore } from './core/raft-core.js';
import type { NodeTiming } from './node-options.js';
import { YurtError } from '../structs/errors.js';

export interface CatchUpContext {
  /** The core, or throws when the node is not running. */
  running: () => RaftCore;
  notLeader: () => Error;
  timing: NodeTiming;
}

/**
 * Thesis §4.2.1: replicate to the new server in rounds, each up to the leader's last index
 * when the round began; when a round takes less than an election timeout, the server is
 * close enough that promoting it will not stall commits. At most ten rounds.
 */
export async function waitCaughtUp(ctx: CatchUpContext, id: string, deadline: number): Promise<void> {
  const electionMs = ctx.timing.electionTicks * ctx.timing.tickMs;
  for (let round = 0; round < 10; round++) {
    const target = ctx.running().log.lastIndex();
    const started = Date.now();
    for (;;) {
      const core = ctx.running();
      if (core.role !== 'leader') throw ctx.notLeader();
      const pr = core.status().progress[id];
      if (pr === undefined) throw new YurtError('not_found', `server ${id} is not in the configuration`);
      if (pr.match >= target) break;
      if (Date.now() > deadline) {
        throw new YurtError('timeout', `server ${id} did not catch up with the log in time (at ${pr.match} of ${target})`, {
          details: { id, match: pr.match, target },
        });
      }
      await new Promise((r) => setTimeout(r, ctx.timing.tickMs));
    }
    if (Date.now() - started <= electionMs) return;
  }
  throw new YurtError('timeout', `server ${id} keeps falling behind the log; not promoting it`, { details: { id } });
}
