/**
 * A deterministic simulator of a Raft cluster: several real `RaftCore`s in one process,
 * driven by a virtual clock and a seeded random number generator, so any run is a pure
 * function of its seed and replays exactly.
 *
 * Each simulated server has the shell's duties (see raft-node.ts): it ticks on its own
 * timer, sends a Ready's early messages, then "writes" the Ready to a disk whose writes
 * become durable only when their fsync completes a little later; a crash in between loses
 * them (LMDB commits are atomic, so a write is lost whole or kept whole). Only then are
 * votes and acks sent, entries applied, and the core advanced. The network delays each
 * message independently (so it reorders), drops, duplicates and partitions. Clients propose
 * writes, ask for reads and change the membership; servers snapshot and compact their logs.
 *
 * After every event the invariants of invariants.ts are checked. At the end the faults stop
 * and the cluster must elect a leader and apply a final write everywhere (liveness).
 */
import type { ConfigChange } from '../core/configuration.js';
import { encodeConfiguration, voterIds } from '../core/configuration.js';
import { MemoryStorage } from '../core/memory-storage.js';
import type { Message, Ready, SnapshotMeta } from '../core/messages.js';
import { RaftCore } from '../core/raft-core.js';
import { seededRandom } from '../core/seeded-random.js';
import { EventQueue } from './event-queue.js';
import { InvariantViolation, Invariants } from './invariants.js';

export interface SimOptions {
  seed: number;
  /** Virtual milliseconds of faults and load before the final healing phase. */
  durationMs?: number;
  /** Record a line per notable event (elections, crashes, partitions), for replaying a seed. */
  trace?: (line: string) => void;
}

type SimEvent =
  | { kind: 'tick'; id: string; incarnation: number }
  | { kind: 'deliver'; msg: Message }
  | { kind: 'fsync'; id: string; incarnation: number }
  | { kind: 'client' }
  | { kind: 'fault' }
  | { kind: 'restart'; id: string }
  | { kind: 'heal' };

interface SimNode {
  id: string;
  storage: MemoryStorage;
  core: RaftCore | null;
  /** Bumped on every crash, so timers and fsyncs of a dead incarnation are ignored. */
  incarnation: number;
  /** The Ready whose writes are waiting for their fsync. */
  writing: Ready | null;
  /** The state machine: last applied index and the digest of everything applied. */
  fsmIndex: number;
  fsmDigest: number;
  /** Writes proposed here, waiting for their entry to be applied. */
  proposals: Map<number, { term: number; key: string }>;
  /** Reads asked here: ctx → the read floor when asked; then the confirmed index. */
  reads: Map<number, number>;
  readyReads: Array<{ ctx: number; index: number; floor: number }>;
  wasLeader: boolean;
  /** What the invariants last saw of this node's log; unchanged logs are not rescanned. */
  checkedLog: string;
}

export interface SimResult {
  seed: number;
  events: number;
  virtualMs: number;
  elections: number;
  acknowledgedWrites: number;
  servedReads: number;
  snapshotsSent: number;
  configChanges: number;
  crashes: number;
  finalLeader: string;
  finalIndex: number;
}

const encoder = new TextEncoder();
const TICK_MS = 10;
const ELECTION_TICKS = 10;
const HEARTBEAT_TICKS = 2;

export class Simulator {
  private readonly rnd: () => number;
  private readonly q = new EventQueue<SimEvent>();
  private readonly nodes = new Map<string, SimNode>();
  private readonly inv = new Invariants();
  private readonly cuts = new Set<string>();
  private readonly trace: (line: string) => void;
  private readonly durationMs: number;
  // Per-seed fault profile.
  private readonly dropRate: number;
  private readonly dupRate: number;
  private readonly slowRate: number;
  private readonly snapshotEvery: number;
  /** Mean fsync latency: some seeds get a slow disk, so writes are often in flight. */
  private readonly fsyncMs: number;
  private faultsOn = true;
  private proposalSeq = 0;
  private readSeq = 0;
  private readonly stats = { events: 0, elections: 0, acknowledgedWrites: 0, servedReads: 0, snapshotsSent: 0, configChanges: 0, crashes: 0 };

