/**
 * Launching a task under a supervisor that outlives the agent.
 *
 * The exit status of a process can only be collected by its parent. The agent may restart
 * while a task runs; after that it is no longer the parent of anything it started. So every
 * task runs under a tiny `/bin/sh` supervisor (about 1 MB, ~2.5 ms to launch) whose only job
 * is to wait for the task and write its status to a file:
 *
 *   agent ─spawn(detached)─► supervisor sh (own session, stdout/stderr = the task's files)
 *                              └─ join sh: writes $$ to each cgroup.procs file, then execs
 *                                 setsid ─► report sh: reports "pid N" on fd 3, closes it,
 *                                 then execs the program: the task, in a NEW session
 *
 * The pid is reported only once the new session exists, so a stop that follows start at
 * once still finds the task's process group.
 *
 * The task gets its own session and process group, separate from the supervisor's, so
 * signalling the task's group (stop, kill) never reaches the supervisor: it survives the
 * task's SIGKILL and records 137. The shell reports a death by signal N as 128+N, which is
 * also how Nomad reports it (ExitCode 128+N with Signal N); a program that itself exits
 * with 129..192 is therefore read as killed by a signal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import type { ExitResult } from '../driver.js';
import { YurtError } from '../../structs/errors.js';
import { killSession } from './signals.js';

/** argv: status-file, then the join script's argv. Records `$?` once the task is done. */
export const SUPERVISOR_SCRIPT = ['st=$1; shift', '"$@"', 'echo $? > "$st"'].join('\n');

/**
 * argv: N, N cgroup.procs files, then the program to exec. Joining happens before the exec,
 * so the task and everything it forks are accounted to the cgroups from their first
 * instruction on.
 */
export const JOIN_SCRIPT = [
  'n=$1; shift',
  'while [ "$n" -gt 0 ]; do',
  '  if ! echo $$ > "$1"; then echo "err cannot join cgroup $1" >&3; exit 125; fi',
  '  n=$((n-1)); shift',
  'done',
  'exec "$@"',
].join('\n');

/**
 * argv: "close" or "keep", then the program. Runs after setsid: reports the pid, hides fd 3
 * from the task unless a later stage reports "ready" on it, and execs.
 */
export const REPORT_SCRIPT = ['echo "pid $$" >&3', '[ "$1" = keep ] || exec 3>&-', 'shift', 'exec "$@"'].join('\n');

export interface LaunchSpec {
  /** Program line to exec in the task's new session (absolute paths). */
  argv: string[];
  /** Absolute path of util-linux/busybox `setsid`. */
  setsid: string;
  cwd: string;
  env: Record<string, string>;
  stdoutPath: string;
  stderrPath: string;
  statusPath: string;
  /** cgroup.procs files the task joins before it execs. */
  joinFiles: string[];
  /**
   * The program line writes "ready" on fd 3 (and closes it) once the task itself is about
   * to run; start waits for it, so signals sent after start reach the task, not a shim.
   */
  reportsReady?: boolean;
  shell?: string;
}

export interface Launched {
  child: ChildProcess;
  supervisorPid: number;
  /** The task's first process: leader of its own session and process group. */
  pid: number;
}

