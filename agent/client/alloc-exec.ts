/**
 * `alloc exec` on the client: find the task the user named (or the only one) and let its
 * driver run the command in the task's environment, streaming stdio (Nomad's
 * `/v1/client/allocation/:id/exec`). The HTTP side (agent/http/routes-alloc-exec.ts) turns
 * the websocket frames into these streams.
 */
import type { Readable, Writable } from 'node:stream';
import type { ExecResult, ExecTty } from '../../drivers/driver.js';
import { YurtError } from '../../structs/errors.js';
import type { AllocRunner } from './alloc-runner.js';
import type { TaskRunner } from './task-runner.js';

export interface ExecStdio {
  /** null: the command gets no stdin (`-i=false`). */
  stdin: Readable | null;
  stdout: Writable;
  stderr: Writable;
  /** Aborted when the user goes away: the command is killed. */
  signal?: AbortSignal;
  /** Run on a terminal of the user's size (`alloc exec -t`); its output all comes as stdout. */
  tty?: ExecTty;
}

/** The task named, or the group's only task when none is named (as Nomad's CLI does). */
export function execTarget(runner: AllocRunner, allocId: string, task: string | undefined): TaskRunner {
  const tasks = runner.taskRunners();
  if (task === undefined || task === '') {
    const only = tasks.length === 1 ? tasks[0] : undefined;
    if (only === undefined) {
      throw new YurtError('invalid_argument', `allocation ${allocId} has ${tasks.length} tasks (${tasks.map((t) => t.name).join(', ')}): name one with -task`);
    }
    return only;
  }
  const found = tasks.find((t) => t.name === task);
  if (!found) throw new YurtError('not_found', `task "${task}" not found in allocation ${allocId}`);
  return found;
}

export function execInAlloc(runner: AllocRunner, allocId: string, task: string | undefined, command: string[], stdio: ExecStdio): Promise<ExecResult> {
  if (command.length === 0 || command[0] === '') throw new YurtError('invalid_argument', 'exec: command must not be empty');
  return execTarget(runner, allocId, task).exec({ command, ...stdio });
}

/** Throws (not found, not running, no exec in the driver) before any stream is opened. */
export function checkExecTarget(runner: AllocRunner, allocId: string, task: string | undefined): void {
  execTarget(runner, allocId, task).checkExec();
}