  constructor(private readonly opts: SimOptions) {
    this.rnd = seededRandom(opts.seed * 2654435761);
    this.trace = opts.trace ?? (() => {});
    this.durationMs = opts.durationMs ?? 3000;
    this.dropRate = this.rnd() * 0.15;
    this.dupRate = this.rnd() * 0.1;
    this.slowRate = this.rnd() * 0.1;
    this.snapshotEvery = 8 + Math.floor(this.rnd() * 30);
    this.fsyncMs = this.rnd() < 0.5 ? 0.5 + this.rnd() * 2 : 3 + this.rnd() * 15;
    const voters = this.rnd() < 0.5 ? 3 : 5;
    const spares = Math.floor(this.rnd() * 3);
    const ids = Array.from({ length: voters }, (_, i) => `n${i + 1}`);
    const bootstrap = encodeConfiguration({ servers: ids.map((id) => ({ id, address: `${id}:1`, suffrage: 'voter' as const })) });
    for (const id of [...ids, ...Array.from({ length: spares }, (_, i) => `s${i + 1}`)]) {
      const storage = new MemoryStorage();
      if (ids.includes(id)) storage.persist({ term: 1, vote: '', commit: 0 }, [{ index: 1, term: 1, type: 'config', data: bootstrap }]);
      const node: SimNode = {
        id,
        storage,
        core: null,
        incarnation: 0,
        writing: null,
        fsmIndex: 0,
        fsmDigest: 0,
        proposals: new Map(),
        reads: new Map(),
        readyReads: [],
        wasLeader: false,
        checkedLog: '',
      };
      this.nodes.set(id, node);
      this.start(node);
    }
    this.trace(`seed ${opts.seed}: ${voters} voters, ${spares} spares, drop ${this.dropRate.toFixed(3)}, dup ${this.dupRate.toFixed(3)}, snapshot every ${this.snapshotEvery}`);
    this.q.schedule(1, { kind: 'client' });
    this.q.schedule(50, { kind: 'fault' });
    this.q.schedule(this.durationMs, { kind: 'heal' });
  }

  run(): SimResult {
    // The faulty phase, then healing; then the cluster must make progress on its own.
    const deadline = this.durationMs + 6000;
    while (this.q.now < deadline) {
      const ev = this.q.next();
      if (ev === undefined) break;
      this.stats.events++;
      this.handle(ev);
      // Ticks, deliveries and fsyncs touch one server; everything else may touch any.
      this.checkInvariants(ev.kind === 'tick' || ev.kind === 'fsync' ? ev.id : ev.kind === 'deliver' ? ev.msg.to : null);
      if (!this.faultsOn && this.q.now > this.durationMs + 200 && this.finalWriteDone()) break;
    }
    const done = this.finalWriteDone();
    if (done === null) {
      const states = [...this.nodes.values()].map((n) => `${n.id}:${n.core?.role ?? 'down'}@${n.core?.term ?? '-'} applied ${n.fsmIndex}`);
      throw new Error(`Liveness: no leader applied a final write everywhere within 6 s after healing (${states.join(', ')})`);
    }
    return { seed: this.opts.seed, virtualMs: this.q.now, ...this.stats, finalLeader: done.leader, finalIndex: done.index };
  }

  // ---- events -------------------------------------------------------------------------

