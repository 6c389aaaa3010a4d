/**
 * The durable side of one Raft server: log and stable store in one LMDB environment
 * (`<dir>/raft.mdb`). It is the core's `LogStorage` (synchronous reads) and takes each
 * Ready's writes as ONE transaction that is durable when `persist` resolves.
 *
 * Durability: lmdb's default `overlappingSync` resolves a commit when it is visible, not
 * when it is on disk (PLATFORM.md), and `env.flushed` read after that may already have
 * moved on to a later batch. The environment is therefore opened without overlappingSync,
 * so a transaction's promise resolves only after LMDB's fdatasync (strace: one per commit):
 * a write is durable when `persist` resolves, and votes and acks are sent only after.
 *
 * Log writes are asynchronous transactions: the commit and its fdatasync run on lmdb's
 * write thread while this one goes on scheduling and applying, and what is proposed in the
 * meantime goes into the next Ready as one batch (group commit). A synchronous commit was
 * a little quicker alone (serial commit p50 1.38 ms against 1.47 ms, three servers) but
 * blocked the server's only thread on every fdatasync: about a tenth of the time it took
 * to place 100,000 allocations. Rarer writes (snapshots, compaction) stay synchronous.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RootDatabase } from 'lmdb';
import { open } from 'lmdb';
import type { LogStorage } from '../core/log-storage.js';
import type { Entry, HardState, SnapshotMeta } from '../core/messages.js';
import { noSnapshot } from '../core/messages.js';
import { YurtError } from '../../structs/errors.js';
import { LogStore } from './log-store.js';
import type { LogCacheOptions } from './log-store.js';
import { StableStore } from './stable-store.js';

export class RaftStorage implements LogStorage {
  private hs: HardState;
  /** The newest snapshot, as the shell's snapshot store reports it. */
  private snap: SnapshotMeta = noSnapshot;
  /** Writes run one after another: each sees the log the previous one left. */
  private writes: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly env: RootDatabase,
    private readonly log: LogStore,
    private readonly stable: StableStore,
  ) {
    this.hs = stable.hardState();
  }

  /** Opens (creating if needed) the store in `dir` and verifies every checksum in it.
   *  Rejects with YurtError 'corrupted', naming the entry, when the data is damaged. */
  static async open(dir: string, cache?: LogCacheOptions): Promise<RaftStorage> {
    const path = join(dir, 'raft.mdb');
    let env: RootDatabase;
    try {
      mkdirSync(dir, { recursive: true });
      // Without overlappingSync a commit resolves only after LMDB's fdatasync, so "persisted"
      // means durable with no doubt about which flush covers which write.
      env = open({ path, maxDbs: 4, overlappingSync: false });
    } catch (e) {
      throw new YurtError('unavailable', `cannot open the raft store at ${path}: ${(e as Error).message}`, { cause: e });
    }
    try {
      const log = env.openDB<Buffer, number>({ name: 'log', encoding: 'binary' });
      const configs = env.openDB<Buffer, number>({ name: 'configs', encoding: 'binary' });
      const meta = env.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' });
      const stable = new StableStore(meta, path);
      const logStore = new LogStore(log, configs, path, cache);
      logStore.load(stable.compactionPoint());
      const storage = new RaftStorage(path, env, logStore, stable);
      if (storage.hs.commit > logStore.lastIndex()) {
        throw new YurtError(
          'corrupted',
          `raft state ${path} is corrupted: commit index ${storage.hs.commit} is beyond the last log entry ${logStore.lastIndex()}`,
          { details: { path, commit: storage.hs.commit, lastIndex: logStore.lastIndex() } },
        );
      }
      return storage;
    } catch (e) {
      await env.close();
      throw e;
    }
  }

  // ---- LogStorage (what the core reads) -----------------------------------------------

  initialState(): HardState {
    return { ...this.hs };
  }

  firstIndex(): number {
    return this.log.firstIndex();
  }

  lastIndex(): number {
    return this.log.lastIndex();
  }

  term(index: number): number | undefined {
    return this.log.term(index);
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    return this.log.entries(lo, hi, maxBytes);
  }

  lastConfig(index: number): Entry | undefined {
    return this.log.lastConfig(index);
  }

  snapshot(): SnapshotMeta {
    return this.snap;
  }

  /**
   * Joins the log with the newest snapshot at start. The log may not be compacted past it
   * (that would mean the snapshot holding those entries is lost). A snapshot newer than the
   * log's compaction point is normal (the log keeps trailing entries behind a snapshot) as
   * long as the log holds the snapshot's last entry; if it does not, an install from the
   * leader was cut short by a crash and the stale log is replaced, as the install would
   * have done.
   */
  async useSnapshot(meta: SnapshotMeta | undefined): Promise<void> {
    const point = this.log.compactionPoint();
    if (meta === undefined || meta.index < point.index) {
      if (point.index > 0) {
        throw new YurtError(
          'corrupted',
          `raft log ${this.path} was compacted up to ${point.index}, but the newest snapshot ${meta === undefined ? 'is missing' : `ends at ${meta.index}`}: the entries in between are lost`,
          { details: { path: this.path, compactedTo: point.index, snapshot: meta?.index ?? 0 } },
        );
      }
      this.snap = meta ?? noSnapshot;
      return;
    }
    this.snap = meta;
    // Entries kept behind the snapshot (trailing logs) are fine as long as the log agrees
    // with the snapshot at its last entry.
    if (meta.index === point.index || this.log.term(meta.index) === meta.term) return;
    await this.installSnapshot(meta);
  }

  /** The shell saved a newer snapshot of its own state machine. */
  setSnapshot(meta: SnapshotMeta): void {
    if (meta.index > this.snap.index) this.snap = meta;
  }

  /** A snapshot from the leader replaces the whole log (Ready.snapshot); durable when resolved. */
  installSnapshot(meta: SnapshotMeta): Promise<void> {
    return this.serialized(async () => {
      const point = { index: meta.index, term: meta.term };
      const inTxn = this.log.reset(point);
      const hs = { ...this.hs, commit: Math.max(this.hs.commit, meta.index) };
      this.env.transactionSync(() => {
        inTxn();
        this.stable.setCompactionPoint(point);
        this.stable.setHardState(hs);
      });
      this.hs = hs;
      if (meta.index > this.snap.index) this.snap = meta;
    });
  }

  // ---- writes -------------------------------------------------------------------------

  /** True for a server that has never stored anything: the moment to bootstrap. */
  isEmpty(): boolean {
    return this.log.lastIndex() === 0 && this.log.firstIndex() === 1 && this.hs.term === 0;
  }

  /**
   * Stores a Ready's hard state and entries in one transaction; resolves once durable.
   * `handedOver` is called once the entries are written into the transaction, when only its
   * commit and fsync remain, which run on lmdb's write thread: the caller's thread is free.
   */
  persist(hardState: HardState | undefined, entries: readonly Entry[], handedOver?: () => void): Promise<void> {
    if (hardState === undefined && entries.length === 0) return this.writes;
    return this.serialized(async () => {
      await this.env.transaction(() => {
        if (entries.length > 0) this.log.write(entries);
        if (hardState !== undefined) this.stable.setHardState(hardState);
        handedOver?.();
      });
      this.log.written(entries);
      if (hardState !== undefined) this.hs = { ...hardState };
    });
  }

  /**
   * Discards entries up to and including `index` (which the state machine must have
   * applied and captured in a snapshot). Reads stop seeing them at once; the deletion is
   * durable when the promise resolves.
   */
  compact(index: number): Promise<void> {
    return this.serialized(async () => {
      const plan = this.log.compact(index);
      if (plan === null) return;
      this.env.transactionSync(() => {
        plan.inTxn();
        this.stable.setCompactionPoint(plan.point);
      });
    });
  }

  /** Waits for writes in progress, then closes the environment. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writes.catch(() => undefined);
    await this.env.close();
  }

  private serialized(fn: () => Promise<void>): Promise<void> {
    if (this.closed) return Promise.reject(new YurtError('unavailable', `the raft store at ${this.path} is closed`));
    const next = this.writes.then(fn);
    this.writes = next.catch(() => undefined);
    return next;
  }
}
