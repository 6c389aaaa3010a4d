/**
 * A deterministic in-memory cluster of cores for tests: each node has a MemoryStorage that
 * plays the disk, messages wait in one FIFO queue until delivered, and the test decides
 * who is cut off, what is dropped or rewritten, and when time passes. A crash keeps only
 * what the node persisted. Test support only; nothing in production imports it.
 *
 * Each node's "state machine" is the list of entries it applied; its snapshots encode that
 * list, so a node restored from a snapshot still shows its whole applied history.
 */
import type { ConfigChange } from './configuration.js';
import { encodeConfiguration } from './configuration.js';
import type { Entry, Message, ReadState } from './messages.js';
import { MemoryStorage } from './memory-storage.js';
import type { RaftCoreOptions } from './core-options.js';
import { RaftCore } from './raft-core.js';
import { seededRandom } from './seeded-random.js';

export interface TestNode {
  readonly id: string;
  core: RaftCore | null;
  storage: MemoryStorage;
  /** Every committed entry handed to this node's state machine, in order. */
  applied: Entry[];
  /** Read states this node's shell received. */
  readonly reads: ReadState[];
}

/** Returns the message to deliver (possibly rewritten) or null to drop it. */
export type MessageFilter = (m: Message) => Message | null;

export type CoreTuning = Partial<
  Pick<RaftCoreOptions, 'maxSizePerMsg' | 'maxInflightMsgs' | 'maxUncommittedBytes' | 'preVote' | 'checkQuorum' | 'snapshotTimeoutTicks'>
>;

export interface TestNetworkOptions {
  seed?: number;
  electionTicks?: number;
  heartbeatTicks?: number;
  /** Passed to every core (e.g. a small maxSizePerMsg, or preVote off). */
  core?: CoreTuning;
  /** Servers that start empty, outside the configuration, waiting to be added. */
  spares?: readonly string[];
}

/** A storage holding the bootstrap configuration entry every server starts from. */
export function bootstrappedStorage(voters: readonly string[]): MemoryStorage {
  const storage = new MemoryStorage();
  const data = encodeConfiguration({ servers: voters.map((id) => ({ id, address: `${id}.test:4647`, suffrage: 'voter' as const })) });
  storage.persist({ term: 1, vote: '', commit: 0 }, [{ index: 1, term: 1, type: 'config', data }]);
  return storage;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The snapshot form of a test node's state machine: its applied entries. */
export function encodeApplied(entries: readonly Entry[]): Uint8Array {
  return encoder.encode(JSON.stringify(entries.map((e) => [e.index, e.term, e.type, decoder.decode(e.data)])));
}

export function decodeApplied(data: Uint8Array): Entry[] {
  const rows = JSON.parse(decoder.decode(data)) as Array<[number, number, Entry['type'], string]>;
  return rows.map(([index, term, type, text]) => ({ index, term, type, data: encoder.encode(text) }));
}

export class TestNetwork {
  readonly nodes = new Map<string, TestNode>();
  /** Every message handed to the network, delivered or not, for assertions. */
  readonly sent: Message[] = [];
  filter: MessageFilter | null = null;
  /** Told of every message taken off the queue: whether it reached a live server. */
  onDeliver: ((m: Message, delivered: boolean) => void) | null = null;
  private queue: Message[] = [];
  private readonly cuts = new Set<string>();
  private readonly opts: TestNetworkOptions;

  constructor(ids: readonly string[], opts: TestNetworkOptions = {}) {
    this.opts = opts;
    for (const id of ids) this.addNode(id, bootstrappedStorage(ids));
    for (const id of opts.spares ?? []) this.addNode(id, new MemoryStorage());
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

  /** (Re)starts a node from its storage: its state machine restarts from the snapshot, then
   *  committed entries after it are replayed. */
  restart(id: string): void {
    const node = this.node(id);
    const snap = node.storage.snapshot();
    node.applied = snap.index > 0 ? decodeApplied(node.storage.snapshotData()) : [];
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

  /** The node snapshots its state machine at its applied index and compacts its log up to
   *  `compactTo` (default: the snapshot's index). */
  snapshot(id: string, compactTo?: number): number {
    const node = this.node(id);
    const core = this.core(id);
    const index = core.log.applied;
    const term = core.log.term(index) ?? 0;
    const c = core.configurationAt(index);
    node.storage.saveSnapshot(
      { index, term, configIndex: c.index, configuration: c.configuration },
      encodeApplied(node.applied),
      compactTo ?? index,
    );
    return index;
  }

  /** Proposes a membership change on `leader`; throws if refused. */
  change(leader: string, change: ConfigChange): number {
    const p = this.core(leader).proposeConfigChange(change);
    if (!p.ok) throw new Error(`${change.type} ${change.id} refused: ${p.reason}`);
    return p.index;
  }

  /** Handles every pending Ready like a shell would: send what may go early, persist,
   *  install a snapshot, send the rest, apply, advance. */
  processReadies(): boolean {
    let did = false;
    for (const node of this.nodes.values()) {
      const core = node.core;
      while (core?.hasReady()) {
        did = true;
        const rd = core.ready();
        this.enqueue(node, rd.earlyMessages);
        if (rd.snapshot !== undefined) {
          node.storage.installSnapshot(rd.snapshot.meta, rd.snapshot.data);
          node.applied = decodeApplied(rd.snapshot.data);
        }
        node.storage.persist(rd.hardState, rd.entries);
        this.enqueue(node, rd.messages);
        node.applied.push(...rd.committedEntries);
        node.reads.push(...rd.readStates);
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
      const m = this.cuts.has(`${original.from}|${original.to}`) ? null : this.filter === null ? original : this.filter(original);
      const target = m === null ? null : this.nodes.get(m.to)?.core;
      if (m === null || target == null) {
        this.onDeliver?.(original, false);
        continue;
      }
      target.step(structuredClone(m));
      this.onDeliver?.(m, true);
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

  private addNode(id: string, storage: MemoryStorage): void {
    this.nodes.set(id, { id, core: null, storage, applied: [], reads: [] });
    this.restart(id);
  }

  /** Snapshot messages leave the core without their bytes: the sender attaches them. */
  private enqueue(node: TestNode, msgs: readonly Message[]): void {
    for (const m of msgs) {
      const out = m.type === 'snap' ? { ...m, data: node.storage.snapshotData() } : m;
      this.queue.push(out);
      this.sent.push(out);
    }
  }
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** A log as "index:term:type[:payload]" lines, the transcript form tests compare. */
export function describeEntries(ents: readonly Entry[]): string[] {
  return ents.map((e) => `${e.index}:${e.term}:${e.type}${e.type === 'normal' ? `:${decoder.decode(e.data)}` : ''}`);
}
