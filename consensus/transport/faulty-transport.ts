/**
 * Network faults injected into a real transport, because this platform has no `tc netem`
 * (PLATFORM.md): wraps any Transport and, per the rules in force, drops, delays, duplicates
 * and reorders outgoing messages, and cuts this server off from named peers in both
 * directions (outgoing messages are dropped, incoming ones ignored). Rules are plain data,
 * so a test can change them at runtime, also in another process over its control channel.
 */
import type { Message } from '../core/messages.js';
import type { Transport } from './transport.js';

export interface LinkFaults {
  /** Probability in [0, 1] of losing each message. */
  drop?: number;
  /** Probability of delivering a message twice. */
  duplicate?: number;
  /** Added latency, plus a uniform random jitter. */
  delayMs?: number;
  jitterMs?: number;
  /** Probability that a message is held back and overtaken by the next one to that peer. */
  reorder?: number;
}

export interface FaultRules {
  /** Faults on every link, unless `peers` names the peer. */
  all?: LinkFaults;
  peers?: Record<string, LinkFaults>;
  /** Peers this server can neither reach nor hear from. */
  partitioned?: string[];
}

export interface FaultStats {
  dropped: number;
  duplicated: number;
  delayed: number;
  reordered: number;
  blocked: number;
}

/** How long a held-back message waits for another to overtake it. */
const REORDER_HOLD_MS = 20;

export class FaultyTransport implements Transport {
  private rules: FaultRules = {};
  private partitioned = new Set<string>();
  private readonly held = new Map<string, { msg: Message; timer: NodeJS.Timeout }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly counters: FaultStats = { dropped: 0, duplicated: 0, delayed: 0, reordered: 0, blocked: 0 };

  constructor(
    private readonly inner: Transport,
    private readonly random: () => number = Math.random,
  ) {}

  /** Replaces the rules in force (`{}` heals everything). */
  setFaults(rules: FaultRules): void {
    this.rules = structuredClone(rules);
    this.partitioned = new Set(rules.partitioned ?? []);
  }

  faults(): FaultRules {
    return structuredClone(this.rules);
  }

  stats(): FaultStats {
    return { ...this.counters };
  }

  send(to: string, msg: Message): void {
    if (this.partitioned.has(to)) {
      this.counters.blocked++;
      return;
    }
    const f = this.rules.peers?.[to] ?? this.rules.all;
    if (f === undefined) {
      this.inner.send(to, msg);
      return;
    }
    if (f.drop !== undefined && this.random() < f.drop) {
      this.counters.dropped++;
      return;
    }
    const copies = f.duplicate !== undefined && this.random() < f.duplicate ? 2 : 1;
    if (copies === 2) this.counters.duplicated++;
    for (let i = 0; i < copies; i++) this.schedule(to, msg, f);
  }

  onMessage(handler: (msg: Message) => void): void {
    this.inner.onMessage((m) => {
      if (this.partitioned.has(m.from)) {
        this.counters.blocked++;
        return;
      }
      handler(m);
    });
  }

  setPeers(peers: ReadonlyArray<{ id: string; address: string }>): void {
    this.inner.setPeers?.(peers);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const h of this.held.values()) clearTimeout(h.timer);
    this.timers.clear();
    this.held.clear();
    await this.inner.close();
  }

  private schedule(to: string, msg: Message, f: LinkFaults): void {
    const delay = (f.delayMs ?? 0) + (f.jitterMs ?? 0) * this.random();
    const go = () => this.deliver(to, msg, f);
    if (delay <= 0) {
      go();
      return;
    }
    this.counters.delayed++;
    const t = setTimeout(() => {
      this.timers.delete(t);
      go();
    }, delay);
    this.timers.add(t);
  }

  /** Sends now, unless this message is chosen to be overtaken by the next one. */
  private deliver(to: string, msg: Message, f: LinkFaults): void {
    if (this.partitioned.has(to)) {
      this.counters.blocked++;
      return;
    }
    const waiting = this.held.get(to);
    if (waiting !== undefined) {
      clearTimeout(waiting.timer);
      this.held.delete(to);
      this.inner.send(to, msg);
      this.inner.send(to, waiting.msg);
      return;
    }
    if (f.reorder !== undefined && this.random() < f.reorder) {
      this.counters.reordered++;
      const timer = setTimeout(() => {
        this.held.delete(to);
        if (!this.partitioned.has(to)) this.inner.send(to, msg);
      }, REORDER_HOLD_MS);
      this.held.set(to, { msg, timer });
      return;
    }
    this.inner.send(to, msg);
  }
}