  private handle(ev: SimEvent): void {
    switch (ev.kind) {
      case 'tick': {
        const n = this.node(ev.id);
        if (n.core === null || n.incarnation !== ev.incarnation) return;
        n.core.tick();
        this.afterInput(n);
        this.q.schedule(TICK_MS, ev);
        return;
      }
      case 'deliver': {
        const n = this.nodes.get(ev.msg.to);
        if (n?.core == null || this.isCut(ev.msg.from, ev.msg.to)) return;
        n.core.step(structuredClone(ev.msg));
        this.afterInput(n);
        return;
      }
      case 'fsync': {
        const n = this.node(ev.id);
        if (n.core === null || n.incarnation !== ev.incarnation) return;
        this.finishReady(n);
        return;
      }
      case 'client':
        this.clientStep();
        this.q.schedule(1 + Math.floor(this.rnd() * 8), ev);
        return;
      case 'fault':
        if (!this.faultsOn) return;
        this.faultStep();
        this.q.schedule(20 + Math.floor(this.rnd() * 200), ev);
        return;
      case 'restart': {
        const n = this.node(ev.id);
        if (n.core === null) this.start(n);
        return;
      }
      case 'heal':
        this.faultsOn = false;
        this.cuts.clear();
        this.trace(`${this.at()}: heal; faults stop`);
        for (const n of this.nodes.values()) if (n.core === null) this.start(n);
        return;
    }
  }

  private clientStep(): void {
    const live = [...this.nodes.values()].filter((n) => n.core !== null);
    if (live.length === 0) return;
    // Half the traffic goes to a server that believes it leads (possibly a stale one, which
    // is how logs diverge); the rest anywhere.
    const leaders = live.filter((x) => x.core?.role === 'leader');
    const n = leaders.length > 0 && this.rnd() < 0.5 ? this.pick(leaders) : this.pick(live);
    const core = n.core!;
    const r = this.rnd();
    if (r < 0.6) {
      const key = `w${this.opts.seed}-${this.proposalSeq++}`;
      const p = core.propose(encoder.encode(key));
      if (p.ok) n.proposals.set(p.index, { term: p.term, key: `normal:${key}` });
    } else if (r < 0.85) {
      const ctx = ++this.readSeq;
      if (core.readIndex(ctx)) n.reads.set(ctx, this.inv.readFloor());
    } else if (r < 0.9 && this.faultsOn) {
      const change = this.randomConfigChange(core);
      if (change !== null) {
        const p = core.proposeConfigChange(change);
        if (p.ok && p.unchanged !== true) {
          this.stats.configChanges++;
          this.trace(`${this.at()}: ${n.id} proposes ${change.type} ${change.id} at ${p.index}`);
        }
      }
    } else if (r < 0.92 && this.faultsOn && core.role === 'leader') {
      const p = core.transferLeadership();
      if (p.ok) this.trace(`${this.at()}: ${n.id} transfers leadership`);
    }
    this.afterInput(n);
  }

  private randomConfigChange(core: RaftCore): ConfigChange | null {
    if (core.role !== 'leader') return null;
    const config = core.configuration().configuration;
    const members = new Set(config.servers.map((s) => s.id));
    const outsiders = [...this.nodes.keys()].filter((id) => !members.has(id));
    const nonvoters = config.servers.filter((s) => s.suffrage === 'nonvoter').map((s) => s.id);
    const voters = voterIds(config);
    const r = this.rnd();
    if (r < 0.35 && outsiders.length > 0) {
      const id = this.pick(outsiders);
      return { type: 'addNonVoter', id, address: `${id}:1` };
    }
    if (r < 0.65 && nonvoters.length > 0) return { type: 'promote', id: this.pick(nonvoters) };
    // Keep three voters so that single crashes leave the cluster able to make progress.
    if (voters.length > 3 || (nonvoters.length > 0 && r < 0.8)) {
      const candidates = [...voters.length > 3 ? voters : [], ...nonvoters];
      if (candidates.length > 0) return { type: 'remove', id: this.pick(candidates) };
    }
    return null;
  }

