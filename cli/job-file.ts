/**
 * Reading a job file for `job run` / `job validate`: from a path or stdin (`-`), HCL or
 * JSON decided by content (JSON starts with `{`), parsed locally by structs/jobspec so
 * errors point at the file, line and field before anything is sent.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { YurtError } from '../structs/errors.js';
import type { Job } from '../structs/job.js';
import { parseJobHCL, parseJobJSON } from '../structs/jobspec/index.js';
import type { VariableInputs } from '../structs/jobspec/index.js';
import type { CliIo } from './io.js';
import { parseVarFlags } from './var-flags.js';

export interface JobFileOptions {
  /** `-var key=value`, in order (later wins). */
  vars: readonly string[];
  /** `-var-file path`, in order. */
  varFiles: readonly string[];
}

export function looksLikeJson(text: string): boolean {
  return text.trimStart().startsWith('{');
}

/** JSON.parse with the error placed at file:line,col, as HCL errors are. */
export function parseJsonText(text: string, filename: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const msg = (err as Error).message;
    const m = /position (\d+)/.exec(msg);
    // Some V8 messages quote the text instead of giving a position; keep just the reason.
    if (m === null) throw new YurtError('parse_error', `${filename}: invalid JSON: ${msg.replace(/, ".*" is not valid JSON$/s, '')}`);
    const at = Number(m[1]);
    const before = text.slice(0, at).split('\n');
    const line = before.length;
    const col = (before[before.length - 1]?.length ?? 0) + 1;
    throw new YurtError('parse_error', `${filename}:${line},${col}: invalid JSON: ${msg.replace(/ in JSON at position \d+.*$/s, '')}`);
  }
}

async function readSource(io: CliIo, path: string): Promise<{ text: string; filename: string }> {
  if (path === '-') return { text: await io.readStdin(), filename: 'stdin' };
  try {
    return { text: await readFile(resolve(io.cwd, path), 'utf8'), filename: path };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new YurtError('not_found', `Error getting jobfile from "${path}": open ${path}: ${why}`, { cause: err });
  }
}

async function readVarFiles(io: CliIo, paths: readonly string[]): Promise<NonNullable<VariableInputs['varFiles']>> {
  const out: NonNullable<VariableInputs['varFiles']> = [];
  for (const p of paths) {
    try {
      out.push({ filename: p, content: await readFile(resolve(io.cwd, p), 'utf8') });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file or directory' : (err as Error).message;
      throw new YurtError('not_found', `Failed to read var file(s): open ${p}: ${why}`, { cause: err });
    }
  }
  return out;
}

/** The parsed job; any problem is a YurtError whose message says where. */
export async function loadJobFile(io: CliIo, path: string, opts: JobFileOptions): Promise<Job> {
  const vars = parseVarFlags(opts.vars);
  const { text, filename } = await readSource(io, path);
  const varFiles = await readVarFiles(io, opts.varFiles);
  try {
    if (looksLikeJson(text)) {
      if (opts.vars.length > 0 || opts.varFiles.length > 0) {
        throw new YurtError('invalid_argument', 'cannot use variables with JSON files.');
      }
      return parseJobJSON(parseJsonText(text, filename));
    }
    return await parseJobHCL(text, { filename, vars, varFiles, env: io.env });
  } catch (err) {
    const e = err instanceof YurtError ? err : new YurtError('parse_error', (err as Error).message, { cause: err });
    throw new YurtError(e.code, `Error parsing job file from ${path}:\n${e.message}`, { cause: e, ...(e.details ? { details: e.details } : {}) });
  }
}
