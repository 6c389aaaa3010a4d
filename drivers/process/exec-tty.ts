/**
 * `alloc exec -t` for the process drivers. Node cannot open a pseudo-terminal by itself, so
 * the command line runs under util-linux's `script`, which makes one and copies between it
 * and our pipes; the whole line (cgroup join, namespaces, chroot) runs on that terminal, so
 * the task-side command needs nothing of its own. The terminal's size is set from outside
 * with `stty -F` on its device once the line has started (the kernel then signals SIGWINCH to
 * whatever runs in the foreground there, as a resized terminal window does), and again on
 * every resize the user's terminal makes.
 */
import { execFile } from 'node:child_process';
import { access, readFile, readlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { ExecTty } from '../driver.js';
import { YurtError } from '../../structs/errors.js';
import type { ExecLine } from './process-exec.js';

const execFileP = promisify(execFile);

/** Where util-linux's `script` lives (bsdutils on Debian and Ubuntu, util-linux elsewhere). */
const SCRIPT_PATHS = ['/usr/bin/script', '/bin/script'];
const STTY_PATHS = ['/usr/bin/stty', '/bin/stty'];

async function firstExisting(paths: readonly string[], what: string): Promise<string> {
  for (const p of paths) if (await access(p).then(() => true, () => false)) return p;
  throw new YurtError('unavailable', `terminal sessions (alloc exec -t) need ${what} on the client host; run with -t=false`);
}

/** POSIX shell quoting of one word. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_\/.,:=+@%-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The line, run on a new terminal. `script -c` hands its string to $SHELL: it gets /bin/sh,
 * and the command gets the SHELL it would have had back.
 */
export async function ttyLine(line: ExecLine): Promise<ExecLine> {
  const script = await firstExisting(SCRIPT_PATHS, "util-linux's script");
  const shell = line.env['SHELL'];
  const restore = shell === undefined ? 'unset SHELL; ' : `SHELL=${shellQuote(shell)}; export SHELL; `;
  const command = `${restore}exec ${line.argv.map(shellQuote).join(' ')}`;
  return { ...line, argv: [script, '--quiet', '--return', '--flush', '--command', command, '/dev/null'], env: { ...line.env, SHELL: '/bin/sh' } };
}

/**
 * The terminal the line runs on, once it has one: the stdin of the first process below `pid`
 * that is a terminal (script's child; with the exec driver, script itself runs a few
 * processes down, inside the task's namespaces).
 */
async function terminalOf(pid: number, procRoot: string): Promise<string | null> {
  let level = [String(pid)];
  for (let depth = 0; depth < 5 && level.length > 0; depth++) {
    const next: string[] = [];
    for (const p of level) {
      const dev = await readlink(`${procRoot}/${p}/fd/0`).catch(() => null);
      if (dev !== null && dev.startsWith('/dev/pts/')) return dev;
      const children = await readFile(`${procRoot}/${p}/task/${p}/children`, 'utf8').catch(() => '');
      next.push(...children.trim().split(/\s+/).filter((c) => c !== ''));
    }
    level = next;
  }
  return null;
}

/**
 * Keeps the terminal of the `script` process `pid` at the user's size: now (waiting up to a
 * second for the terminal to exist) and after every resize. Failures only cost the size.
 */
export function followTerminalSize(pid: number, tty: ExecTty, procRoot = '/proc'): void {
  let dev: string | null = null;
  const apply = async (rows: number, cols: number): Promise<void> => {
    if (dev === null) {
      for (let i = 0; i < 100 && dev === null; i++) {
        dev = await terminalOf(pid, procRoot);
        if (dev === null) await new Promise((r) => setTimeout(r, 10));
      }
      if (dev === null) return;
    }
    const stty = await firstExisting(STTY_PATHS, 'stty');
    await execFileP(stty, ['-F', dev, 'rows', String(rows), 'cols', String(cols)]);
  };
  let chain = apply(tty.rows, tty.cols).catch(() => undefined);
  tty.onResize((rows, cols) => {
    chain = chain.then(() => apply(rows, cols)).catch(() => undefined);
  });
}
