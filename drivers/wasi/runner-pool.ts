/**
 * Runner processes kept warm, so that starting a task does not pay for starting Node.
 *
 * A runner (runner.ts) is a Node process that runs exactly one task and then exits. Starting
 * one costs about 60 ms here (180 ms from the TypeScript sources through tsx); handing a task
 * to one that is already up costs about a millisecond. So the pool keeps `size` idle
 * runners, refilled in the background after every start.
 *
 * Idle runners are also the compiled-module cache: each is told to compile ("prime") one of
 * the modules started most recently, so the next start of that module finds it compiled
 * (WebAssembly.Module objects cannot cross processes, and Node 20 has no API to serialize
 * V8's compiled wasm code, so a warm process holding the module is what can be reused).
 *
 * Idle runners do not keep the agent alive (their handles are unref'd) and exit on their own
 * when the agent goes away (their IPC channel closes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { YurtError } from '../../structs/errors.js';
import { isFromRunner, type FromRunner, type ToRunner } from './runner-protocol.js';

/** How to start a runner process. */
export interface RunnerCommand {
  execPath: string;
  /** Node flags and the runner script. */
  args: string[];
  /** The runner script, for the fingerprint's health check. */
  script: string;
  /** Why runners cannot be launched this way, if they cannot (reported by the fingerprint). */
  problem?: string;
}

/**
 * The runner next to this file: runner.js in the compiled build, runner.ts through tsx when
 * the agent runs from the TypeScript sources.
 */
export function defaultRunnerCommand(): RunnerCommand {
  const here = fileURLToPath(import.meta.url);
  // --no-warnings: node:wasi prints an ExperimentalWarning on load, which would otherwise
  // land in the runner log on every start.
  const flags = ['--no-warnings'];
  if (here.endsWith('.ts')) {
    const script = join(dirname(here), 'runner.ts');
    let tsx: string;
    try {
      tsx = import.meta.resolve('tsx');
    } catch {
      return { execPath: process.execPath, args: [], script, problem: 'running from the TypeScript sources needs tsx, which is not installed' };
    }
    return { execPath: process.execPath, args: ['--import', tsx, ...flags, script], script };
  }
  const script = join(dirname(here), 'runner.js');
  return { execPath: process.execPath, args: [...flags, script], script };
}

export interface RunnerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One runner process and its IPC channel, seen from the driver. */
export class Runner {
  readonly child: ChildProcess;
  /** Content hash of the module this runner was told to compile while idle. */
  primedHash: string | null = null;
  exit: RunnerExit | null = null;
  /** Why the process cannot be used (it could not be spawned, or its channel failed). */
  failure: Error | null = null;
  private readonly exited: Promise<RunnerExit>;
  private replyWaiter: ((m: FromRunner) => void) | null = null;

