/**
 * Human-readable sizes ("512MB", "1GiB", "40 GiB", "100"). The grammar follows the
 * go-humanize `ParseBytes` that Nomad uses for sizes in its configuration: SI units are
 * powers of 1000 (KB, MB, GB, ...), IEC units powers of 1024 (KiB, MiB, GiB, ...), unit
 * letters are case-insensitive, a bare number is bytes.
 */
import { YurtError } from './errors.js';

const MULTIPLIERS: ReadonlyMap<string, number> = new Map([
  ['', 1],
  ['b', 1],
  ['k', 1e3],
  ['kb', 1e3],
  ['m', 1e6],
  ['mb', 1e6],
  ['g', 1e9],
  ['gb', 1e9],
  ['t', 1e12],
  ['tb', 1e12],
  ['p', 1e15],
  ['pb', 1e15],
  ['ki', 1024],
  ['kib', 1024],
  ['mi', 1024 ** 2],
  ['mib', 1024 ** 2],
  ['gi', 1024 ** 3],
  ['gib', 1024 ** 3],
  ['ti', 1024 ** 4],
  ['tib', 1024 ** 4],
  ['pi', 1024 ** 5],
  ['pib', 1024 ** 5],
]);

export const BYTES_PER_MIB = 1024 * 1024;

/** Parse a size into bytes. Throws YurtError('invalid_argument') on anything else. */
export function parseSize(s: string): number {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*$/.exec(s);
  const unit = m?.[2]?.toLowerCase() ?? '';
  const mult = MULTIPLIERS.get(unit);
  if (m === null || mult === undefined) {
    throw new YurtError(
      'invalid_argument',
      `invalid size ${JSON.stringify(s)}: expected a number with an optional unit such as "512MB" or "1GiB"`,
    );
  }
  const bytes = Math.round(Number(m[1]) * mult);
  if (!Number.isSafeInteger(bytes)) {
    throw new YurtError('invalid_argument', `invalid size ${JSON.stringify(s)}: too large`);
  }
  return bytes;
}

/**
 * Bytes to the "MB" of Nomad's API fields (MemoryMB, DiskMB, SizeMB). Those are mebibytes in
 * practice (drivers multiply them by 1024*1024), and the result is rounded up so that a
 * request written as "500MB" is never granted less than it asked for.
 */
export function bytesToMB(bytes: number): number {
  return Math.ceil(bytes / BYTES_PER_MIB);
}
