/**
 * State machine snapshots on disk, the newest `retain` kept. Each snapshot is a directory
 * `<dir>/<term>-<index>-<ms>/` holding `state.bin` (the state machine's bytes) and
 * `meta.json` (what it stands for, its size and SHA-256). A snapshot is written into a
 * `.tmp` directory, fsynced, then renamed into place, so a crash never leaves a half
 * snapshot under a real name (leftover `.tmp` directories are removed at open).
 *
 * `open` verifies every retained snapshot against its checksum and refuses, with a message
 * naming the file, to go on with a damaged one: restoring a corrupted state machine would
 * silently diverge from the other servers.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { open as openFile, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SnapshotMeta } from '../core/messages.js';
import { YurtError } from '../../structs/errors.js';

const META = 'meta.json';
const STATE = 'state.bin';
const FORMAT_VERSION = 1;

interface StoredMeta extends SnapshotMeta {
  version: number;
  size: number;
  sha256: string;
  createdAt: string;
}

export interface SnapshotInfo {
  meta: SnapshotMeta;
  size: number;
  path: string;
}

export class SnapshotStore {
  /** Newest first. */
  private snapshots: Array<{ name: string; meta: StoredMeta }> = [];

  private constructor(
    readonly dir: string,
    private readonly retain: number,
  ) {}

  /** Opens (creating) the store and verifies every snapshot in it. */
  static async open(dir: string, retain = 2): Promise<SnapshotStore> {
    if (!Number.isInteger(retain) || retain < 1) throw new YurtError('invalid_argument', `snapshot retain must be an integer >= 1, got ${retain}`);
    const store = new SnapshotStore(dir, retain);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new YurtError('unavailable', `cannot create the snapshot directory ${dir}: ${(e as Error).message}`, { cause: e });
    }
    for (const name of readdirSync(dir)) {
      // An interrupted save: never renamed into place, so never part of the store.
      if (name.endsWith('.tmp')) rmSync(join(dir, name), { recursive: true, force: true });
    }
    const found: Array<{ name: string; meta: StoredMeta }> = [];
    for (const name of readdirSync(dir)) {
      if (!/^\d+-\d+-\d+$/.test(name)) continue;
      const meta = await store.readMeta(name);
      await store.verifiedData(name, meta);
      found.push({ name, meta });
    }
    store.snapshots = found.sort((a, b) => b.meta.index - a.meta.index || b.meta.term - a.meta.term);
    return store;
  }

  /** The newest snapshot's metadata, if any. */
  latest(): SnapshotMeta | undefined {
    const s = this.snapshots[0];
    return s === undefined ? undefined : metaOf(s.meta);
  }

  list(): SnapshotInfo[] {
    return this.snapshots.map((s) => ({ meta: metaOf(s.meta), size: s.meta.size, path: join(this.dir, s.name) }));
  }

  /** The bytes of the snapshot at `index` (checked against its checksum again); undefined if
   *  that snapshot is no longer retained. */
  async read(index: number): Promise<{ meta: SnapshotMeta; data: Uint8Array } | undefined> {
    const s = this.snapshots.find((x) => x.meta.index === index);
    if (s === undefined) return undefined;
    return { meta: metaOf(s.meta), data: await this.verifiedData(s.name, s.meta) };
  }

  /** Writes a snapshot durably, then drops the oldest beyond `retain`. */
  async save(meta: SnapshotMeta, data: Uint8Array): Promise<void> {
    const name = `${meta.term}-${meta.index}-${Date.now()}`;
    const tmp = join(this.dir, `${name}.tmp`);
    const stored: StoredMeta = {
      version: FORMAT_VERSION,
      index: meta.index,
      term: meta.term,
      configIndex: meta.configIndex,
      configuration: meta.configuration,
      size: data.byteLength,
      sha256: sha256(data),
      createdAt: new Date().toISOString(),
    };
    mkdirSync(tmp, { recursive: true });
    await writeDurably(join(tmp, STATE), data);
    await writeDurably(join(tmp, META), Buffer.from(`${JSON.stringify(stored, null, 2)}\n`));
    await fsyncDir(tmp);
    await rename(tmp, join(this.dir, name));
    await fsyncDir(this.dir);
    this.snapshots = [{ name, meta: stored }, ...this.snapshots.filter((s) => s.name !== name)].sort(
      (a, b) => b.meta.index - a.meta.index || b.meta.term - a.meta.term,
    );
    for (const old of this.snapshots.splice(this.retain)) {
      await rm(join(this.dir, old.name), { recursive: true, force: true });
    }
  }

  private async readMeta(name: string): Promise<StoredMeta> {
    const path = join(this.dir, name, META);
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(path, 'utf8'));
    } catch (e) {
      throw this.corrupted(path, `its metadata cannot be read (${(e as Error).message})`);
    }
    const m = parsed as Partial<StoredMeta> | null;
    const ok =
      m !== null &&
      typeof m === 'object' &&
      m.version === FORMAT_VERSION &&
      isIndex(m.index) &&
      isIndex(m.term) &&
      isIndex(m.configIndex) &&
      isIndex(m.size) &&
      typeof m.sha256 === 'string' &&
      Array.isArray(m.configuration?.servers);
    if (!ok) throw this.corrupted(path, 'its metadata is malformed');
    return m as StoredMeta;
  }

  private async verifiedData(name: string, meta: StoredMeta): Promise<Uint8Array> {
    const path = join(this.dir, name, STATE);
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (e) {
      throw this.corrupted(path, `its state cannot be read (${(e as Error).message})`);
    }
    if (data.byteLength !== meta.size) throw this.corrupted(path, `it holds ${data.byteLength} bytes, its metadata says ${meta.size}`);
    if (sha256(data) !== meta.sha256) throw this.corrupted(path, 'it fails its SHA-256 checksum');
    return data;
  }

  private corrupted(path: string, why: string): YurtError {
    return new YurtError(
      'corrupted',
      `raft snapshot ${path} is corrupted: ${why}. Refusing to start rather than restore a damaged state; ` +
        'remove this server\'s data directory and let it rejoin from the others',
      { details: { path } },
    );
  }
}

function metaOf(m: StoredMeta): SnapshotMeta {
  return { index: m.index, term: m.term, configIndex: m.configIndex, configuration: m.configuration };
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

async function writeDurably(path: string, data: Uint8Array): Promise<void> {
  const fh = await openFile(path, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A rename is durable only once the directory holding it is fsynced. */
async function fsyncDir(path: string): Promise<void> {
  const fh = await openFile(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