  constructor(command: RunnerCommand, logPath: string) {
    let logFd: number | 'ignore' = 'ignore';
    try {
      logFd = openSync(logPath, 'a', 0o600);
    } catch {
      // Without a log file the runner's own crash messages are lost, nothing else.
    }
    try {
      this.child = spawn(command.execPath, command.args, {
        // Its own session: the agent's process group (a terminal's ^C, a service manager
        // stopping the agent) does not reach running tasks, as with the other drivers.
        detached: true,
        cwd: '/',
        env: {},
        stdio: ['ignore', 'ignore', logFd, 'ipc'],
        serialization: 'json',
      });
    } finally {
      if (typeof logFd === 'number') closeSync(logFd);
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      this.child.once('error', (e) => {
        this.failure ??= e;
        // A process that could not be spawned emits no 'exit'.
        if (this.child.pid === undefined) {
          this.exit = { code: null, signal: null };
          resolve(this.exit);
        }
      });
    });
    this.child.on('message', (m: unknown) => {
      if (!isFromRunner(m) || m.type === 'primed') return;
      const w = this.replyWaiter;
      this.replyWaiter = null;
      w?.(m);
    });
    this.setHeld(false);
  }

  get alive(): boolean {
    return this.exit === null && this.failure === null;
  }

  /** Whether this process keeps the agent's event loop alive (only while it has a task). */
  setHeld(held: boolean): void {
    if (held) {
      this.child.ref();
      this.child.channel?.ref();
    } else {
      this.child.unref();
      this.child.channel?.unref();
    }
  }

  send(msg: ToRunner): void {
    if (!this.alive || !this.child.connected) return;
    this.child.send(msg, (e) => {
      if (e !== null && this.failure === null) this.failure = e;
    });
  }

  /** Ask the runner to compile `hash` (at `path`) while it waits for a task. */
  prime(hash: string, path: string): void {
    this.primedHash = hash;
    this.send({ type: 'prime', hash, path });
  }

  /** Resolves with the runner's answer to `run`; rejects if it exits or stays silent for `timeoutMs`. */
  async reply(timeoutMs: number): Promise<FromRunner> {
    if (this.failure !== null) throw this.startError(this.failure.message);
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        new Promise<FromRunner>((resolve) => (this.replyWaiter = resolve)),
        this.exited.then((x) => {
          throw this.startError(
            this.failure?.message ??
              `it exited (${x.signal !== null ? `signal ${x.signal}` : `code ${x.code}`}) before the module started`,
          );
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(this.startError(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.replyWaiter = null;
    }
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }

  private startError(why: string): YurtError {
    return new YurtError('unavailable', `wasi: the runner process could not start the task: ${why}`);
  }
}

export interface RunnerPoolOptions {
  /** Idle runners kept ready. 0: every start launches a fresh process. */
  size: number;
  command: RunnerCommand;
  /** File the runners' own stderr goes to (Node's fatal errors; tasks log elsewhere). */
  logPath: string;
  /** The prepared module file for a content hash, if still cached. */
  modulePath: (hash: string) => string | undefined;
}

export class RunnerPool {
  private idle: Runner[] = [];
  /** Content hashes of started modules, most recent first. */
  private recent: string[] = [];
  private closed = false;

  constructor(private readonly opts: RunnerPoolOptions) {}

  get idleCount(): number {
    return this.idle.length;
  }

  /**
   * A runner for a task running module `hash`: one primed with it if there is one, then
   * one primed with nothing, then any idle one, then a new process. The caller owns it, and
   * calls `fill` once its start is done: spawning a process blocks this thread for
   * milliseconds, which should not fall inside the wait for the runner's answer.
   */
  take(hash: string): Runner {
    this.idle = this.idle.filter((r) => r.alive);
    let i = this.idle.findIndex((r) => r.primedHash === hash);
    if (i < 0) i = this.idle.findIndex((r) => r.primedHash === null);
    if (i < 0 && this.idle.length > 0) {
      // The runner primed with the module used longest ago.
      const age = (r: Runner) => {
        const k = this.recent.indexOf(r.primedHash ?? '');
        return k < 0 ? Infinity : k;
      };
      i = this.idle.reduce((best, r, k) => (age(r) > age(this.idle[best] as Runner) ? k : best), 0);
    }
    const runner = i >= 0 ? (this.idle.splice(i, 1)[0] as Runner) : this.launch();
    runner.setHeld(true);
    this.recent = [hash, ...this.recent.filter((h) => h !== hash)].slice(0, Math.max(1, this.opts.size) * 4);
    return runner;
  }

  /** Start idle runners up to the pool size and prime them with recent modules. */
  fill(): void {
    if (this.closed) return;
    this.idle = this.idle.filter((r) => r.alive);
    while (this.idle.length < this.opts.size) this.idle.push(this.launch());
    const targets = this.recent.slice(0, this.opts.size);
    for (const hash of targets) {
      if (this.idle.some((r) => r.primedHash === hash)) continue;
      const path = this.opts.modulePath(hash);
      if (path === undefined) continue;
      const spare = this.idle.find((r) => r.primedHash === null || !targets.includes(r.primedHash));
      if (spare === undefined) break;
      spare.prime(hash, path);
    }
  }

  /** End the idle runners (running tasks are not touched). */
  close(): void {
    this.closed = true;
    for (const r of this.idle) r.kill();
    this.idle = [];
  }

  private launch(): Runner {
    const r = new Runner(this.opts.command, this.opts.logPath);
    r.child.once('exit', () => {
      this.idle = this.idle.filter((x) => x !== r);
    });
    return r;
  }
}
