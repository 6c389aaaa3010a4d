/**
 * The monitor's two kinds of line, as Nomad prints them: headline events as
 * "==> <time>: ..." and details as "    <time>: ..."; reason lines under a failed task group
 * go out without a timestamp, indented under it.
 */
import { formatTime } from '../format/time.js';

export interface MonitorUi {
  info(msg: string): void;
  output(msg: string): void;
  /** A line printed as-is under the last output line (placement failure reasons). */
  detail(msg: string): void;
  /** A failure, on stderr, shaped like an info line. */
  error(msg: string): void;
}

export function monitorUi(out: (line: string) => void, err: (line: string) => void, now: () => number): MonitorUi {
  return {
    info: (msg) => out(`==> ${formatTime(now())}: ${msg}`),
    output: (msg) => out(`    ${formatTime(now())}: ${msg}`),
    detail: (msg) => out(msg === '' ? '' : `    ${msg}`),
    error: (msg) => err(`==> ${formatTime(now())}: ${msg}`),
  };
}
