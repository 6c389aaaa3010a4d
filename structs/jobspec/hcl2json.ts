/**
 * The bridge to @cdktn/hcl2json, which runs Go's real HCL2 parser compiled to wasm: it
 * checks the syntax with HCL's own error messages and positions, folds constants, and
 * returns the file as JSON with every block as an array and every expression it cannot
 * evaluate as `${...}` text.
 *
 * Loaded lazily through `createRequire` for two reasons: importing the package starts its
 * wasm runtime at once (about 250 ms), which processes that never parse a job file should
 * not pay; and its type declarations pull in the DOM library, which must not leak into the
 * types of this Node project. The one function used is typed here instead.
 */
import { createRequire } from 'node:module';
import { YurtError } from '../errors.js';

interface Hcl2Json {
  parse(filename: string, contents: string): Promise<Record<string, unknown>>;
}

let bridge: Hcl2Json | undefined;

function load(): Hcl2Json {
  if (bridge === undefined) {
    const require = createRequire(import.meta.url);
    bridge = require('@cdktn/hcl2json') as Hcl2Json;
  }
  return bridge;
}

export interface SyntaxDiagnostic {
  /** "file.hcl:3,11": where the problem starts. */
  pos: string;
  /** The diagnostic as HCL prints it: "file.hcl:3,11-4,1: Invalid expression; ...". */
  message: string;
}

/**
 * Parse HCL text into hcl2json's JSON. Syntax errors become YurtError('parse_error') whose
 * message is HCL's diagnostics, one per line, each starting with file:line,col.
 */
export async function hclToJSON(filename: string, src: string): Promise<Record<string, unknown>> {
  try {
    return await load().parse(filename, src);
  } catch (e) {
    throw syntaxError(filename, e instanceof Error ? e.message : String(e));
  }
}

function syntaxError(filename: string, raw: string): YurtError {
  const diags = splitDiagnostics(filename, raw);
  return new YurtError('parse_error', diags.map((d) => d.message).join('\n'), { details: { errors: diags } });
}

/**
 * hcl2json reports `parse config: [diag diag ...]` with diagnostics separated by spaces, each
 * starting with `file:line,col-...:`; its later conversion step reports plain text.
 */
export function splitDiagnostics(filename: string, raw: string): SyntaxDiagnostic[] {
  const m = /^parse config: \[([\s\S]*)\]$/.exec(raw.trim());
  if (m === null) {
    const text = raw.replace(/^(convert (to HCL|file|body|block): )+/, '');
    return [{ pos: filename, message: `${filename}: ${text}` }];
  }
  const inner = m[1] ?? '';
  const escaped = filename.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // A diagnostic starts with its range and a colon; a position quoted inside a detail
  // ("already set at f.hcl:1,1-2.") is not followed by ": ".
  const start = new RegExp(`(?:^| )(?=${escaped}:\\d+,\\d+(?:-\\d+(?:,\\d+)?)?: )`, 'g');
  return inner
    .split(start)
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((message) => {
      const p = new RegExp(`^${escaped}:(\\d+),(\\d+)`).exec(message);
      return { pos: p === null ? filename : `${filename}:${p[1]},${p[2]}`, message };
    });
}
