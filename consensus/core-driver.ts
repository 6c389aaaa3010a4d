/**
 * Drives a RaftNode's core: steps it with ticks and inbound messages, and runs the Ready
 * loop described in raft-node.ts's header — persist, send, apply, advance — one Ready at a
 * time. The node owns the lifecycle and the callers; what happens to them after each input
 * and each Ready goes back to it through DriverHost.
 */
import { checkMessage } from './core/message-guard.js';
import type { Entry, HardState, Message, Ready, SnapshotMeta } from './core/messages.js';
import type { RaftCore } from './core/raft-core.js';
import type { RaftLogger, RaftNodeOptions } from './node-options.js';
import type { NodeSnapshots } from './node-snapshots.js';
import type { NodeCounters } from './node-status.js';
import { splitCommitted } from './apply-during-write.js';
import type { ApplyOutcome, PendingApplies } from './pending-applies.js';
import type { PendingReads } from './pending-reads.js';
import type { RaftStorage } from './storage/raft-storage.js';
import { YurtError } from '../structs/errors.js';

export interface DriverParts {
  core: RaftCore;
  storage: RaftStorage;
  snapshots: NodeSnapshots;
  opts: RaftNodeOptions;
  logger: RaftLogger;
  counters: NodeCounters;
  pending: PendingApplies;
  reads: PendingReads;
}

export interface DriverHost {
  /** Ticks and messages are ignored unless the node runs. */
  isRunning(): boolean;
  /** A failed node runs no more Readies. */
  hasFailed(): boolean;
  fail(e: unknown): void;
  /** After each input and each Ready: the leader or the configuration may have changed. */
  observe(): void;
  /** After each Ready: the state machine may have reached what callers wait for. */
  applied(): void;
  /** An append, heartbeat or snapshot came from the leader. */
  heardFromLeader(): void;
}

export class CoreDriver {
  /** Index of the last entry the state machine applied (or that a snapshot covered). */
  applied: number;
  private looping = false;
  private loopDone: Promise<void> = Promise.resolve();
  /** A commit index advanced but not yet written (see persist). */
  private unsavedCommit: HardState | null = null;
  private readonly core: RaftCore;
  private readonly storage: RaftStorage;

  constructor(
    private readonly parts: DriverParts,
    private readonly host: DriverHost,
  ) {
    this.core = parts.core;
    this.storage = parts.storage;
    this.applied = parts.core.log.applied;
  }

  /** Settles once the Ready in progress, if any, is done (persistence included). */
  get idle(): Promise<void> {
    return this.loopDone;
  }

  // ---- inputs -------------------------------------------------------------------------

  tick(): void {
    if (!this.host.isRunning()) return;
    if (!this.looping) {
      this.saveCommit().catch((e: unknown) => this.host.fail(e));
      // A snapshot due while the previous one was still being written starts when idle.
      this.parts.snapshots.maybeTake(this.core, this.storage, this.applied);
    }
    try {
      this.core.tick();
    } catch (e) {
      this.host.fail(e);
      return;
    }
    this.afterInput();
  }

