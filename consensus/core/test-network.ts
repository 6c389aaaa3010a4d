/**
 * A deterministic in-memory cluster of cores for tests: each node has a MemoryStorage that
 * plays the disk, messages wait in one FIFO queue until delivered, and the test decides
 * who is cut off, what is dropped or rewritten, and when time passes. A crash keeps only
 * what the node persisted. Test support only; nothing in production imports it.
 */
import { encodeConfiguration } from './configuration.js';
import type { Entry, Message } from './messages.js';
import { MemoryStorage } from './memory-storage.js';
import type { RaftCoreOptions } from './raft-core.js';
import { RaftCore } from './raft-core.js';
import { seededRandom } from './seeded-random.js';

export interface TestNode {
  readonly id: string;
  core: RaftCore | null;
  readonly storage: MemoryStorage;
  /** Every committed entry handed to this node's state machine, in order. */
  readonly applied: Entry[];
}

/** Returns the message to deliver (possibly rewritten) or null to drop it. */
export type MessageFilter = (m: Message) => Message | null;

export interface TestNetworkOptions {
  seed?: number;
  electionTicks?: number;
  heartbeatTicks?: number;
  /** Passed to every core (e.g. a small maxSizePerMsg). */
  core?: Partial<Pick<RaftCoreOptions, 'maxSizePerMsg' | 'maxInflightMsgs'>>;
}

/** A storage holding the bootstrap configuration entry every server starts from. */
export function bootstrappedStorage(voters: readonly string[]): MemoryStorage {
  const storage = new MemoryStorage();
  const data = encodeConfiguration({ servers: voters.map((id) => ({ id, address: `${id}.test:4647`, suffrage: 'voter' as const })) });
  storage.persist({ term: 1, vote: '', commit: 0 }, [{ index: 1, term: 1, type: 'config', data }]);
  return storage;
}

export class TestNetwork {
  readonly nodes = new Map<string, TestNode>();
  /** Every message handed to the network, delivered or not, for assertions. */
  readonly sent: Message[] = [];
  filter: MessageFilter | null = null;
  private queue: Message[] = [];
  private readonly cuts = new Set<string>();
  private readonly opts: TestNetworkOptions;

  constructor(ids: readonly string[], opts: TestNetworkOptions = {}) {
    this.opts = opts;
    for (const id of ids) {
      const node: TestNode = { id, core: null, storage: bootstrappedStorage(ids), applied: [] };
      this.nodes.set(id, node);
      this.restart(id);
    }
  }

  node(id: string): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  core(id: string): RaftCore {
    const c = this.node(id).core;
    if (c === null) throw new Error(`node ${id} is down`);
    return c;
  }

  /** Stops a node: its memory is gone, its storage keeps what was persisted. */
  crash(id: string): void {
    this.node(id).core = null;
  }

  /** (Re)starts a node from its storage, replaying after what its state machine applied. */
  restart(id: string): void {
    const node = this.node(id);
    node.core = new RaftCore({
      id,
      storage: node.storage,
      applied: node.applied.at(-1)?.index ?? 0,
      random: seededRandom((this.opts.seed ?? 1) * 7919 + hash(id)),
      electionTicks: this.opts.electionTicks ?? 10,
      heartbeatTicks: this.opts.heartbeatTicks ?? 1,
      ...this.opts.core,
    });
  }

  tick(id: string, n = 1): void {
    for (let i = 0; i < n; i++) this.core(id).tick();
  }

  /** Cuts the link between a and b in both directions. */
  cut(a: string, b: string): void {
    this.cuts.add(`${a}|${b}`);
    this.cuts.add(`${b}|${a}`);
  }

  isolate(id: string): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cut(id, other);
  }

  recover(): void {
    this.cuts.clear();
    this.filter = null;
  }

  /** Handles every pending Ready like a shell would: persist, queue messages, apply, advance. */
  processReadies(): boolean {
    let did = false;
    for (const node of this.nodes.values()) {
      const core = node.core;
      while (core?.hasReady()) {
        did = true;
        const rd = core.ready();
        node.storage.persist(rd.hardState, rd.entries);
        this.queue.push(...rd.messages);
        this.sent.push(...rd.messages);
        node.applied.push(...rd.committedEntries);
        core.advance(rd);
      }
    }
    return did;
  }

  /** Delivers everything queued now; returns how many messages reached a live node. */
  deliver(): number {
    const batch = this.queue;
    this.queue = [];
    let n = 0;
    for (const original of batch) {
      if (this.cuts.has(`${original.from}|${original.to}`)) continue;
      const m = this.filter === null ? original : this.filter(original);
      if (m === null) continue;
      const target = this.nodes.get(m.to)?.core;
      if (target == null) continue;
      target.step(structuredClone(m));
      n++;
    }
    return n;
  }

  /** Runs readies and deliveries until nothing moves. */
  stabilize(maxRounds = 10_000): void {
    for (let i = 0; i < maxRounds; i++) {
      const did = this.processReadies();
      if (this.deliver() === 0 && !did) return;
    }
    throw new Error('network did not stabilize');
  }

  /** Live nodes that consider themselves leader. */
  leaders(): string[] {
    return [...this.nodes.values()].filter((n) => n.core?.role === 'leader').map((n) => n.id);
  }

  /** Ticks every live node `n` times, stabilizing after each round. */
  tickAll(n: number): void {
    for (let i = 0; i < n; i++) {
      for (const node of this.nodes.values()) node.core?.tick();
      this.stabilize();
    }
  }
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