  private faultStep(): void {
    const ids = [...this.nodes.keys()];
    const r = this.rnd();
    if (r < 0.2) {
      // Partition into two random sides.
      this.cuts.clear();
      const side = new Set(ids.filter(() => this.rnd() < 0.5));
      for (const a of ids) for (const b of ids) if (side.has(a) !== side.has(b)) this.cuts.add(`${a}|${b}`);
      this.trace(`${this.at()}: partition [${[...side].join(' ')}] | [${ids.filter((i) => !side.has(i)).join(' ')}]`);
    } else if (r < 0.3) {
      const id = this.pick(ids);
      this.cuts.clear();
      for (const b of ids) if (b !== id) this.cuts.add(`${id}|${b}`).add(`${b}|${id}`);
      this.trace(`${this.at()}: isolate ${id}`);
    } else if (r < 0.45) {
      this.cuts.clear();
      this.trace(`${this.at()}: reconnect`);
    } else if (r < 0.6) {
      const live = ids.filter((id) => this.node(id).core !== null);
      if (live.length < 3) return;
      // Crash the leader more often than anyone else: that is where the interesting cases are.
      const leaders = live.filter((id) => this.node(id).core?.role === 'leader');
      const id = leaders.length > 0 && this.rnd() < 0.5 ? this.pick(leaders) : this.pick(live);
      this.crash(this.node(id));
      this.q.schedule(50 + Math.floor(this.rnd() * 800), { kind: 'restart', id });
    } else if (r < 0.64) {
      // A crash exactly while a write waits for its fsync: the write is lost.
      const writing = ids.filter((id) => this.node(id).writing !== null);
      if (writing.length === 0) return;
      const id = this.pick(writing);
      this.crash(this.node(id));
      this.q.schedule(20 + Math.floor(this.rnd() * 400), { kind: 'restart', id });
    } else if (r < 0.7) {
      // Power loss: several servers at once, each losing whatever was not yet fsynced.
      const live = ids.filter((id) => this.node(id).core !== null);
      const victims = live.filter(() => this.rnd() < 0.7);
      if (victims.length < 2) return;
      this.trace(`${this.at()}: power loss of ${victims.join(' ')}`);
      for (const id of victims) {
        this.crash(this.node(id));
        this.q.schedule(20 + Math.floor(this.rnd() * 400), { kind: 'restart', id });
      }
    }
  }

  // ---- a simulated server's shell -----------------------------------------------------

  private start(n: SimNode): void {
    const snap = n.storage.snapshot();
    n.fsmIndex = 0;
    n.fsmDigest = 0;
    if (snap.index > 0) {
      // The state machine is volatile: it restarts from the durable snapshot.
      const s = decodeFsm(n.storage.snapshotData());
      if (s.index !== snap.index) throw new Error(`${n.id}: snapshot data is for ${s.index}, metadata says ${snap.index}`);
      n.fsmIndex = s.index;
      n.fsmDigest = s.digest;
      this.inv.restored(n.id, s.index, s.digest);
    }
    n.core = new RaftCore({
      id: n.id,
      storage: n.storage,
      applied: n.fsmIndex,
      random: seededRandom(this.opts.seed * 7919 + n.incarnation * 104729 + hashId(n.id)),
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: HEARTBEAT_TICKS,
      maxSizePerMsg: 1 + Math.floor(this.rnd() * 400),
      maxInflightMsgs: 1 + Math.floor(this.rnd() * 8),
      snapshotTimeoutTicks: 3 * ELECTION_TICKS,
    });
    n.writing = null;
    n.wasLeader = false;
    this.q.schedule(Math.floor(this.rnd() * TICK_MS), { kind: 'tick', id: n.id, incarnation: n.incarnation });
    this.afterInput(n);
  }

  private crash(n: SimNode): void {
    n.checkedLog = '';
    this.trace(`${this.at()}: crash ${n.id} (${n.core?.role}, term ${n.core?.term})${n.writing !== null ? ', losing an unflushed write' : ''}`);
    this.stats.crashes++;
    n.core = null;
    n.writing = null;
    n.incarnation++;
    n.proposals.clear();
    n.reads.clear();
    n.readyReads = [];
  }

