/**
 * Loading agent config files, as Nomad's LoadConfig does: each path is a file (HCL, or JSON
 * when it ends in .json) or a directory, whose *.hcl and *.json files load in name order
 * (editor temp files and subdirectories skipped). Later files merge over earlier ones (see
 * config-merge.ts). Syntax errors stop at the first file that has one; every other problem
 * in every file is reported together in one ValidationError.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { FieldError } from '../../structs/errors.js';
import { ValidationError, YurtError } from '../../structs/errors.js';
import type { PartialAgentConfig } from './agent-config.js';
import { DecodeContext, decodeAgentConfig } from './config-decoder.js';
import { mergeConfigAt } from './config-merge.js';
import type { PositionIndex } from './source-positions.js';
import { indexHclPositions, indexJsonPositions, positionOfOffset } from './source-positions.js';

/**
 * @cdktn/hcl2json (Go's HCL parser as wasm), loaded without its type declarations: they carry
 * `/// <reference lib="dom" />`, which would swap DOM types into the whole program (DOM's
 * ReadableStream, for one, is not async-iterable the way Node's is).
 */
const hcl2json = createRequire(import.meta.url)('@cdktn/hcl2json') as {
  parse(filename: string, contents: string): Promise<unknown>;
};

export async function loadConfigFiles(paths: readonly string[]): Promise<PartialAgentConfig> {
  const errors: FieldError[] = [];
  let merged: PartialAgentConfig = {};
  for (const file of await expandConfigPaths(paths)) {
    const text = await readText(file);
    const { value, positions } = file.endsWith('.json') ? parseJsonFile(file, text) : await parseHclFile(file, text);
    const ctx = new DecodeContext(file, positions);
    const partial = decodeAgentConfig(ctx, value);
    errors.push(...ctx.errors);
    merged = mergeConfigAt(merged, { ...partial, files: [file] });
  }
  if (errors.length > 0) throw new ValidationError('agent config', errors);
  return merged;
}

/** The files the given paths name, directories expanded, in load order. */
export async function expandConfigPaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = (await stat(p)).isDirectory();
    } catch (e) {
      throw new YurtError('invalid_argument', `cannot load config "${p}": ${describeFsError(e)}`, { cause: e });
    }
    if (!isDir) {
      files.push(p);
      continue;
    }
    const entries = await readdir(p, { withFileTypes: true });
    const names = entries
      .filter((e) => !e.isDirectory() && (e.name.endsWith('.hcl') || e.name.endsWith('.json')) && !isTemporaryFile(e.name))
      .map((e) => e.name)
      // Byte order, like Go's sort.Strings, so "10-x" sorts before "9-x" as it does for Nomad.
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    files.push(...names.map((n) => join(p, n)));
  }
  return files;
}

/** Editor leftovers Nomad's loader skips: `x~`, `.#x`, `#x#`. */
function isTemporaryFile(name: string): boolean {
  return name.endsWith('~') || name.startsWith('.#') || (name.startsWith('#') && name.endsWith('#'));
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new YurtError('invalid_argument', `cannot read config file "${file}": ${describeFsError(e)}`, { cause: e });
  }
}

interface ParsedFile {
  value: unknown;
  positions: PositionIndex;
}

async function parseHclFile(file: string, text: string): Promise<ParsedFile> {
  let value: unknown;
  try {
    value = await hcl2json.parse(file, text);
  } catch (e) {
    throw hclSyntaxError(file, e);
  }
  return { value, positions: indexHclPositions(text) };
}

/**
 * hcl2json reports `parse config: [FILE:L,C-L,C: Summary; Detail. FILE:...]`; the user gets
 * HCL's own diagnostics without the wrapper, and the first position in `details`.
 */
function hclSyntaxError(file: string, e: unknown): YurtError {
  const raw = e instanceof Error ? e.message : String(e);
  const message = raw.replace(/^parse config: \[/, '').replace(/\]$/, '');
  const at = message.startsWith(`${file}:`) ? /^(\d+),(\d+)/.exec(message.slice(file.length + 1)) : null;
  const details: Record<string, unknown> = { file };
  if (at !== null) {
    details['line'] = Number(at[1]);
    details['column'] = Number(at[2]);
  }
  // Nomad's agent files are HCL1, where a block may hold quoted keys (its own docs write
  // `chroot_env { "/bin" = "/bin" }`); HCL2 wants a map attribute for those.
  const hint = message.includes('Argument names must not be quoted')
    ? ' (a block of quoted keys, as Nomad\'s HCL1 files write `chroot_env { "/bin" = "/bin" }`, is a map here: `chroot_env = { "/bin" = "/bin" }`)'
    : '';
  return new YurtError('parse_error', `${message}${hint}`, { cause: e, details });
}

function parseJsonFile(file: string, text: string): ParsedFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const offset = /at position (\d+)/.exec(msg);
    if (offset === null) throw new YurtError('parse_error', `${file}: invalid JSON: ${msg}`, { cause: e, details: { file } });
    const { line, column } = positionOfOffset(text, Number(offset[1]));
    const what = msg.replace(/ in JSON at position \d+.*$/, '');
    throw new YurtError('parse_error', `${file}:${line},${column}: invalid JSON: ${what}`, { cause: e, details: { file, line, column } });
  }
  return { value, positions: indexJsonPositions(text) };
}

function describeFsError(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return e instanceof Error ? e.message : String(e);
  }
}
