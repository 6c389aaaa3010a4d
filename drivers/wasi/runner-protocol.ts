/**
 * What the driver and a runner process (runner.ts) say to each other over the Node IPC
 * channel, and the exit record a runner leaves on disk.
 *
 *   driver ── prime {hash, path} ─► runner     compile this module now, while idle
 *   driver ── run {spec} ─────────► runner     run this task (once; the runner is the task)
 *   runner ── primed ─► driver                 (answer to prime)
 *   runner ── started | failed ─► driver       (answer to run)
 *
 * After `started` the runner no longer needs the driver: the exit record it writes to
 * `statusPath` is how any later agent (after a restart) learns how the module ended.
 */

export interface MemorySpec {
  /** Import the memory is passed as (module-memory.ts). */
  module: string;
  name: string;
  initialPages: number;
  maximumPages: number;
  /** The maximum comes from the task's memory limit (not from the module's own maximum). */
  limitedByTask: boolean;
}

export interface RunSpec {
  /** Content hash of the module; a runner primed with the same hash reuses its compiled module. */
  hash: string;
  /** Prepared module file. */
  path: string;
  /** argv as the module sees it, argv[0] first. */
  args: string[];
  env: Record<string, string>;
  /** Guest path → host directory. */
  preopens: Record<string, string>;
  stdoutPath: string;
  stderrPath: string;
  statusPath: string;
  memory: MemorySpec | null;
  /** A start function runs during instantiation, so it can only be run after `started`. */
  hasStartFunction: boolean;
}

export type ToRunner = { type: 'prime'; hash: string; path: string } | { type: 'run'; spec: RunSpec };

export type FromRunner =
  | { type: 'primed'; hash: string; error?: string }
  | {
      type: 'started';
      compiledBy: 'prime' | 'run';
      compileMs: number;
      /** The runner's pid and /proc start time: the task's identity for recovery. */
      pid: number;
      pidStart: number;
    }
  /** `module`: the module cannot run (a user error); `host`: this machine failed (log files, WASI setup). */
  | { type: 'failed'; message: string; fault: 'module' | 'host' };

export function isFromRunner(v: unknown): v is FromRunner {
  if (typeof v !== 'object' || v === null) return false;
  const t = (v as { type?: unknown }).type;
  return t === 'primed' || t === 'started' || t === 'failed';
}

/** How the module ended, as the runner records it. */
export interface RecordedExit {
  exitCode: number;
  /** The module failed while its memory was at the task's limit. */
  oomKilled: boolean;
  /** The trap message, when the module trapped instead of exiting. */
  trap?: string;
}

/**
 * Exit code of a trapped module: 134 (128 + SIGABRT), as wasmtime reports a trap on Unix,
 * because a trap is wasm's abort(): C's abort() and Rust's panic=abort compile to one.
 */
export const TRAP_EXIT_CODE = 134;

export function encodeRecordedExit(r: RecordedExit): string {
  return `${JSON.stringify(r)}\n`;
}

/** Parse a status file; null when it is missing or not a complete record. */
export function decodeRecordedExit(text: string): RecordedExit | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (typeof o['exitCode'] !== 'number' || !Number.isSafeInteger(o['exitCode']) || typeof o['oomKilled'] !== 'boolean') {
    return null;
  }
  const r: RecordedExit = { exitCode: o['exitCode'], oomKilled: o['oomKilled'] };
  if (typeof o['trap'] === 'string') r.trap = o['trap'];
  return r;
}
