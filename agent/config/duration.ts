/**
 * Go duration strings ("10s", "1h30m", "500ms"), the form Nomad's agent config uses for every
 * time value, as milliseconds for Node's timers. The grammar lives in structs/duration.ts.
 */
import { parseDuration } from '../../structs/duration.js';

/** Milliseconds (possibly fractional), or undefined when `s` is not a Go duration. */
export function parseDurationMs(s: string): number | undefined {
  try {
    return parseDuration(s) / 1e6;
  } catch {
    return undefined;
  }
}
