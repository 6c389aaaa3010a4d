/**
 * Namespaces for exec tasks, made with util-linux `unshare` (no fork, it execs in place):
 *
 *   setsid unshare --pid --mount --uts --ipc -- sh(host shim) ─► sh(pid 1 shim) ─► stage (pid 3) ─exec─► task
 *
 * The stage is READY_STAGE, or the chroot builder (chroot.ts) when the task gets a chroot;
 * either reports "ready" on fd 3 and then execs the task, which keeps pid 3.
 *
 * Why two shims: the kernel delivers a signal to a PID namespace's init only if init has a
 * handler for it, so a task running as pid 1 would silently ignore SIGTERM (a plain
 * `sleep` could then only be SIGKILLed). The pid-1 shim mounts the namespace's /proc (the
 * mount is pid 2) and runs the task as an ordinary process, where signals behave as on
 * the host. Both shims trap the
 * catchable signals (a trapped signal is reset to default in the exec'd task) and merely
 * wait, so a signal to the task's process group reaches the task while the shims stay to
 * pass on its exit status; when pid 1 exits the kernel kills whatever is left inside.
 * `unshare --fork` is not used: its parent ignores SIGINT/SIGTERM but dies on SIGHUP or
 * SIGUSR1, which would end the task's supervision early.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

export type NamespaceMode = 'private' | 'host';

/** Signals the shims catch (all catchable ones except CHLD). */
const TRAPPED = 'HUP INT QUIT USR1 USR2 PIPE ALRM TERM TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS';

/** argv: pid-1 shim line. Runs it in the foreground, the first child in the new PID namespace. */
export const HOST_SHIM = `trap : ${TRAPPED}\n"$@"`;

/**
 * argv: mount program, then the stage that runs the task. Gives the namespace its own /proc
 * and runs the stage in the foreground (so the task is pid 3): either READY_STAGE or the
 * chroot builder (chroot.ts), both of which report "ready" on fd 3 and exec the task.
 */
export const INIT_SHIM = [
  `trap : ${TRAPPED}`,
  'm=$1; shift',
  '"$m" -t proc proc /proc || exit 125',
  '"$@"',
].join('\n');

/**
 * argv: the task. A fresh shell that reports "ready" on fd 3, closes it and execs the task.
 * It has default signal dispositions, so a stop that arrives between the report and the
 * exec ends it as it would end the task; a shim reporting for itself would swallow such a
 * signal in its trap.
 */
export const READY_STAGE = 'echo ready >&3; exec 3>&-; exec "$@"';

export interface NamespaceTools {
  shell: string;
  unshare: string;
  mount: string;
}

export interface NamespaceOptions {
  /** A mount namespace even with pid_mode "host" (the chroot needs one). */
  mountNs?: boolean;
  /** `line` reports "ready" on fd 3 itself (the chroot builder does, once the root is built). */
  lineReportsReady?: boolean;
}

/**
 * The program line (after setsid) that runs `line` (the task's program line) in the
 * requested namespaces; `reportsReady` when it reports "ready" on fd 3.
 */
export function namespacedArgv(
  tools: NamespaceTools,
  pid: NamespaceMode,
  ipc: NamespaceMode,
  line: string[],
  opts: NamespaceOptions = {},
): { argv: string[]; reportsReady: boolean } {
  const mountNs = pid === 'private' || opts.mountNs === true;
  const flags = [
    ...(ipc === 'private' ? ['--ipc'] : []),
    ...(pid === 'private' ? ['--pid'] : []),
    ...(mountNs ? ['--mount', '--uts', '--propagation', 'private'] : []),
  ];
  const selfReports = opts.lineReportsReady === true;
  if (flags.length === 0) return { argv: line, reportsReady: selfReports };
  if (pid !== 'private') return { argv: [tools.unshare, ...flags, '--', ...line], reportsReady: selfReports };
  const stage = selfReports ? line : [tools.shell, '-c', READY_STAGE, 'yurt-ready', ...line];
  const argv = [
    tools.unshare, ...flags, '--',
    tools.shell, '-c', HOST_SHIM, 'yurt-ns',
    tools.shell, '-c', INIT_SHIM, 'yurt-init', tools.mount,
    ...stage,
  ];
  return { argv, reportsReady: true };
}

/** Whether this host lets us create the namespaces (run once, ~10 ms). Null when it does; else why not. */
export function probeNamespaces(tools: NamespaceTools): Promise<string | null> {
  return runProbe(namespacedArgv(tools, 'private', 'private', [tools.shell, '-c', 'test "$$" = 3']).argv);
}

/** Run a probe line as a launch would (fd 3 a pipe); null when it exits 0, else what it said. */
export function runProbe(argv: string[]): Promise<string | null> {
  const [cmd, ...rest] = argv;
  return new Promise((resolve) => {
    if (cmd === undefined) {
      resolve('empty probe command');
      return;
    }
    const child = spawn(cmd, rest, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], timeout: 5000 });
    let said = '';
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (said += c));
    const report = child.stdio[3] as Readable | null | undefined;
    report?.setEncoding('utf8').on('data', (c: string) => (said += c.replace(/^ready\n/m, ''))).on('error', () => undefined);
    child.on('error', (e) => resolve(`cannot run ${cmd}: ${e.message}`));
    child.on('close', (code, signal) => {
      resolve(code === 0 ? null : `${cmd.split('/').pop() ?? cmd} failed (${signal ?? `exit ${code}`}): ${said.trim().replace(/^err /, '')}`);
    });
  });
}
