/**
 * `alloc exec` for the process drivers: run one command next to a running task and stream
 * its stdio. The driver builds the program line (which namespaces, root and user); this
 * file spawns it, pipes the streams and reports the exit code, and reads who the task runs
 * as from /proc so the command gets the same identity.
 */
import { spawn } from 'node:child_process';
import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecOptions, ExecResult } from '../driver.js';
import { YurtError } from '../../structs/errors.js';
import type { TaskUser } from './task-user.js';
import { sessionMembers } from './proc-stat.js';
import { followTerminalSize, ttyLine } from './exec-tty.js';

/** What to spawn for one exec. */
export interface ExecLine {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** The line makes the terminal itself (a driver that must make it inside the task's namespaces). */
  makesTerminal?: boolean;
}

/**
 * Spawn the line, pipe stdio both ways, resolve with the exit code (128+n for a signal, as a
 * shell reports it). With `opts.tty` the line runs on a terminal of its own (exec-tty.ts).
 */
export async function runExecLine(plain: ExecLine, opts: ExecOptions): Promise<ExecResult> {
  const line = opts.tty === undefined || plain.makesTerminal === true ? plain : await ttyLine(plain);
  const [cmd, ...args] = line.argv;
  if (cmd === undefined) return Promise.reject(new YurtError('invalid_argument', 'exec: empty command'));
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: line.cwd,
      env: line.env,
      stdio: [opts.stdin === null ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...(opts.signal !== undefined ? { signal: opts.signal, killSignal: 'SIGKILL' as const } : {}),
    });
    if (opts.stdin !== null && child.stdin !== null) {
      // The command may exit before reading everything: a broken pipe there is not an error of ours.
      child.stdin.on('error', () => undefined);
      opts.stdin.pipe(child.stdin);
    }
    if (opts.tty !== undefined && child.pid !== undefined) followTerminalSize(child.pid, opts.tty);
    child.stdout?.pipe(opts.stdout, { end: false });
    child.stderr?.pipe(opts.stderr, { end: false });
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (e.name === 'AbortError') return;
      reject(new YurtError(e.code === 'ENOENT' ? 'not_found' : 'internal', `exec: cannot run ${cmd}: ${e.message}`));
    });
    // 'close' waits for the output pipes to drain, so nothing the command printed is lost.
    child.once('close', (code, signal) => {
      if (opts.stdin !== null && child.stdin !== null) opts.stdin.unpipe(child.stdin);
      if (code !== null) resolve({ exitCode: code });
      else resolve({ exitCode: 128 + signalNumber(signal) });
    });
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15, SIGPIPE: 13 };
  return signal === null ? 0 : (table[signal] ?? 0);
}

/** The real uid, gid and supplementary groups of a running process. */
export async function processUser(pid: number, procRoot = '/proc'): Promise<TaskUser> {
  const status = await readFile(join(procRoot, String(pid), 'status'), 'utf8').catch(() => null);
  if (status === null) throw new YurtError('conflict', `task process ${pid} is gone`);
  const field = (name: string): string[] => (new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '').trim().split(/\s+/).filter((x) => x !== '');
  const uid = Number(field('Uid')[0]);
  const gid = Number(field('Gid')[0]);
  const groups = field('Groups').map(Number);
  return { spec: String(uid), uid, gid, groups: groups.length > 0 ? groups : [gid] };
}

/**
 * The process that is the task itself. The exec driver launches a private-PID task as
 * `host shim ─► pid-1 shim ─► task (pid 3 in the namespace)` (exec/namespaces.ts), so with a
 * PID namespace of its own it is the grandchild whose namespace pid is 3; otherwise the
 * session leader is the task (everything in front of it exec'd in place).
 */
export async function findTaskProcess(leader: number, procRoot = '/proc'): Promise<number> {
  const ns = (pid: number, which: string) => readlink(join(procRoot, String(pid), 'ns', which)).catch(() => null);
  const [own, forChildren] = await Promise.all([ns(leader, 'pid'), ns(leader, 'pid_for_children')]);
  if (own === null) throw new YurtError('conflict', `task process ${leader} is gone`);
  if (forChildren === null || own === forChildren) return leader;
  for (const child of await childrenOf(leader, procRoot, leader)) {
    for (const grandchild of await childrenOf(child, procRoot, leader)) {
      const status = await readFile(join(procRoot, String(grandchild), 'status'), 'utf8').catch(() => '');
      const nspid = /^NSpid:\s*(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/).pop();
      if (nspid === '3') return grandchild;
    }
  }
  throw new YurtError('conflict', `cannot find the task process under ${leader} (has the task exited?)`);
}

async function childrenOf(pid: number, procRoot: string, sid: number): Promise<number[]> {
  return (await sessionMembers(sid, procRoot)).filter((p) => p.ppid === pid).map((p) => p.pid).sort((a, b) => a - b);
}
