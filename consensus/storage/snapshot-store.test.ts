import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { encodeConfiguration } from '../core/configuration.js';
import type { Configuration } from '../core/configuration.js';
import type { SnapshotMeta } from '../core/messages.js';
import { YurtError } from '../../structs/errors.js';
import { RaftStorage } from './raft-storage.js';
import { SnapshotStore } from './snapshot-store.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'yurt-raft-snapshots-'));
  dirs.push(d);
  return d;
}

const config: Configuration = { servers: [{ id: 'a', address: 'a:1', suffrage: 'voter' }] };
const meta = (index: number, term = 1): SnapshotMeta => ({ index, term, configIndex: 1, configuration: config });
const bytes = (s: string) => new TextEncoder().encode(s);
const isCorrupted = (pattern: RegExp) => (e: unknown) => e instanceof YurtError && e.code === 'corrupted' && pattern.test(e.message);

void describe('SnapshotStore', () => {
  void it('saves, lists newest first, reads back, and keeps only the last N', async () => {
    const dir = tempDir();
    const s = await SnapshotStore.open(dir, 2);
    assert.equal(s.latest(), undefined);
    await s.save(meta(10), bytes('ten'));
    await s.save(meta(20, 2), bytes('twenty'));
    await s.save(meta(30, 2), bytes('thirty'));
    assert.deepEqual(s.latest(), meta(30, 2));
    assert.deepEqual(s.list().map((x) => x.meta.index), [30, 20]);
    assert.equal(readdirSync(dir).length, 2, 'the oldest was deleted from disk');
    assert.equal(await s.read(10), undefined);
    assert.equal(new TextDecoder().decode((await s.read(20))!.data), 'twenty');
    const again = await SnapshotStore.open(dir, 2);
    assert.deepEqual(again.latest(), meta(30, 2));
  });

  void it('forgets an interrupted save', async () => {
    const dir = tempDir();
    const s = await SnapshotStore.open(dir);
    await s.save(meta(5), bytes('five'));
    mkdirSync(join(dir, '1-9-123.tmp'));
    writeFileSync(join(dir, '1-9-123.tmp', 'state.bin'), 'half');
    const again = await SnapshotStore.open(dir);
    assert.deepEqual(again.latest(), meta(5));
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
  });

  void it('refuses a snapshot whose bytes fail the checksum, naming the file', async () => {
    const dir = tempDir();
    const s = await SnapshotStore.open(dir);
    await s.save(meta(5), bytes('precious state'));
    const state = join(dir, readdirSync(dir)[0]!, 'state.bin');
    const b = readFileSync(state);
    b[0] = b[0]! ^ 0x04;
    writeFileSync(state, b);
    await assert.rejects(SnapshotStore.open(dir), (e: unknown) => isCorrupted(/SHA-256/)(e) && (e as Error).message.includes(state));
  });

  void it('refuses a truncated snapshot and damaged metadata', async () => {
    const dir = tempDir();
    const s = await SnapshotStore.open(dir);
    await s.save(meta(5), bytes('0123456789'));
    const snap = join(dir, readdirSync(dir)[0]!);
    writeFileSync(join(snap, 'state.bin'), '01234');
    await assert.rejects(SnapshotStore.open(dir), isCorrupted(/holds 5 bytes, its metadata says 10/));
    writeFileSync(join(snap, 'meta.json'), '{"version": 1, "index": "five"}');
    await assert.rejects(SnapshotStore.open(dir), isCorrupted(/metadata is malformed/));
  });
});

void describe('RaftStorage with snapshots', () => {
  const cfgEntry = { index: 1, term: 1, type: 'config' as const, data: encodeConfiguration(config) };
  const normal = (index: number, term: number) => ({ index, term, type: 'normal' as const, data: bytes(`c${index}`) });

  void it('installing a snapshot replaces the whole log, durably', async () => {
    const dir = tempDir();
    const s = await RaftStorage.open(dir);
    await s.persist({ term: 2, vote: '', commit: 1 }, [cfgEntry, normal(2, 1), normal(3, 2)]);
    await s.installSnapshot(meta(10, 3));
    assert.equal(s.firstIndex(), 11);
    assert.equal(s.lastIndex(), 10);
    assert.equal(s.term(10), 3);
    assert.equal(s.lastConfig(10), undefined, 'the configuration now comes from the snapshot');
    assert.equal(s.initialState().commit, 10);
    await s.close();
    const r = await RaftStorage.open(dir);
    assert.equal(r.firstIndex(), 11);
    await r.useSnapshot(meta(10, 3));
    assert.deepEqual(r.snapshot(), meta(10, 3));
    await r.close();
  });

  void it('keeps trailing entries behind a snapshot, but replaces a log that disagrees with it', async () => {
    const dir = tempDir();
    const s = await RaftStorage.open(dir);
    await s.persist({ term: 2, vote: '', commit: 4 }, [cfgEntry, normal(2, 1), normal(3, 2), normal(4, 2)]);
    await s.useSnapshot(meta(3, 2));
    assert.equal(s.firstIndex(), 1, 'the log agrees at 3: nothing to do');
    assert.equal(s.snapshot().index, 3);
    // A snapshot installed from a leader whose history differs; the crash came before the
    // log was replaced: the log goes.
    await s.useSnapshot(meta(4, 3));
    assert.equal(s.firstIndex(), 5);
    assert.equal(s.lastIndex(), 4);
    await s.close();
  });

  void it('refuses a log compacted past its newest snapshot', async () => {
    const dir = tempDir();
    const s = await RaftStorage.open(dir);
    await s.persist({ term: 1, vote: '', commit: 4 }, [cfgEntry, normal(2, 1), normal(3, 1), normal(4, 1)]);
    await s.compact(3);
    await assert.rejects(s.useSnapshot(undefined), isCorrupted(/compacted up to 3, but the newest snapshot is missing/));
    await assert.rejects(s.useSnapshot(meta(2)), isCorrupted(/newest snapshot ends at 2/));
    await s.close();
  });
});