  receive(raw: Message): void {
    if (!this.host.isRunning()) return;
    const check = checkMessage(raw);
    if (!check.ok) {
      this.parts.counters.droppedMessages++;
      this.parts.logger.warn({ reason: check.reason }, 'dropped a malformed message');
      return;
    }
    const m = check.message;
    try {
      this.core.step(m);
    } catch (e) {
      this.host.fail(e);
      return;
    }
    if ((m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap') && m.from === this.core.lead) this.host.heardFromLeader();
    this.afterInput();
  }

  /** After stepping the core outside the loop (an input, a proposal). */
  afterInput(): void {
    this.host.observe();
    this.kick();
  }

  // ---- the Ready loop -----------------------------------------------------------------

  kick(): void {
    if (this.looping || this.host.hasFailed()) return;
    this.looping = true;
    this.loopDone = this.runLoop();
  }

  private async runLoop(): Promise<void> {
    const { core, storage } = this;
    const counters = this.parts.counters;
    try {
      while (core.hasReady() && !this.host.hasFailed()) {
        const rd = core.ready();
        counters.readies++;
        for (const m of rd.earlyMessages) this.send(m);
        if (rd.snapshot !== undefined) await this.installSnapshot(rd.snapshot);
        const t0 = performance.now();
        const { durable, rest } = splitCommitted(rd);
        let earlyMs = 0;
        if (durable.length > 0) {
          // Entries already on disk are applied while this Ready's commit and fsync run on
          // the storage's write thread, instead of after them: the server's thread had
          // nothing else to do for that while (etcd's leader applies during its writes too).
          let handedOver: () => void = () => undefined;
          const written = new Promise<void>((resolve) => (handedOver = resolve));
          const persisting = this.persist(rd, handedOver);
          await Promise.race([written, persisting]);
          const a0 = performance.now();
          await this.applyEntries(durable);
          counters.appliedDuringWrites += durable.length;
          earlyMs = performance.now() - a0;
          await persisting;
        } else {
          await this.persist(rd);
        }
        const t1 = performance.now();
        for (const m of rd.messages) this.send(m);
        if (rest.length > 0) await this.applyEntries(rest);
        counters.persistMs += t1 - t0 - earlyMs;
        counters.applyMs += performance.now() - t1 + earlyMs;
        this.parts.reads.confirm(rd.readStates);
        core.advance(rd);
        this.host.observe();
        this.host.applied();
        this.parts.snapshots.maybeTake(core, storage, this.applied);
      }
    } catch (e) {
      this.host.fail(e);
    } finally {
      this.looping = false;
    }
  }

  /**
   * Term, vote and entries must be on disk before anyone hears from us. The commit index
   * need not be: the paper keeps it volatile (Figure 2), and a restarted server relearns
   * it from the leader's appends or from the FSM's durable index. A Ready that only moves
   * the commit index is therefore not written on its own (that would double the writes per
   * apply); it rides along with the next write, or is saved on a tick when idle, or at stop.
   */
  private async persist(rd: Ready, handedOver?: () => void): Promise<void> {
    const hs = rd.hardState;
    if (hs === undefined && rd.entries.length === 0) return;
    const durable = this.storage.initialState();
    if (rd.entries.length === 0 && hs !== undefined && hs.term === durable.term && hs.vote === durable.vote) {
      this.unsavedCommit = hs;
      return;
    }
    const toWrite = hs ?? this.unsavedCommit ?? undefined;
    this.unsavedCommit = null;
    await this.storage.persist(toWrite, rd.entries, handedOver);
  }

  /** Writes a deferred commit index; ordered before any later write by the storage queue. */
  saveCommit(): Promise<void> {
    const hs = this.unsavedCommit;
    if (hs === null) return Promise.resolve();
    this.unsavedCommit = null;
    return this.storage.persist(hs, []);
  }

  /** A snapshot from the leader replaces the state machine (see NodeSnapshots.install);
   *  callers waiting on entries it covers cannot know their outcome. */
  private async installSnapshot(snap: { meta: SnapshotMeta; data: Uint8Array }): Promise<void> {
    const { meta, data } = snap;
    await this.parts.snapshots.install(this.storage, snap);
    this.applied = meta.index;
    this.parts.counters.snapshotsInstalled++;
    this.parts.pending.rejectUpTo(
      meta.index,
      () => new YurtError('leadership_lost', `raft entries up to ${meta.index} arrived in a snapshot from another leader; the outcome of this one is unknown`),
    );
    this.parts.logger.info({ index: meta.index, term: meta.term, bytes: data.byteLength }, 'installed a snapshot from the leader');
  }

  private send(m: Message): void {
    if (m.type === 'snap') {
      void this.parts.snapshots.send(m, () => {
        if (this.host.isRunning()) {
          this.core.reportSnapshotFailure(m.to);
          this.kick();
        }
      });
      return;
    }
    try {
      this.parts.opts.transport.send(m.to, m);
    } catch (e) {
      // A transport failure loses one message, which Raft tolerates; it must not stop the loop.
      this.parts.logger.warn({ to: m.to, type: m.type, err: (e as Error).message }, 'transport send failed');
    }
  }

  private async applyEntries(entries: readonly Entry[]): Promise<void> {
    const { opts, counters, logger, pending } = this.parts;
    for (const e of entries) {
      let outcome: ApplyOutcome = { ok: true, result: undefined };
      if (e.type === 'normal') {
        try {
          let result = opts.fsm.apply({ index: e.index, term: e.term, data: e.data });
          if (isPromiseLike(result)) result = await result;
          outcome = { ok: true, result };
          counters.applied++;
        } catch (err) {
          // The FSM is deterministic, so every server fails the same way: the error is this
          // entry's result, not a reason to stop applying the log.
          outcome = { ok: false, error: err };
          counters.applyErrors++;
          logger.warn({ index: e.index, err: (err as Error).message }, 'state machine rejected an entry');
        }
      }
      this.applied = e.index;
      pending.settle(e.index, e.term, outcome);
    }
  }
}

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
