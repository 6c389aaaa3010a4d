/**
 * A stopped container's exit as an ExitResult. The engine reports only an exit code: a
 * process killed by signal N shows as 128+N (the runtime's convention, as the shell's), but
 * so does a program that merely exits with that number. So the signal is reported only
 * where the driver knows one was delivered: it sent that very signal (stop, kill, signal()),
 * or the kernel's OOM killer (SIGKILL) ended the task.
 */
import { constants } from 'node:os';
import type { ExitResult } from '../driver.js';

export interface ContainerExitState {
  ExitCode: number;
  OOMKilled: boolean;
  /** The engine's own error, e.g. when the runtime could not start the process. */
  Error?: string;
}

const SIGNAL_EXIT_BASE = 128;

export function exitResult(state: ContainerExitState, signalsSent: ReadonlySet<number>): ExitResult {
  const code = state.ExitCode;
  const byNumber = code - SIGNAL_EXIT_BASE;
  let signal = 0;
  if (byNumber > 0 && (signalsSent.has(byNumber) || (state.OOMKilled && byNumber === constants.signals.SIGKILL))) {
    signal = byNumber;
  }
  const r: ExitResult = { exitCode: code, signal, oomKilled: state.OOMKilled };
  if (state.Error !== undefined && state.Error !== '') r.err = state.Error;
  return r;
}
