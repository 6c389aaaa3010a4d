/** A CliIo that records output, for running commands in-process in tests. */
import type { CliIo } from '../io.js';

export interface CapturedIo extends CliIo {
  stdout: () => string;
  stderr: () => string;
  abort: () => void;
}

export interface CaptureOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  nowMs?: number;
  stdin?: string;
  lines?: string[];
}

export function captureIo(opts: CaptureOptions = {}): CapturedIo {
  let out = '';
  let err = '';
  const ac = new AbortController();
  const lines = [...(opts.lines ?? [])];
  const decoder = new TextDecoder();
  return {
    out: (t) => {
      out += `${t}\n`;
    },
    err: (t) => {
      err += `${t}\n`;
    },
    writeRaw: async (chunk) => {
      out += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    },
    readStdin: async () => opts.stdin ?? '',
    readLine: async () => lines.shift() ?? null,
    env: opts.env ?? {},
    cwd: opts.cwd ?? process.cwd(),
    now: () => opts.nowMs ?? Date.parse('2026-11-22T10:00:00Z'),
    signal: ac.signal,
    stdout: () => out,
    stderr: () => err,
    abort: () => ac.abort(),
  };
}
