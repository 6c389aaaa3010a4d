/**
 * What a process driver stores in `TaskHandle.state`: enough to find a task again after an
 * agent restart and to tell it apart from an unrelated process that got the same pid.
 */
import { YurtError } from '../../structs/errors.js';

export interface ProcessTaskState {
  /** Bumped when the shape changes, so an old handle is refused instead of misread. */
  version: 1;
  /** Random per start; names the status file and the cgroup. */
  runId: string;
  supervisorPid: number;
  /** /proc/<pid>/stat starttime of the supervisor; 0 when it had already exited. */
  supervisorStart: number;
  /** The task's first process: leader of the task's session and process group. */
  pid: number;
  pidStart: number;
  /** File the supervisor writes the task's exit status to. */
  statusPath: string;
  /** Driver-specific isolation state (cgroup paths), absent for raw_exec. */
  isolation?: Record<string, unknown>;
}

export function encodeTaskState(s: ProcessTaskState): Record<string, unknown> {
  const out: Record<string, unknown> = {
    version: s.version,
    runId: s.runId,
    supervisorPid: s.supervisorPid,
    supervisorStart: s.supervisorStart,
    pid: s.pid,
    pidStart: s.pidStart,
    statusPath: s.statusPath,
  };
  if (s.isolation !== undefined) out['isolation'] = s.isolation;
  return out;
}

/** Read a persisted state back; throws a typed error naming the bad field. */
export function decodeTaskState(raw: Record<string, unknown>): ProcessTaskState {
  const bad = (field: string, why: string): never => {
    throw new YurtError('invalid_argument', `task handle state: ${field} ${why}`);
  };
  if (raw['version'] !== 1) bad('version', `is ${JSON.stringify(raw['version'])}, expected 1`);
  const int = (field: string): number => {
    const v = raw[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return bad(field, 'must be a non-negative integer');
    return v;
  };
  const str = (field: string): string => {
    const v = raw[field];
    if (typeof v !== 'string' || v === '') return bad(field, 'must be a non-empty string');
    return v;
  };
  const state: ProcessTaskState = {
    version: 1,
    runId: str('runId'),
    supervisorPid: int('supervisorPid'),
    supervisorStart: int('supervisorStart'),
    pid: int('pid'),
    pidStart: int('pidStart'),
    statusPath: str('statusPath'),
  };
  if (state.pid <= 1 || state.supervisorPid <= 1) bad('pid', 'must be a real process id (> 1)');
  const iso = raw['isolation'];
  if (iso !== undefined) {
    if (typeof iso !== 'object' || iso === null || Array.isArray(iso)) bad('isolation', 'must be an object');
    state.isolation = iso as Record<string, unknown>;
  }
  return state;
}
