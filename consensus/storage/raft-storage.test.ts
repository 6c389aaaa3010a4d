import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { open } from 'lmdb';
import { encodeConfiguration } from '../core/configuration.js';
import type { Entry } from '../core/messages.js';
import { YurtError } from '../../structs/errors.js';
import { RaftStorage } from './raft-storage.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'yurt-raft-storage-'));
  dirs.push(d);
  return d;
}

const bytes = (s: string) => new TextEncoder().encode(s);
const normal = (index: number, term: number, payload = `cmd${index}`): Entry => ({ index, term, type: 'normal', data: bytes(payload) });
const config = (index: number, term: number, ids: string[]): Entry => ({
  index,
  term,
  type: 'config',
  data: encodeConfiguration({ servers: ids.map((id) => ({ id, address: `${id}:4647`, suffrage: 'voter' as const })) }),
});
const summary = (ents: Entry[]) => ents.map((e) => `${e.index}:${e.term}:${e.type}:${new TextDecoder().decode(e.data).slice(0, 12)}`);
const all = (s: RaftStorage) => summary(s.entries(s.firstIndex(), s.lastIndex() + 1, Infinity));

/** Rewrites one stored value behind the store's back, as bit rot would. */
async function tamper(dir: string, table: 'log' | 'meta', key: number | string, edit: (b: Buffer) => Buffer | undefined): Promise<void> {
  const env = open({ path: join(dir, 'raft.mdb'), maxDbs: 4 });
  const db = env.openDB<Buffer, number | string>({ name: table, encoding: 'binary' });
  const buf = db.get(key);
  assert.ok(buf !== undefined, `no ${table} value at ${key}`);
  const edited = edit(Buffer.from(buf));
  if (edited === undefined) await db.remove(key);
  else await db.put(key, edited);
  await env.close();
}

const isCorrupted = (pattern: RegExp) => (e: unknown) =>
  e instanceof YurtError && e.code === 'corrupted' && pattern.test(e.message);

