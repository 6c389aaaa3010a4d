/**
 * Log entries in LMDB, keyed by index, each value checksummed (entry-codec.ts). A second
 * table keeps a copy of every `config` entry so the latest configuration at any index is
 * one reverse range read away, and survives compaction of the entries around it.
 *
 * Mutations run inside the caller's write transaction; the cached first/last indexes are
 * updated by the caller once that transaction is committed (see raft-storage.ts). Terms
 * and the most recent entries are also kept in memory (term-runs.ts, recent-entries.ts),
 * since the core reads them far more often than anything else.
 */
import type { Database } from 'lmdb';
import type { Entry } from '../core/messages.js';
import { entrySize } from '../core/messages.js';
import { YurtError } from '../../structs/errors.js';
import type { CompactionPoint } from './entry-codec.js';
import { decodeEntry, encodeEntry } from './entry-codec.js';
import { RecentEntries } from './recent-entries.js';
import { TermRuns } from './term-runs.js';

export interface LogCacheOptions {
  /** Recent entries kept in memory (0: none); default 4096. */
  entries?: number;
  /** ...and at most this many payload bytes; default 16 MiB. */
  bytes?: number;
}

export class LogStore {
  private compaction: CompactionPoint = { index: 0, term: 0 };
  private last = 0;
  /** Highest key of the configuration table (0: empty), so appends skip a range scan. */
  private lastConfigKey = 0;
  private readonly terms = new TermRuns();
  private readonly recent: RecentEntries;

  constructor(
    private readonly log: Database<Buffer, number>,
    private readonly configs: Database<Buffer, number>,
    private readonly where: string,
    cache: LogCacheOptions = {},
  ) {
    this.recent = new RecentEntries(cache.entries ?? 4096, cache.bytes ?? 16 * 1024 * 1024);
  }

  /** Reads the whole log once, checking every checksum and that indexes are contiguous
   *  from the compaction point; a damaged log is refused here, before anything runs. */
  load(compaction: CompactionPoint): void {
    this.compaction = compaction;
    let expected = compaction.index + 1;
    this.terms.clear();
    for (const { key, value } of this.log.getRange({})) {
      if (key !== expected) {
        throw this.corrupted(key < expected ? key : expected, key < expected ? 'survived compaction' : 'is missing');
      }
      this.terms.append(key, decodeEntry(key, value, this.where).term);
      expected++;
    }
    this.last = expected - 1;
    for (const { key, value } of this.configs.getRange({})) {
      decodeEntry(key, value, this.where);
      if (key > this.last) throw this.corrupted(key, 'is a configuration beyond the end of the log');
      this.lastConfigKey = key;
    }
  }

  firstIndex(): number {
    return this.compaction.index + 1;
  }

  lastIndex(): number {
    return this.last;
  }

  term(index: number): number | undefined {
    if (index === this.compaction.index) return this.compaction.term;
    if (index < this.compaction.index || index > this.last) return undefined;
    return this.terms.term(index) ?? this.entry(index).term;
  }

