/**
 * Time as Nomad's CLI prints it: ISO-8601 seconds in UTC for timestamps
 * ("2026-11-22T10:00:00Z"), and "1m2s ago" for relative times in tables.
 */

/** `2026-11-22T10:00:00Z`; "" for the epoch or earlier (Nomad shows nothing for zero times). */
export function formatTime(ms: number): string {
  if (!Number.isFinite(ms) || ms < 1000) return '';
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Unix nanoseconds (the API's timestamps) to milliseconds. */
export function nsToMs(ns: number): number {
  return Math.floor(ns / 1e6);
}

export function formatUnixNano(ns: number): string {
  return formatTime(nsToMs(ns));
}

/** Task state times come as ISO strings, with Go's zero time or null for "not yet". */
export function formatTaskTime(iso: string | null | undefined): string {
  if (iso === null || iso === undefined || iso === '' || iso.startsWith('0001-01-01')) return 'N/A';
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? 'N/A' : formatTime(ms) || 'N/A';
}

/**
 * Nomad's prettyTimeDiff: the difference rounded to seconds, in units s, m, h, d (30-day
 * months), mo, y, keeping the two largest non-zero units: "1m2s ago", "10mo12d ago",
 * "3s from now". A zero time gives "".
 */
export function prettyTimeDiff(firstMs: number, nowMs: number): string {
  if (!Number.isFinite(firstMs) || firstMs === 0) return '';
  const first = Math.round(firstMs / 1000);
  const second = Math.round(nowMs / 1000);
  const suffix = second >= first ? 'ago' : 'from now';
  let u = Math.abs(second - first);
  const parts: string[] = [];
  const secs = u % 60;
  if (secs > 0) parts.push(`${secs}s`);
  u = Math.floor(u / 60);
  const units: Array<[number, string]> = [
    [60, 'm'],
    [24, 'h'],
    [30, 'd'],
    [12, 'mo'],
  ];
  for (const [base, unit] of units) {
    if (u === 0) break;
    const v = u % base;
    if (v > 0) parts.push(`${v}${unit}`);
    u = Math.floor(u / base);
  }
  if (u > 0) parts.push(`${u}y`);
  if (parts.length === 0) return `0s ${suffix}`;
  return `${parts.slice(-2).reverse().join('')} ${suffix}`;
}

/** Go's time.Duration.String(), for durations the API gives in nanoseconds. */
export function formatDurationNs(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let n = Math.abs(ns);
  let out: string;
  if (n < 1e3) out = `${n}ns`;
  else if (n < 1e6) out = `${trimFloat(n / 1e3)}µs`;
  else if (n < 1e9) out = `${trimFloat(n / 1e6)}ms`;
  else {
    const h = Math.floor(n / 3.6e12);
    n -= h * 3.6e12;
    const m = Math.floor(n / 6e10);
    n -= m * 6e10;
    const s = trimFloat(n / 1e9);
    out = h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
  }
  return neg ? `-${out}` : out;
}

function trimFloat(v: number): string {
  return String(Number(v.toFixed(9)));
}
