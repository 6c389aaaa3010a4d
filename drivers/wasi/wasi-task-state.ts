/**
 * What the wasi driver stores in `TaskHandle.state`: enough to find a task's runner process
 * again after an agent restart, to tell it apart from an unrelated process that got the
 * same pid, and to read how the module ended.
 */
import { YurtError } from '../../structs/errors.js';

export interface WasiTaskState {
  /** Bumped when the shape changes, so an old handle is refused instead of misread. */
  version: 1;
  runId: string;
  /** The runner process: the task. */
  pid: number;
  /** /proc/<pid>/stat starttime of the runner. */
  pidStart: number;
  /** Where the runner writes the exit record (runner-protocol.ts). */
  statusPath: string;
  /** SHA-256 of the module bytes. */
  moduleHash: string;
}

export function encodeWasiTaskState(s: WasiTaskState): Record<string, unknown> {
  return { ...s };
}

/** Read a persisted state back; throws a typed error naming the bad field. */
export function decodeWasiTaskState(raw: Record<string, unknown>): WasiTaskState {
  const bad = (field: string, why: string): never => {
    throw new YurtError('invalid_argument', `wasi task handle state: ${field} ${why}`);
  };
  if (raw['version'] !== 1) bad('version', `is ${JSON.stringify(raw['version'])}, expected 1`);
  const int = (field: string, min: number): number => {
    const v = raw[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) return bad(field, `must be an integer >= ${min}`);
    return v;
  };
  const str = (field: string): string => {
    const v = raw[field];
    if (typeof v !== 'string' || v === '') return bad(field, 'must be a non-empty string');
    return v;
  };
  return {
    version: 1,
    runId: str('runId'),
    pid: int('pid', 2),
    pidStart: int('pidStart', 1),
    statusPath: str('statusPath'),
    moduleHash: str('moduleHash'),
  };
}