  /** After any input: if the core has work and no write is in progress, start one. */
  private afterInput(n: SimNode): void {
    const core = n.core;
    if (core === null) return;
    if (core.role === 'leader' && !n.wasLeader) {
      this.stats.elections++;
      this.trace(`${this.at()}: ${n.id} leads term ${core.term}`);
      this.inv.leaderCompleteness(n.id, core.term, core.log.firstIndex(), (i) => core.log.term(i));
    }
    n.wasLeader = core.role === 'leader';
    if (n.writing !== null || !core.hasReady()) return;
    const rd = core.ready();
    n.writing = rd;
    for (const m of rd.earlyMessages) this.send(n, m);
    // The write is in the page cache now; it is durable once the fsync completes.
    this.q.schedule(this.rnd() * 2 * this.fsyncMs, { kind: 'fsync', id: n.id, incarnation: n.incarnation });
  }

  private finishReady(n: SimNode): void {
    const core = n.core!;
    const rd = n.writing!;
    n.writing = null;
    if (rd.snapshot !== undefined) {
      n.storage.installSnapshot(rd.snapshot.meta, rd.snapshot.data);
      const s = decodeFsm(rd.snapshot.data);
      if (s.index !== rd.snapshot.meta.index) throw new Error(`${n.id}: received snapshot data for ${s.index} with metadata ${rd.snapshot.meta.index}`);
      this.inv.restored(n.id, s.index, s.digest);
      n.fsmIndex = s.index;
      n.fsmDigest = s.digest;
    }
    n.storage.persist(rd.hardState, rd.entries);
    for (const m of rd.messages) this.send(n, m);
    const maxTerm = this.maxTermAlive();
    for (const e of rd.committedEntries) {
      if (e.index !== n.fsmIndex + 1) throw new Error(`${n.id}: applying ${e.index} after ${n.fsmIndex}`);
      n.fsmDigest = this.inv.applied(n.id, e, n.fsmDigest, maxTerm);
      n.fsmIndex = e.index;
      const p = n.proposals.get(e.index);
      if (p !== undefined) {
        n.proposals.delete(e.index);
        if (p.term === e.term) {
          // The leader applied its own proposal: the client is told it succeeded.
          this.inv.writeAcknowledged(e.index);
          this.stats.acknowledgedWrites++;
        }
      }
    }
    for (const rs of rd.readStates) {
      const floor = n.reads.get(rs.ctx);
      if (floor === undefined) continue;
      n.reads.delete(rs.ctx);
      if (rs.ok) n.readyReads.push({ ctx: rs.ctx, index: rs.index, floor });
    }
    core.advance(rd);
    // A read is served once the local state machine has caught up with its read index.
    n.readyReads = n.readyReads.filter((r) => {
      if (n.fsmIndex < r.index) return true;
      this.inv.readServed(n.id, r.ctx, r.index, r.floor);
      this.stats.servedReads++;
      return false;
    });
    this.maybeSnapshot(n, core);
    this.afterInput(n);
  }

  private maybeSnapshot(n: SimNode, core: RaftCore): void {
    const snap = n.storage.snapshot();
    if (n.fsmIndex - snap.index < this.snapshotEvery) return;
    const index = n.fsmIndex;
    const term = core.log.term(index);
    if (term === undefined) return;
    const c = core.configurationAt(index);
    const meta: SnapshotMeta = { index, term, configIndex: c.index, configuration: c.configuration };
    const trailing = Math.floor(this.rnd() * 6);
    n.storage.saveSnapshot(meta, encodeFsm(index, n.fsmDigest), Math.max(snap.index, index - trailing));
  }

