/**
 * Building a TaskStatus from a driver's record of a task: shared by every driver's `inspect`.
 */
import type { ExitResult, TaskStatus } from './driver.js';

export function taskStatus(t: { taskId: string; startedAt: number; result: ExitResult | null }, state: object): TaskStatus {
  const details: TaskStatus['details'] = {};
  // Only scalar facts are shown: paths, ids, pids, versions.
  for (const [k, v] of Object.entries(state)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') details[k] = v;
  }
  return { taskId: t.taskId, state: t.result ? 'exited' : 'running', startedAt: t.startedAt, exit: t.result, details };
}