/** Start a task under a supervisor; resolves once the task's pid is known. */
export async function launchSupervised(spec: LaunchSpec): Promise<Launched> {
  const shell = spec.shell ?? '/bin/sh';
  await mkdir(dirname(spec.stdoutPath), { recursive: true });
  await mkdir(dirname(spec.stderrPath), { recursive: true });
  // The files are opened here and handed over as file descriptors: output goes straight
  // from the task to disk, never through the agent, and keeps flowing if the agent dies.
  const out = await open(spec.stdoutPath, 'a', 0o644);
  const err = await open(spec.stderrPath, 'a', 0o644);
  let child: ChildProcess;
  let report: Promise<number>;
  let exited: Promise<void>;
  const reported: { pid: number | null } = { pid: null };
  try {
    child = spawn(
      shell,
      [
        '-c', SUPERVISOR_SCRIPT, 'yurt-supervisor', spec.statusPath,
        shell, '-c', JOIN_SCRIPT, 'yurt-join', String(spec.joinFiles.length), ...spec.joinFiles,
        // The join sh is not a group leader, so setsid(1) calls setsid() in place, no fork.
        spec.setsid, shell, '-c', REPORT_SCRIPT, 'yurt-report', spec.reportsReady === true ? 'keep' : 'close',
        ...spec.argv,
      ],
      { cwd: spec.cwd, env: spec.env, detached: true, stdio: ['ignore', out.fd, err.fd, 'pipe'] },
    );
    // Listen before anything is awaited: when a child exits, Node drains (and discards) the
    // output of stdio pipes nobody reads yet, so a quick task's report would be lost.
    report = readReport(child, spec.reportsReady === true, reported);
    // It may fail while the files are being closed below; it is awaited right after.
    report.catch(() => undefined);
    const c = child;
    exited = new Promise<void>((res) => c.once('exit', () => res()));
  } finally {
    await out.close();
    await err.close();
  }
  try {
    const pid = await report;
    if (child.pid === undefined) throw new YurtError('internal', 'supervisor has no pid');
    return { child, supervisorPid: child.pid, pid };
  } catch (e) {
    // Nothing may outlive a failed launch: kill what already runs in the task's session,
    // then let the supervisor finish (it records the failure too) and remove its record.
    if (reported.pid !== null) await killSession(reported.pid);
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    }
    await unlink(spec.statusPath).catch(() => undefined);
    throw e;
  }
}

/** Reads "pid N" (and "ready" when asked for) from fd 3; `reported.pid` is set as soon as known. */
function readReport(child: ChildProcess, awaitReady: boolean, reported: { pid: number | null }): Promise<number> {
  const pipe = child.stdio[3] as Readable | null | undefined;
  return new Promise<number>((resolve, reject) => {
    let buf = '';
    let settled = false;
    const done = (err: Error | null, pid?: number): void => {
      if (settled) return;
      settled = true;
      pipe?.destroy();
      if (err !== null) reject(err);
      else resolve(pid ?? 0);
    };
    child.once('error', (e) => done(new YurtError('internal', `cannot start the task supervisor: ${e.message}`, { cause: e })));
    if (pipe == null) {
      done(new YurtError('internal', 'supervisor has no report pipe'));
      return;
    }
    pipe.setEncoding('utf8');
    let pid: number | null = null;
    pipe.on('data', (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^pid (\d+)$/.exec(line);
        if (m?.[1] !== undefined && pid === null) pid = reported.pid = Number(m[1]);
        else if (line === 'ready' && pid !== null) done(null, pid);
        else done(new YurtError('internal', `task launch failed: ${line.replace(/^err /, '')}`));
        if (pid !== null && !awaitReady) done(null, pid);
      }
    });
    pipe.on('error', () => undefined);
    // The pipe closes without a report when the join script died before it could write one.
    pipe.on('close', () => done(new YurtError('internal', 'task launch failed: the supervisor exited before the task started (see the task stderr)')));
  });
}

/** The recorded `$?`, or null while the supervisor has not written it (or never will). */
export async function readExitStatus(statusPath: string): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(statusPath, 'utf8');
  } catch {
    return null;
  }
  const t = text.trim();
  if (!/^\d{1,3}$/.test(t)) return null;
  const rc = Number(t);
  return rc <= 255 ? rc : null;
}

/** Highest signal number on Linux (SIGRTMAX). */
const MAX_SIGNAL = 64;

/** Map a shell exit status to the driver's result, Nomad style: killed by N ⇒ 128+N and N. */
export function exitResultFromStatus(rc: number, oomKilled = false): ExitResult {
  const signal = rc > 128 && rc <= 128 + MAX_SIGNAL ? rc - 128 : 0;
  return { exitCode: rc, signal, oomKilled };
}
