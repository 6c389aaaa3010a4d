/**
 * Go-style durations. Nomad job files write durations the way Go's `time.ParseDuration`
 * reads them ("30s", "1h30m", "250ms") and its API carries them as integer nanoseconds, so
 * yurt parses and prints exactly that grammar: a job file that Nomad accepts parses here
 * to the same number, and `formatDuration` prints what Go's `Duration.String()` would.
 */
import { YurtError } from './errors.js';
import type { DurationNs } from './job.js';

const NS_PER_UNIT: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n], // MICRO SIGN, as Go accepts it
  ['\u03bcs', 1_000n], // GREEK SMALL LETTER MU, likewise
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

/** Go's time.Duration is an int64 of nanoseconds; anything larger is an overflow there too. */
const MAX_DURATION_NS = (1n << 63n) - 1n;

export const NS_PER_MS = 1_000_000;
export const NS_PER_SECOND = 1_000_000_000;
export const NS_PER_MINUTE = 60 * NS_PER_SECOND;
export const NS_PER_HOUR = 60 * NS_PER_MINUTE;

function invalid(s: string, why: string): YurtError {
  return new YurtError('invalid_argument', `invalid duration ${JSON.stringify(s)}: ${why}`);
}

/**
 * Parse "300ms", "-1.5h", "2h45m" into nanoseconds, following Go's grammar:
 * an optional sign, then one or more decimal numbers each followed by a unit
 * (ns, us/µs, ms, s, m, h). A bare "0" is the only number allowed without a unit.
 */
export function parseDuration(s: string): DurationNs {
  let i = 0;
  let negative = false;
  if (s[0] === '-' || s[0] === '+') {
    negative = s[0] === '-';
    i = 1;
  }
  const body = s.slice(i);
  if (body === '0') return 0;
  if (body === '') throw invalid(s, 'expected a number followed by a unit such as "30s" or "5m"');

  let total = 0n;
  while (i < s.length) {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s.slice(i));
    const intPart = m?.[1] ?? '';
    const fracPart = m?.[2] ?? '';
    if (intPart === '' && fracPart === '') {
      throw invalid(s, 'expected a number followed by a unit such as "30s" or "5m"');
    }
    i += m?.[0].length ?? 0;
    const unitMatch = /^[^\d.]+/.exec(s.slice(i));
    if (unitMatch === null) {
      throw invalid(s, 'missing unit (valid units: ns, us, ms, s, m, h)');
    }
    const unit = unitMatch[0];
    const scale = NS_PER_UNIT.get(unit);
    if (scale === undefined) {
      throw invalid(s, `unknown unit ${JSON.stringify(unit)} (valid units: ns, us, ms, s, m, h)`);
    }
    i += unit.length;
    // Exact integer arithmetic, as Go does: the fraction is scaled by the unit and truncated.
    let value = BigInt(intPart === '' ? '0' : intPart) * scale;
    if (fracPart !== '') {
      value += (BigInt(fracPart) * scale) / 10n ** BigInt(fracPart.length);
    }
    total += value;
    if (total > MAX_DURATION_NS) throw invalid(s, 'out of range (more than about 292 years)');
  }
  return Number(negative ? -total : total);
}

/** Format nanoseconds like Go's `Duration.String()`: "1h0m0s", "1m30s", "1.5s", "250ms", "0s". */
export function formatDuration(ns: DurationNs): string {
  let u = BigInt(Math.round(ns));
  const negative = u < 0n;
  if (negative) u = -u;
  const sign = negative ? '-' : '';
  if (u === 0n) return '0s';

  const second = 1_000_000_000n;
  if (u < second) {
    // Below one second Go switches to the largest unit that keeps the integer part non-zero.
    if (u < 1_000n) return `${sign}${u}ns`;
    if (u < 1_000_000n) return `${sign}${withFraction(u, 1_000n)}\u00b5s`;
    return `${sign}${withFraction(u, 1_000_000n)}ms`;
  }
  const hours = u / 3_600_000_000_000n;
  u -= hours * 3_600_000_000_000n;
  const minutes = u / 60_000_000_000n;
  u -= minutes * 60_000_000_000n;
  const seconds = withFraction(u, second);
  if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0n) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

/** `value / unit` as a decimal with trailing zeros of the fraction removed. */
function withFraction(value: bigint, unit: bigint): string {
  const whole = value / unit;
  const rest = value % unit;
  if (rest === 0n) return whole.toString();
  const digits = unit.toString().length - 1;
  const frac = rest.toString().padStart(digits, '0').replace(/0+$/, '');
  return `${whole}.${frac}`;
}
