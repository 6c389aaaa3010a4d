/**
 * Leadership as a RaftNode's callers see it: the callbacks told of every change of leader
 * (or of our own leadership), a wait for a handover, and when the leader was last heard from.
 */
import type { Role } from './core/messages.js';
import type { RaftLogger, ServerAddress } from './node-options.js';
import { YurtError } from '../structs/errors.js';

export type LeadershipListener = (isLeader: boolean, leader: ServerAddress | null) => void;

export interface LeadershipChange {
  isLeader: boolean;
  /** Another server leads now (or none is known). */
  leaderChanged: boolean;
  /** We led and no longer do. */
  lost: boolean;
}

export class LeadershipWatch {
  private readonly listeners = new Set<LeadershipListener>();
  private wasLeader = false;
  private lastLeaderId: string | null = null;
  /** Date.now() when the leader was last heard from; -1: never. */
  lastContact = -1;

  constructor(private readonly logger: RaftLogger) {}

  /** Called on every change of leader (or of our own leadership); returns an unsubscribe. */
  onChange(cb: LeadershipListener): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Takes the core's view of leadership; null when it is what was last seen. */
  see(role: Role, lead: string | null): LeadershipChange | null {
    const isLeader = role === 'leader';
    if (isLeader === this.wasLeader && lead === this.lastLeaderId) return null;
    const lost = this.wasLeader && !isLeader;
    this.wasLeader = isLeader;
    const leaderChanged = lead !== this.lastLeaderId;
    this.lastLeaderId = lead;
    return { isLeader, leaderChanged, lost };
  }

  notify(isLeader: boolean, leader: ServerAddress | null): void {
    this.wasLeader = isLeader;
    for (const cb of [...this.listeners]) {
      try {
        cb(isLeader, leader);
      } catch (e) {
        this.logger.error({ err: (e as Error).message }, 'leadership listener threw');
      }
    }
  }

  /** The node stopped or failed: listeners told that we lead learn that we no longer do. */
  relinquish(): void {
    if (this.wasLeader) this.notify(false, null);
  }

  /** Resolves with the new leader once this server has stepped down; rejects with
   *  'timeout' after `limitMs`. */
  handedOver(limitMs: number): Promise<ServerAddress> {
    return new Promise<ServerAddress>((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new YurtError('timeout', `leadership was not transferred within ${limitMs} ms`));
      }, limitMs);
      const unsubscribe = this.onChange((isLeader, leader) => {
        if (isLeader || leader === null) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(leader);
      });
    });
  }
}
