/**
 * Client heartbeat timers, kept by the leader. The TTL grows with the number of nodes so the
 * leader handles at most `maxHeartbeatsPerSecond` (Nomad's rule: max(min_heartbeat_ttl,
 * nodes / max_heartbeats_per_second), plus a random stagger of up to that again). A node
 * that misses its TTL plus `heartbeat_grace` is declared down. Right after a leader change
 * every node gets the longer failover TTL, so a new leader does not mark every node down
 * before they had a chance to find it.
 */
import type { ServerConfig } from '../config/agent-config.js';

export interface HeartbeatConfig {
  minHeartbeatTtlMs: number;
  maxHeartbeatsPerSecond: number;
  heartbeatGraceMs: number;
  failoverTtlMs: number;
}

export const DEFAULT_HEARTBEAT_CONFIG: HeartbeatConfig = {
  minHeartbeatTtlMs: 10_000,
  maxHeartbeatsPerSecond: 50,
  heartbeatGraceMs: 10_000,
  failoverTtlMs: 300_000,
};

/** The server stanza's heartbeat settings (Nomad's names), as the timers take them. */
export function heartbeatConfigOf(s: Pick<ServerConfig, 'heartbeatGraceMs' | 'minHeartbeatTtlMs' | 'maxHeartbeatsPerSecond' | 'failoverHeartbeatTtlMs'>): HeartbeatConfig {
  return {
    heartbeatGraceMs: s.heartbeatGraceMs,
    minHeartbeatTtlMs: s.minHeartbeatTtlMs,
    maxHeartbeatsPerSecond: s.maxHeartbeatsPerSecond,
    failoverTtlMs: s.failoverHeartbeatTtlMs,
  };
}

export class HeartbeatTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly cfg: HeartbeatConfig,
    private readonly onExpire: (nodeId: string) => void,
    private readonly random: () => number = Math.random,
  ) {}

  /** The TTL to hand a client now (it should heartbeat before it runs out). */
  nextTtlMs(): number {
    const base = Math.max(this.cfg.minHeartbeatTtlMs, (this.timers.size / this.cfg.maxHeartbeatsPerSecond) * 1000);
    return Math.round(base + this.random() * base);
  }

  /** Restart a node's timer: it is declared down if nothing is heard for ttl + grace. */
  reset(nodeId: string, ttlMs: number): void {
    const prev = this.timers.get(nodeId);
    if (prev) clearTimeout(prev);
    const t = setTimeout(() => {
      this.timers.delete(nodeId);
      this.onExpire(nodeId);
    }, ttlMs + this.cfg.heartbeatGraceMs);
    t.unref();
    this.timers.set(nodeId, t);
  }

  /** After winning an election: give every known live node the failover TTL. */
  initialize(nodeIds: string[]): void {
    for (const id of nodeIds) this.reset(id, this.cfg.failoverTtlMs);
  }

  remove(nodeId: string): void {
    const t = this.timers.get(nodeId);
    if (t) clearTimeout(t);
    this.timers.delete(nodeId);
  }

  clear(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  size(): number {
    return this.timers.size;
  }
}
