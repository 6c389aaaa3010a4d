/**
 * Running a host command (docker, the yurt CLI) and capturing what it printed. Every call has
 * a timeout: a hung `docker exec` or CLI must fail its scenario, not stall the suite.
 */
import { spawn } from 'node:child_process';

export interface RunResult {
  command: string;
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  timeoutMs?: number;
  /** Written to the child's stdin, then stdin is closed. */
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const command = [cmd, ...args].map(quoteArg).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        command,
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
    child.stdin.on('error', () => undefined); // a child that exits without reading stdin
    child.stdin.end(opts.input ?? '');
  });
}

/** Like run, but a non-zero exit is an error carrying the command and its output. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new CommandFailed(r);
  return r;
}

export class CommandFailed extends Error {
  constructor(readonly result: RunResult) {
    super(
      `${result.command} ${result.timedOut ? 'timed out' : `exited ${result.code}`}` +
        `${result.stdout.trim() ? `\nstdout: ${tail(result.stdout, 1500)}` : ''}` +
        `${result.stderr.trim() ? `\nstderr: ${tail(result.stderr, 1500)}` : ''}`,
    );
  }
}

export function tail(s: string, max: number): string {
  const t = s.trim();
  return t.length <= max ? t : `…${t.slice(t.length - max)}`;
}

function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}
