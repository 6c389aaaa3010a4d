/**
 * Namespaces for exec tasks, made with util-linux `unshare` (no fork, it execs in place):
 *
 *   setsid unshare --pid --mount --uts --ipc -- sh(host shim) ─► sh(pid 1 shim) ─► task (pid 3)
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

export type NamespaceMode = 'private' | 'host';

/** Signals the shims catch (all catchable ones except CHLD). */
const TRAPPED = 'HUP INT QUIT USR1 USR2 PIPE ALRM TERM TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS';

/** argv: pid-1 shim line. Runs it in the foreground, the first child in the new PID namespace. */
export const HOST_SHIM = `trap : ${TRAPPED}\n"$@"`;

/**
 * argv: mount program, shell, then the task. Gives the namespace its own /proc and runs the
 * task (pid 3) through a fresh shell that reports "ready" on fd 3, closes it and execs the
 * task. That shell has default signal dispositions, so a stop that arrives between the
 * report and the exec ends it as it would end the task; a shim reporting for itself would
 * swallow such a signal in its trap.
 */
export const INIT_SHIM = [
  `trap : ${TRAPPED}`,
  'm=$1; s=$2; shift 2',
  '"$m" -t proc proc /proc || exit 125',
  `"$s" -c 'echo ready >&3; exec 3>&-; exec "$@"' yurt-ready "$@"`,
].join('\n');

export interface NamespaceTools {
  shell: string;
  unshare: string;
  mount: string;
}

/**
 * The program line (after setsid) that runs `program args` in the requested namespaces;
 * `reportsReady` when it includes the init shim, which reports "ready" on fd 3.
 */
export function namespacedArgv(
  tools: NamespaceTools,
  pid: NamespaceMode,
  ipc: NamespaceMode,
  program: string,
  args: string[],
): { argv: string[]; reportsReady: boolean } {
  const flags = [...(ipc === 'private' ? ['--ipc'] : []), ...(pid === 'private' ? ['--pid', '--mount', '--uts', '--propagation', 'private'] : [])];
  if (flags.length === 0) return { argv: [program, ...args], reportsReady: false };
  if (pid !== 'private') return { argv: [tools.unshare, ...flags, '--', program, ...args], reportsReady: false };
  const argv = [
    tools.unshare, ...flags, '--',
    tools.shell, '-c', HOST_SHIM, 'yurt-ns',
    tools.shell, '-c', INIT_SHIM, 'yurt-init', tools.mount, tools.shell,
    program, ...args,
  ];
  return { argv, reportsReady: true };
}

/** Whether this host lets us create the namespaces (run once, ~10 ms). Null when it does; else why not. */
export function probeNamespaces(tools: NamespaceTools): Promise<string | null> {
  const { argv } = namespacedArgv(tools, 'private', 'private', tools.shell, ['-c', 'test "$$" = 3']);
  const [cmd, ...rest] = argv;
  return new Promise((resolve) => {
    // fd 3 is a pipe, as in a real launch: the init shim reports "ready" on it.
    const child = spawn(cmd ?? tools.unshare, rest, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], timeout: 5000 });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdio[3]?.on('data', () => undefined).on('error', () => undefined);
    child.on('error', (e) => resolve(`cannot run unshare: ${e.message}`));
    child.on('close', (code, signal) => {
      resolve(code === 0 ? null : `unshare failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`);
    });
  });
}
