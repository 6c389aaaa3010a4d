/**
 * The yurt CLI as a user runs it on the host: `bin/yurt.js <command> -address=http://<ip>:4646`.
 * It runs from this checkout's TypeScript sources (YURT_FROM_SOURCE), so a stale dist/ can
 * never stand in for the code under test.
 */
import { fileURLToPath } from 'node:url';
import { run, type RunResult } from './process-run.js';

const YURT_BIN = fileURLToPath(new URL('../bin/yurt.js', import.meta.url));

export type CliResult = RunResult;

/** `command` is the command path ("job run", "alloc logs"); flags and arguments follow. */
export function yurtCli(address: string, command: string, args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<CliResult> {
  return run(process.execPath, [YURT_BIN, ...command.split(' '), `-address=${address}`, ...args], {
    timeoutMs: opts.timeoutMs ?? 60_000,
    env: { ...process.env, YURT_FROM_SOURCE: '1', NO_COLOR: '1' },
  });
}
