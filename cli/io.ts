/**
 * Everything a command touches outside itself: output streams, stdin, environment, the
 * clock and Ctrl-C. Commands get it passed in, so tests run them in-process with captured
 * output and a fixed clock.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export interface CliIo {
  /** One line of normal output (a newline is added). */
  out: (text: string) => void;
  /** One line of error output (a newline is added). */
  err: (text: string) => void;
  /** Raw bytes to stdout (log streams), respecting backpressure. */
  writeRaw: (chunk: Uint8Array | string) => Promise<void>;
  /** All of stdin (`yurt job run -`). */
  readStdin: () => Promise<string>;
  /** One line from stdin for a confirmation prompt; null at end of input. */
  readLine: () => Promise<string | null>;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Wall-clock milliseconds, for timestamps and relative times. */
  now: () => number;
  /** Aborted on Ctrl-C: long-running commands stop their requests and exit. */
  signal: AbortSignal;
  /** stdin as a stream, for commands that forward it as it comes (`alloc exec`); absent where there is none. */
  stdinStream?: Readable;
  /** Whether stdin is a terminal (decides `alloc exec -t`'s default). */
  stdinIsTTY?: boolean;
  /** Raw bytes to stderr, respecting backpressure (`alloc exec`). */
  writeRawErr?: (chunk: Uint8Array | string) => Promise<void>;
  /** The terminal the CLI runs in, where stdout is one (`alloc exec -t`). */
  terminal?: CliTerminal;
}

export interface CliTerminal {
  size(): { rows: number; cols: number };
  /** Subscribes to window size changes; returns the unsubscribe. */
  onResize(listener: (rows: number, cols: number) => void): () => void;
  /** Sends keys on as typed (no line editing, no echo, Ctrl-C as a key); returns the undo. */
  raw(): () => void;
}

/** The process's terminal, when stdout is one. */
function processTerminal(): CliTerminal | undefined {
  const out = process.stdout;
  if (out.isTTY !== true) return undefined;
  return {
    size: () => ({ rows: out.rows, cols: out.columns }),
    onResize: (listener) => {
      const l = () => listener(out.rows, out.columns);
      out.on('resize', l);
      return () => out.off('resize', l);
    },
    raw: () => {
      const stdin = process.stdin;
      if (stdin.isTTY !== true) return () => undefined;
      stdin.setRawMode(true);
      return () => stdin.setRawMode(false);
    },
  };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
}

/** The real process: stdout/stderr, process.env, SIGINT aborts `signal`. */
export function processIo(): CliIo {
  const terminal = processTerminal();
  const ac = new AbortController();
  process.once('SIGINT', () => {
    ac.abort();
    // A second Ctrl-C leaves at once, as people expect from a stuck command.
    process.once('SIGINT', () => process.exit(130));
  });
  return {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
    writeRaw: (chunk) =>
      new Promise((resolve, reject) => {
        process.stdout.write(chunk, (e) => (e ? reject(e) : resolve()));
      }),
    writeRawErr: (chunk) =>
      new Promise((resolve, reject) => {
        process.stderr.write(chunk, (e) => (e ? reject(e) : resolve()));
      }),
    readStdin: () => readAll(process.stdin),
    stdinStream: process.stdin,
    stdinIsTTY: process.stdin.isTTY === true,
    ...(terminal !== undefined ? { terminal } : {}),
    readLine: () =>
      new Promise((resolve) => {
        const rl = createInterface({ input: process.stdin });
        let answered = false;
        rl.once('line', (line) => {
          answered = true;
          rl.close();
          resolve(line);
        });
        rl.once('close', () => {
          if (!answered) resolve(null);
        });
      }),
    env: process.env,
    cwd: process.cwd(),
    now: () => Date.now(),
    signal: ac.signal,
  };
}