  entry(index: number): Entry {
    const cached = this.recent.get(index);
    if (cached !== undefined) return cached;
    const buf = this.log.get(index);
    if (buf === undefined) throw this.corrupted(index, 'is missing');
    return decodeEntry(index, buf, this.where);
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo < this.firstIndex() || hi > this.last + 1) {
      throw new YurtError('internal', `raft log: entries [${lo}, ${hi}) requested outside [${this.firstIndex()}, ${this.last + 1})`);
    }
    const out: Entry[] = [];
    let size = 0;
    if (this.recent.covers(lo, hi)) {
      for (let i = lo; i < hi; i++) {
        const e = this.recent.get(i)!;
        size += entrySize(e);
        if (out.length > 0 && size > maxBytes) break;
        out.push(e);
      }
      return out;
    }
    let expected = lo;
    for (const { key, value } of this.log.getRange({ start: lo, end: hi })) {
      if (key !== expected) throw this.corrupted(expected, 'is missing');
      const e = decodeEntry(key, value, this.where);
      size += entrySize(e);
      if (out.length > 0 && size > maxBytes) break;
      out.push(e);
      expected++;
    }
    if (out.length === 0 && lo < hi) throw this.corrupted(lo, 'is missing');
    return out;
  }

  lastConfig(index: number): Entry | undefined {
    for (const { key, value } of this.configs.getRange({ start: index, end: 0, reverse: true, limit: 1 })) {
      return decodeEntry(key, value, this.where);
    }
    return undefined;
  }

  /** In a write transaction: stores `entries`, first discarding any suffix they replace. */
  write(entries: readonly Entry[]): void {
    const first = entries[0]?.index;
    if (first === undefined) return;
    if (first > this.last + 1 || first <= this.compaction.index) {
      throw new YurtError('internal', `raft log: cannot write from ${first} (log holds ${this.firstIndex()}..${this.last})`);
    }
    for (let i = first; i <= this.last; i++) this.log.removeSync(i);
    if (this.lastConfigKey >= first) {
      for (const k of [...this.configs.getKeys({ start: first })]) this.configs.removeSync(k);
    }
    for (const e of entries) {
      const buf = encodeEntry(e);
      this.log.putSync(e.index, buf);
      if (e.type === 'config') this.configs.putSync(e.index, buf);
    }
  }

  /** After the write transaction committed. */
  written(entries: readonly Entry[]): void {
    const first = entries[0]?.index;
    const last = entries.at(-1);
    if (first === undefined || last === undefined) return;
    this.last = last.index;
    if (this.lastConfigKey >= first) {
      let below = 0;
      for (const k of this.configs.getKeys({ start: first - 1, end: 0, reverse: true, limit: 1 })) below = k;
      this.lastConfigKey = below;
    }
    const lastConfig = entries.findLast((e) => e.type === 'config');
    if (lastConfig !== undefined) this.lastConfigKey = lastConfig.index;
    this.terms.truncateFrom(first);
    for (const e of entries) this.terms.append(e.index, e.term);
    this.recent.written(entries);
  }

  /**
   * Prepares compaction up to `index`: from now on reads treat it as discarded, and the
   * returned function deletes the entries inside a write transaction. The latest
   * configuration at or below `index` is kept in the configuration table.
   */
  compact(index: number): { point: CompactionPoint; inTxn: () => void } | null {
    if (index <= this.compaction.index) return null;
    if (index > this.last) {
      throw new YurtError('invalid_argument', `cannot compact the raft log up to ${index}: it ends at ${this.last}`);
    }
    const point = { index, term: this.entry(index).term };
    const from = this.firstIndex();
    const keep = this.lastConfig(index)?.index;
    this.compaction = point;
    this.terms.dropUpTo(index);
    this.recent.dropUpTo(index);
    return {
      point,
      inTxn: () => {
        for (let i = from; i <= index; i++) this.log.removeSync(i);
        for (const k of [...this.configs.getKeys({ end: index + 1 })]) if (k !== keep) this.configs.removeSync(k);
      },
    };
  }

  /**
   * Prepares replacing the whole log by a snapshot ending at `point`: every entry and stored
   * configuration goes (the snapshot carries the configuration). Reads see the empty log at
   * once; the returned function deletes inside a write transaction.
   */
  reset(point: CompactionPoint): () => void {
    this.compaction = point;
    this.last = point.index;
    this.lastConfigKey = 0;
    this.terms.clear();
    this.recent.clear();
    return () => {
      for (const k of [...this.log.getKeys({})]) this.log.removeSync(k);
      for (const k of [...this.configs.getKeys({})]) this.configs.removeSync(k);
    };
  }

  compactionPoint(): CompactionPoint {
    return this.compaction;
  }

  private corrupted(index: number, why: string): YurtError {
    return new YurtError('corrupted', `raft log ${this.where} is corrupted: entry ${index} ${why}`, {
      details: { index, path: this.where },
    });
  }
}