void describe('RaftStorage', () => {
  void it('starts empty', async () => {
    const s = await RaftStorage.open(tempDir());
    assert.equal(s.isEmpty(), true);
    assert.deepEqual(s.initialState(), { term: 0, vote: '', commit: 0 });
    assert.equal(s.firstIndex(), 1);
    assert.equal(s.lastIndex(), 0);
    assert.equal(s.term(0), 0);
    assert.equal(s.term(1), undefined);
    await s.close();
  });

  void it('round-trips hard state and entries across a reopen', async () => {
    const dir = tempDir();
    const s = await RaftStorage.open(dir);
    await s.persist({ term: 1, vote: '', commit: 0 }, [config(1, 1, ['a', 'b', 'c'])]);
    await s.persist({ term: 2, vote: 'b', commit: 3 }, [normal(2, 2), normal(3, 2, 'ünïcödé'), { index: 4, term: 2, type: 'noop', data: new Uint8Array(0) }]);
    await s.close();

    const r = await RaftStorage.open(dir);
    assert.equal(r.isEmpty(), false);
    assert.deepEqual(r.initialState(), { term: 2, vote: 'b', commit: 3 });
    assert.deepEqual(all(r), ['1:1:config:{"servers":[', '2:2:normal:cmd2', '3:2:normal:ünïcödé', '4:2:noop:']);
    assert.equal(r.term(3), 2);
    assert.equal(r.lastConfig(4)?.index, 1);
    await r.close();
  });

  void it('stops a range read at the size limit but always returns one entry', async () => {
    const s = await RaftStorage.open(tempDir());
    await s.persist(undefined, Array.from({ length: 10 }, (_, i) => normal(i + 1, 1, 'x'.repeat(100))));
    assert.equal(s.entries(1, 11, 300).length, 2);
    assert.equal(s.entries(3, 11, 1).length, 1);
    assert.equal(s.entries(1, 11, Infinity).length, 10);
    await s.close();
  });

  void it('truncates a conflicting suffix, configuration entries included', async () => {
    const dir = tempDir();
    const s = await RaftStorage.open(dir);
    await s.persist({ term: 2, vote: '', commit: 2 }, [config(1, 1, ['a']), normal(2, 1), normal(3, 1), config(4, 1, ['a', 'b']), normal(5, 1)]);
    assert.equal(s.lastConfig(5)?.index, 4);
    await s.persist(undefined, [normal(3, 2, 'new3')]);
    assert.deepEqual(all(s), ['1:1:config:{"servers":[', '2:1:normal:cmd2', '3:2:normal:new3']);
    assert.equal(s.lastIndex(), 3);
    assert.equal(s.lastConfig(10)?.index, 1, 'the truncated configuration is gone');
    await s.close();
    const r = await RaftStorage.open(dir);
    assert.deepEqual(all(r), ['1:1:config:{"servers":[', '2:1:normal:cmd2', '3:2:normal:new3']);
    await r.close();
  });

  void it('compacts a prefix, keeping its term and the configuration in force', async () => {
    const dir = tempDir();
    const s = await RaftStorage.open(dir);
    await s.persist({ term: 3, vote: '', commit: 8 }, [config(1, 1, ['a']), ...Array.from({ length: 9 }, (_, i) => normal(i + 2, i < 4 ? 2 : 3))]);
    await s.compact(6);
    assert.equal(s.firstIndex(), 7);
    assert.equal(s.term(6), 3, 'the compaction point keeps its term');
    assert.equal(s.term(5), undefined);
    assert.deepEqual(summary(s.entries(7, 11, Infinity)).map((x) => x.split(':')[0]), ['7', '8', '9', '10']);
    assert.equal(s.lastConfig(10)?.index, 1, 'the configuration survives compaction');
    assert.throws(() => s.entries(5, 8, Infinity), /outside/);
    await s.compact(3); // already compacted: nothing to do
    await assert.rejects(s.compact(99), /ends at 10/);
    await s.close();

    const r = await RaftStorage.open(dir);
    assert.equal(r.firstIndex(), 7);
    assert.equal(r.term(6), 3);
    assert.equal(r.lastConfig(10)?.index, 1);
    await r.persist(undefined, [normal(11, 3)]);
    assert.equal(r.lastIndex(), 11);
    await r.close();
  });

  void it('refuses to open a log whose entry fails its checksum, naming the index', async () => {
    const dir = tempDir();
    const s = await RaftStorage.open(dir);
    await s.persist({ term: 1, vote: '', commit: 3 }, [normal(1, 1), normal(2, 1), normal(3, 1), normal(4, 1)]);
    await s.close();
    await tamper(dir, 'log', 3, (b) => {
      b[b.length - 1] = (b[b.length - 1] ?? 0) ^ 0x01;
      return b;
    });
    await assert.rejects(RaftStorage.open(dir), isCorrupted(/entry 3 fails its CRC32 checksum/));
  });

  void it('detects an entry stored under the wrong index', async () => {
    const dir = tempDir();
    const s = await RaftStorage.open(dir);
    await s.persist(undefined, [normal(1, 1, 'same'), normal(2, 1, 'same')]);
    await s.close();
    const env = open({ path: join(dir, 'raft.mdb'), maxDbs: 4 });
    const db = env.openDB<Buffer, number>({ name: 'log', encoding: 'binary' });
    const one = db.get(1);
    assert.ok(one !== undefined);
    await db.put(2, Buffer.from(one)); // identical bytes, wrong key
    await env.close();
    await assert.rejects(RaftStorage.open(dir), isCorrupted(/entry 2 fails/));
  });

  void it('refuses a log with a missing entry', async () => {
    const dir = tempDir();
    const s = await RaftStorage.open(dir);
    await s.persist(undefined, [normal(1, 1), normal(2, 1), normal(3, 1)]);
    await s.close();
    await tamper(dir, 'log', 2, () => undefined);
    await assert.rejects(RaftStorage.open(dir), isCorrupted(/entry 2 is missing/));
  });

  void it('refuses damaged hard state', async () => {
    const dir = tempDir();
    const s = await RaftStorage.open(dir);
    await s.persist({ term: 5, vote: 'x', commit: 0 }, []);
    await s.close();
    await tamper(dir, 'meta', 'hardState', (b) => {
      b[5] = (b[5] ?? 0) ^ 0x80;
      return b;
    });
    await assert.rejects(RaftStorage.open(dir), isCorrupted(/term\/vote\/commit record fails/));
  });

  void it('verifies checksums on every read from disk, not only at open', async () => {
    const dir = tempDir();
    // Without the in-memory cache of recent entries, every read goes to LMDB.
    const s = await RaftStorage.open(dir, { entries: 0 });
    await s.persist(undefined, [normal(1, 1), normal(2, 1)]);
    await tamper(dir, 'log', 2, (b) => {
      b[13] = (b[13] ?? 0) ^ 0xff;
      return b;
    });
    assert.throws(() => s.entries(1, 3, Infinity), isCorrupted(/entry 2 fails its CRC32 checksum/));
    await s.close();
  });

  void it('applies concurrent persists in call order', async () => {
    const s = await RaftStorage.open(tempDir());
    await Promise.all([
      s.persist(undefined, [normal(1, 1), normal(2, 1)]),
      s.persist(undefined, [normal(2, 2, 'later')]),
      s.persist({ term: 2, vote: '', commit: 0 }, []),
    ]);
    assert.deepEqual(all(s), ['1:1:normal:cmd1', '2:2:normal:later']);
    assert.equal(s.initialState().term, 2);
    await s.close();
    await assert.rejects(s.persist(undefined, [normal(3, 2)]), /closed/);
  });
});
