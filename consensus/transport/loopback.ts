/**
 * An in-process network joining several RaftNodes for tests: each server gets a
 * `LoopbackTransport` from one `LoopbackNetwork`. Messages arrive asynchronously (a later
 * turn of the event loop) as copies, the way a real network delivers them, and the test
 * can cut links, isolate a server, or drop messages through a filter.
 */
import type { Message } from '../core/messages.js';
import type { Transport } from './transport.js';

export class LoopbackNetwork {
  private readonly handlers = new Map<string, (msg: Message) => void>();
  private readonly cuts = new Set<string>();
  /** Return false to drop a message (fault injection). */
  filter: ((msg: Message) => boolean) | null = null;
  /** Messages handed to the network, delivered or not. */
  sentCount = 0;

  transport(id: string): LoopbackTransport {
    return new LoopbackTransport(this, id);
  }

  cut(a: string, b: string): void {
    this.cuts.add(`${a}|${b}`);
    this.cuts.add(`${b}|${a}`);
  }

  /** Cuts `id` off from every server that has a transport now or gets one later. */
  isolate(id: string): void {
    this.cuts.add(`${id}|*`);
  }

  heal(): void {
    this.cuts.clear();
    this.filter = null;
  }

  /** @internal used by LoopbackTransport */
  register(id: string, handler: ((msg: Message) => void) | null): void {
    if (handler === null) this.handlers.delete(id);
    else this.handlers.set(id, handler);
  }

  /** @internal used by LoopbackTransport */
  deliver(from: string, to: string, msg: Message): void {
    this.sentCount++;
    if (this.isCut(from, to)) return;
    const copy = cloneMessage(msg);
    setImmediate(() => {
      // Checked again on arrival: a cut made while a message is in flight loses it.
      if (this.isCut(from, to) || (this.filter !== null && !this.filter(copy))) return;
      this.handlers.get(to)?.(copy);
    });
  }

  private isCut(a: string, b: string): boolean {
    return this.cuts.has(`${a}|${b}`) || this.cuts.has(`${a}|*`) || this.cuts.has(`${b}|*`);
  }
}

export class LoopbackTransport implements Transport {
  constructor(
    private readonly network: LoopbackNetwork,
    readonly id: string,
  ) {}

  send(to: string, msg: Message): void {
    this.network.deliver(this.id, to, msg);
  }

  onMessage(handler: (msg: Message) => void): void {
    this.network.register(this.id, handler);
  }

  async close(): Promise<void> {
    this.network.register(this.id, null);
  }
}

/** A deep copy, so no two servers ever share an entry's bytes. */
function cloneMessage(m: Message): Message {
  if (m.type !== 'app') return { ...m };
  return { ...m, entries: m.entries.map((e) => ({ ...e, data: Uint8Array.from(e.data) })) };
}
