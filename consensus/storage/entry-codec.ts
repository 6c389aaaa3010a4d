/**
 * On-disk form of a log entry and of the hard state, each guarded by a CRC32 so that bit
 * rot or a torn copy of the data directory is detected instead of replayed into the state
 * machine. Entry layout (big-endian):
 *
 *   crc32 u32 | term f64 | type u8 | data...
 *
 * The checksum also covers the entry's index (its LMDB key), so an entry stored under the
 * wrong key fails too.
 */
import { crc32 } from 'node:zlib';
import type { Entry, EntryType, HardState } from '../core/messages.js';
import { YurtError } from '../../structs/errors.js';

const ENTRY_HEADER = 13;
const HARD_STATE_HEADER = 20;
const typeCodes: Record<EntryType, number> = { normal: 0, noop: 1, config: 2 };
const typesByCode: readonly EntryType[] = ['normal', 'noop', 'config'];

const seedBuf = Buffer.allocUnsafe(8);
function indexSeed(index: number): number {
  seedBuf.writeDoubleBE(index);
  return crc32(seedBuf);
}

export function encodeEntry(e: Entry): Buffer {
  const buf = Buffer.allocUnsafe(ENTRY_HEADER + e.data.byteLength);
  buf.writeDoubleBE(e.term, 4);
  buf.writeUInt8(typeCodes[e.type], 12);
  buf.set(e.data, ENTRY_HEADER);
  buf.writeUInt32BE(crc32(buf.subarray(4), indexSeed(e.index)), 0);
  return buf;
}

/** Decodes a stored entry; `where` names the store in the error a damaged entry raises. */
export function decodeEntry(index: number, buf: Buffer, where: string): Entry {
  const corrupted = (why: string) =>
    new YurtError('corrupted', `raft log ${where} is corrupted: entry ${index} ${why}`, { details: { index, path: where } });
  if (buf.length < ENTRY_HEADER) throw corrupted(`is truncated (${buf.length} bytes)`);
  const stored = buf.readUInt32BE(0);
  const actual = crc32(buf.subarray(4), indexSeed(index));
  if (stored !== actual) throw corrupted('fails its CRC32 checksum');
  const type = typesByCode[buf.readUInt8(12)];
  if (type === undefined) throw corrupted('has an unknown entry type');
  return { index, term: buf.readDoubleBE(4), type, data: buf.subarray(ENTRY_HEADER) };
}

export function encodeHardState(hs: HardState): Buffer {
  const vote = Buffer.from(hs.vote, 'utf8');
  const buf = Buffer.allocUnsafe(HARD_STATE_HEADER + vote.length);
  buf.writeDoubleBE(hs.term, 4);
  buf.writeDoubleBE(hs.commit, 12);
  vote.copy(buf, HARD_STATE_HEADER);
  buf.writeUInt32BE(crc32(buf.subarray(4)), 0);
  return buf;
}

export function decodeHardState(buf: Buffer, where: string): HardState {
  if (buf.length < HARD_STATE_HEADER || buf.readUInt32BE(0) !== crc32(buf.subarray(4))) {
    throw new YurtError('corrupted', `raft state ${where} is corrupted: the term/vote/commit record fails its CRC32 checksum`, {
      details: { path: where },
    });
  }
  return { term: buf.readDoubleBE(4), commit: buf.readDoubleBE(12), vote: buf.subarray(HARD_STATE_HEADER).toString('utf8') };
}

/** The compaction point: the index and term of the last entry discarded. */
export interface CompactionPoint {
  index: number;
  term: number;
}

export function encodeCompactionPoint(p: CompactionPoint): Buffer {
  const buf = Buffer.allocUnsafe(20);
  buf.writeDoubleBE(p.index, 4);
  buf.writeDoubleBE(p.term, 12);
  buf.writeUInt32BE(crc32(buf.subarray(4)), 0);
  return buf;
}

export function decodeCompactionPoint(buf: Buffer, where: string): CompactionPoint {
  if (buf.length !== 20 || buf.readUInt32BE(0) !== crc32(buf.subarray(4))) {
    throw new YurtError('corrupted', `raft state ${where} is corrupted: the compaction record fails its CRC32 checksum`, {
      details: { path: where },
    });
  }
  return { index: buf.readDoubleBE(4), term: buf.readDoubleBE(12) };
}
