/**
 * `alloc logs -tail -n N`: the server serves bytes counted from the end, so the CLI asks
 * for more than N lines' worth and keeps the last N lines of what arrives (as Nomad's
 * LineLimitReader does).
 */

const NEWLINE = 0x0a;
/** Bytes asked for per wanted line; generous, since the cut is by lines afterwards. */
export const BYTES_PER_LINE = 1024;
export const DEFAULT_TAIL_LINES = 10;

/** The last `n` lines of `buf` (a final newline does not start an empty line). */
export function lastLines(buf: Uint8Array, n: number): Uint8Array {
  if (n <= 0) return buf.subarray(buf.length);
  let end = buf.length;
  if (end > 0 && buf[end - 1] === NEWLINE) end--;
  let found = 0;
  for (let i = end - 1; i >= 0; i--) {
    if (buf[i] === NEWLINE) {
      found++;
      if (found === n) return buf.subarray(i + 1);
    }
  }
  return buf;
}

export function concatChunks(chunks: readonly Uint8Array[]): Uint8Array {
  const total = chunks.reduce((s, c) => s + c.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
