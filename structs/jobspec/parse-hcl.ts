/**
 * Job files: HCL text in, canonical validated Job out.
 *
 * 1. hcl2json checks the syntax (errors: YurtError 'parse_error', HCL's own messages with
 *    file:line,col) and evaluates what it can;
 * 2. the structural scan restores order, kinds and positions (hcl-source.ts, hcl-tree.ts);
 * 3. variables are resolved (variables.ts), then the job block is decoded stanza by stanza,
 *    collecting every unsupported block or argument and every wrongly typed value;
 * 4. the result is canonicalized and validated; validation errors get the position of the
 *    field they are about.
 *
 * Problems of steps 3 and 4 are thrown together as one ValidationError, each FieldError
 * carrying its `pos` ("example.hcl:12,5") and the Job field path it concerns.
 */
import type { Job } from '../job.js';
import type { FieldError } from '../errors.js';
import { ValidationError, YurtError } from '../errors.js';
import { canonicalizeJob } from '../job-defaults.js';
import { validateJob } from '../job-validate.js';
import { hclToJSON } from './hcl2json.js';
import type { SrcBlock, SrcBody } from './hcl-source.js';
import { ScanError, scanHCL } from './hcl-source.js';
import type { TreeProblem } from './hcl-tree.js';
import { buildTree } from './hcl-tree.js';
import { DecodeContext, FILE_PATH } from './body-reader.js';
import type { VariableInputs } from './variables.js';
import { resolveVariables } from './variables.js';
import { decodeFile } from './decode-job.js';

export interface ParseJobHCLOptions extends VariableInputs {
  /** Name used in every message ("example.hcl"). */
  filename: string;
}

export async function parseJobHCL(src: string, opts: ParseJobHCLOptions): Promise<Job> {
  const json = await hclToJSON(opts.filename, src).catch((e: unknown) => {
    throw locateConversionError(e, src, opts.filename);
  });
  let scanned;
  try {
    scanned = scanHCL(src);
  } catch (e) {
    // hcl2json accepted the text, so the scanner disagreeing is a bug here, not the user's.
    if (e instanceof ScanError) throw new YurtError('internal', `${opts.filename}: could not scan a file HCL accepted: ${e.message}`, { cause: e });
    throw e;
  }

  const ctx = new DecodeContext(opts.filename);
  const problems: TreeProblem[] = [];
  const root = buildTree(scanned, json, problems);
  for (const p of problems) ctx.error(p.pos, FILE_PATH, p.message);

  ctx.vars = await resolveVariables(ctx, root, opts);
  // Decoding with broken variables would only add echoes of the same problems.
  if (ctx.errors.length > 0) throw fileError(opts.filename, ctx.errors);

  const input = decodeFile(ctx, root);
  if (ctx.errors.length > 0 || input === undefined) throw fileError(opts.filename, ctx.errors);

  const job = canonicalizeJob(input);
  const invalid = validateJob(job).map((e) => {
    const pos = ctx.positionOf(e.path);
    return pos === undefined ? e : { ...e, pos };
  });
  if (invalid.length > 0) throw new ValidationError(opts.filename, invalid);
  return job;
}

/**
 * hcl2json's conversion step fails without a position when blocks of one type mix labeled
 * and unlabeled forms (`group {}` next to `group "web" {}`); find the odd block in the text.
 */
function locateConversionError(e: unknown, src: string, filename: string): unknown {
  if (!(e instanceof YurtError) || e.code !== 'parse_error' || !e.message.startsWith(`${filename}: `)) return e;
  let odd: { block: SrcBlock; want: number } | undefined;
  try {
    odd = findLabelMismatch(scanHCL(src));
  } catch {
    return e;
  }
  if (odd === undefined) return e;
  const { block, want } = odd;
  const message = `${filename}:${block.pos.line},${block.pos.col}: Inconsistent labels; this ${block.type} block has ${block.labels.length} label${block.labels.length === 1 ? '' : 's'} where the other ${block.type} blocks here have ${want}.`;
  return new YurtError('parse_error', message, { details: { errors: [{ pos: `${filename}:${block.pos.line},${block.pos.col}`, message }] } });
}

function findLabelMismatch(body: SrcBody): { block: SrcBlock; want: number } | undefined {
  const blocks = body.items.filter((i): i is SrcBlock => i.kind === 'block');
  for (const b of blocks) {
    const most = Math.max(...blocks.filter((o) => o.type === b.type).map((o) => o.labels.length));
    if (b.labels.length !== most) return { block: b, want: most };
  }
  for (const b of blocks) {
    const inner = findLabelMismatch(b.body);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

function fileError(filename: string, errors: FieldError[]): ValidationError {
  // Read top to bottom: problems without a place first, then other files (var files), then
  // this file's in source order. The job block itself has the empty path; name it.
  const rank = (e: FieldError): [number, number, number] => {
    const m = e.pos === undefined ? null : /:(\d+),(\d+)$/.exec(e.pos);
    if (e.pos === undefined || m === null) return [0, 0, 0];
    if (!e.pos.startsWith(`${filename}:`)) return [1, 0, 0];
    return [2, Number(m[1]), Number(m[2])];
  };
  const sorted = errors
    .map((e, i) => ({ e, i, r: rank(e) }))
    .sort((a, b) => a.r[0] - b.r[0] || a.r[1] - b.r[1] || a.r[2] - b.r[2] || a.i - b.i)
    .map(({ e }) => (e.path === '' ? { ...e, path: 'Job' } : e));
  return new ValidationError(filename, sorted);
}