  private send(from: SimNode, m: Message): void {
    let msg = m;
    if (m.type === 'snap') {
      // The shell attaches the snapshot's bytes; they must be the ones the metadata names.
      if (from.storage.snapshot().index !== m.snapshot.index) return;
      msg = { ...m, data: from.storage.snapshotData() };
      this.stats.snapshotsSent++;
    }
    if (this.faultsOn && this.rnd() < this.dropRate) return;
    const copies = this.faultsOn && this.rnd() < this.dupRate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const slow = this.faultsOn && this.rnd() < this.slowRate;
      this.q.schedule(slow ? 20 + this.rnd() * 150 : 0.2 + this.rnd() * 2, { kind: 'deliver', msg });
    }
  }

  // ---- checks ---------------------------------------------------------------------------

  private checkInvariants(touched: string | null): void {
    for (const n of this.nodes.values()) {
      const core = n.core;
      if (core === null || (touched !== null && n.id !== touched)) continue;
      if (core.role === 'leader') this.inv.electionSafety(n.id, core.term);
      const first = core.log.firstIndex();
      const u = core.log.unstable;
      const signature = `${core.term}/${first}/${core.log.lastIndex()}/${core.log.lastTerm()}/${u.offset}/${u.entries.length}/${u.snapshot?.meta.index ?? 0}/${n.storage.lastIndex()}/${core.log.committed}/${core.configuration().index}`;
      if (signature === n.checkedLog) continue;
      n.checkedLog = signature;
      const stable = u.snapshot === undefined ? n.storage.allEntries().filter((e) => e.index < u.offset) : [];
      const entries = [...stable, ...u.entries];
      this.inv.logMatching(n.id, { prevIndex: first - 1, prevTerm: core.log.term(first - 1) ?? 0, entries });
      this.inv.commitClaims(n.id, core.log.committed, first, entries);
      const inForce = core.configuration().index;
      const inLog = core.configurationAt(core.log.lastIndex()).index;
      if (inForce !== inLog) {
        throw new InvariantViolation(`${n.id}: uses the configuration of index ${inForce}, but its log's latest is at ${inLog}`);
      }
    }
  }

  /** The final write: once the faults stop, a leader must get one applied everywhere. */
  private finalProbe: { leader: string; index: number; term: number } | null = null;

  private finalWriteDone(): { leader: string; index: number } | null {
    if (this.faultsOn) return null;
    const leaders = [...this.nodes.values()].filter((n) => n.core?.role === 'leader');
    if (this.finalProbe === null) {
      const l = leaders[0];
      if (l === undefined || leaders.length !== 1) return null;
      const p = l.core!.propose(encoder.encode('final'));
      if (!p.ok) return null;
      this.finalProbe = { leader: l.id, index: p.index, term: p.term };
      this.afterInput(l);
      return null;
    }
    const probe = this.finalProbe;
    const committed = this.inv.committedEntry(probe.index);
    if (committed !== undefined && committed.term !== probe.term) {
      this.finalProbe = null; // replaced by another leader's entry: propose again
      return null;
    }
    const leader = leaders[0];
    if (leader === undefined) return null;
    const members = leader.core!.configuration().configuration.servers.map((s) => s.id);
    const caughtUp = members.every((id) => this.node(id).fsmIndex >= probe.index);
    return caughtUp && committed !== undefined ? { leader: leader.id, index: probe.index } : null;
  }

  private at(): string {
    return this.q.now.toFixed(1);
  }

  private maxTermAlive(): number {
    let t = 0;
    for (const n of this.nodes.values()) if (n.core !== null && n.core.term > t) t = n.core.term;
    return t;
  }

  private isCut(a: string, b: string): boolean {
    return this.cuts.has(`${a}|${b}`);
  }

  private node(id: string): SimNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)] as T;
  }
}

function encodeFsm(index: number, digest: number): Uint8Array {
  return encoder.encode(JSON.stringify({ index, digest }));
}

function decodeFsm(data: Uint8Array): { index: number; digest: number } {
  return JSON.parse(new TextDecoder().decode(data)) as { index: number; digest: number };
}

function hashId(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
