/**
 * A RaftNode's snapshots: taking one of the state machine once enough entries were applied
 * (then compacting the log behind it), installing one received from the leader, and
 * reading one back from the store to send to a follower that needs it.
 */
import type { SnapshotMeta, SnapshotRequest } from './core/messages.js';
import type { RaftCore } from './core/raft-core.js';
import type { RaftLogger, RaftNodeOptions } from './node-options.js';
import { DEFAULT_SNAPSHOT_THRESHOLD, DEFAULT_TRAILING_LOGS } from './node-options.js';
import type { NodeCounters } from './node-status.js';
import type { RaftStorage } from './storage/raft-storage.js';
import type { SnapshotStore } from './storage/snapshot-store.js';
import { YurtError } from '../structs/errors.js';

export class NodeSnapshots {
  private taking: Promise<void> | null = null;
  /** After a failed snapshot, wait for this applied index before trying again. */
  private nextAt = 0;

  constructor(
    readonly store: SnapshotStore,
    private readonly opts: RaftNodeOptions,
    private readonly logger: RaftLogger,
    private readonly counters: NodeCounters,
  ) {}

  /** The snapshot being taken, if any; it never rejects. */
  get inProgress(): Promise<void> | null {
    return this.taking;
  }

  /** Starts a snapshot of the state machine once enough entries were applied since the last. */
  maybeTake(core: RaftCore, storage: RaftStorage, applied: number): void {
    const threshold = this.opts.snapshotThreshold ?? DEFAULT_SNAPSHOT_THRESHOLD;
    const last = storage.snapshot().index;
    if (threshold === 0 || this.taking !== null || applied - last < threshold || applied < this.nextAt) return;
    const index = applied;
    const term = storage.term(index);
    if (term === undefined) return;
    const c = core.configurationAt(index);
    const meta: SnapshotMeta = { index, term, configIndex: c.index, configuration: c.configuration };
    // Called now, between two applies: the state machine captures exactly `index`.
    const bytes = this.opts.fsm.snapshot();
    this.taking = (async () => {
      const data = await bytes;
      await this.store.save(meta, data);
      storage.setSnapshot(meta);
      const trailing = this.opts.trailingLogs ?? DEFAULT_TRAILING_LOGS;
      if (index - trailing > storage.firstIndex() - 1) await storage.compact(index - trailing);
      this.counters.snapshotsTaken++;
      this.logger.info({ index, term, bytes: data.byteLength, firstIndex: storage.firstIndex() }, 'took a snapshot');
    })()
      .catch((e: unknown) => {
        this.nextAt = index + threshold;
        this.logger.warn({ index, err: (e as Error).message }, 'snapshot failed; will try again later');
      })
      .finally(() => {
        this.taking = null;
      });
  }

  /**
   * A snapshot from the leader: stored durably first (so a crash mid-way finds it and
   * finishes the job at start, see RaftStorage.useSnapshot), then the state machine is
   * replaced, then the log.
   */
  async install(storage: RaftStorage, snap: { meta: SnapshotMeta; data: Uint8Array }): Promise<void> {
    const { meta, data } = snap;
    await this.store.save(meta, data);
    await this.opts.fsm.restore(data, meta.index, meta.term);
    await storage.installSnapshot(meta);
  }

  /** The core names the snapshot; its bytes come from the store, read asynchronously.
   *  `onFailure` runs when it could not be sent. */
  async send(m: SnapshotRequest, onFailure: () => void): Promise<void> {
    try {
      const s = await this.store.read(m.snapshot.index);
      if (s === undefined) throw new YurtError('not_found', `snapshot ${m.snapshot.index} is no longer retained`);
      this.opts.transport.send(m.to, { ...m, data: s.data });
      this.counters.snapshotsSent++;
      this.logger.info({ to: m.to, index: m.snapshot.index, bytes: s.data.byteLength }, 'sent a snapshot');
    } catch (e) {
      this.logger.warn({ to: m.to, index: m.snapshot.index, err: (e as Error).message }, 'could not send a snapshot');
      onFailure();
    }
  }
}
