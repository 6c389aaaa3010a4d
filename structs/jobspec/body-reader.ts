/**
 * Reading one HCL body against the schema of a Nomad stanza. A decoder asks for each
 * attribute and block it knows, by name and with the type it expects; `finish()` then
 * reports whatever it did not ask for as unsupported, the way HCL's schema decoding does.
 *
 * Problems are collected, not thrown, so one run reports every mistake in the file, each
 * with its file:line,col and the Job field path it would have filled. The context also
 * remembers where each Job field came from, so that validation errors found later on the
 * canonical job can point back into the file.
 */
import type { FieldError } from '../errors.js';
import { YurtError } from '../errors.js';
import { parseDuration } from '../duration.js';
import { bytesToMB, parseSize } from '../size.js';
import type { SrcPos } from './hcl-source.js';
import type { HclAttr, HclBlock, HclBody } from './hcl-tree.js';
import { evaluateValue, InterpolationError } from './interpolation.js';

/** Path given to problems outside the job block (the file's top level, its variables blocks). */
export const FILE_PATH = '(file)';

export class DecodeContext {
  readonly errors: FieldError[] = [];
  private readonly positions = new Map<string, string>();
  vars: ReadonlyMap<string, unknown> = new Map();

  constructor(readonly filename: string) {}

  at(pos: SrcPos): string {
    return `${this.filename}:${pos.line},${pos.col}`;
  }

  error(pos: SrcPos | undefined, path: string, message: string): void {
    this.errors.push(pos === undefined ? { path, message } : { path, message, pos: this.at(pos) });
  }

  /** Remember where the value at a Job field path was written. */
  record(path: string, pos: SrcPos): void {
    if (!this.positions.has(path)) this.positions.set(path, this.at(pos));
  }

  /** The position of a field path, or of the nearest enclosing object that has one. */
  positionOf(path: string): string | undefined {
    let p = path;
    for (;;) {
      const found = this.positions.get(p);
      if (found !== undefined) return found;
      const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      if (cut <= 0) return this.positions.get('');
      p = p.slice(0, cut);
    }
  }

  /** Resolve `${...}` references in an attribute's value; undefined (reported) on failure. */
  evaluate(attr: HclAttr, path: string, where: string): { ok: true; value: unknown } | { ok: false } {
    try {
      return { ok: true, value: evaluateValue(attr.value, this.vars) };
    } catch (e) {
      if (!(e instanceof InterpolationError)) throw e;
      this.error(attr.pos, path, `in "${attr.name}" in ${where}: ${e.message}`);
      return { ok: false };
    }
  }
}

/** Short description of a value for error messages. */
export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  if (v === null || v === undefined) return 'null';
  return 'an object';
}

const NUMERIC = /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export class BodyReader {
  private readonly askedAttrs = new Set<string>();
  private readonly askedBlocks = new Set<string>();

  /**
   * @param where how messages name this body: `group "cache"`, `restart block in task "web"`
   * @param path the Job field path this body fills ('' for the job itself)
   */
  constructor(
    readonly ctx: DecodeContext,
    readonly body: HclBody,
    readonly where: string,
    readonly path: string,
    pos: SrcPos,
  ) {
    ctx.record(path, pos);
  }

  field(name: string): string {
    return this.path === '' ? name : `${this.path}.${name}`;
  }

  has(name: string): boolean {
    return this.body.attrs.some((a) => a.name === name);
  }

  /** The evaluated value of an attribute; undefined when absent, null, or unevaluable. */
  value(name: string, field: string): { attr: HclAttr; value: unknown } | undefined {
    this.askedAttrs.add(name);
    const attr = this.body.attrs.find((a) => a.name === name);
    if (attr === undefined) return undefined;
    const path = this.field(field);
    this.ctx.record(path, attr.pos);
    const r = this.ctx.evaluate(attr, path, this.where);
    if (!r.ok || r.value === null || r.value === undefined) return undefined;
    return { attr, value: r.value };
  }

  wrongType(attr: HclAttr, field: string, expected: string, got: unknown): void {
    this.ctx.error(attr.pos, this.field(field), `wrong type for "${attr.name}" in ${this.where}: ${expected} is required, got ${describe(got)}`);
  }

  invalid(attr: HclAttr, field: string, why: string): void {
    this.ctx.error(attr.pos, this.field(field), `invalid value for "${attr.name}" in ${this.where}: ${why}`);
  }

  string(name: string, field: string): string | undefined {
    const r = this.value(name, field);
    if (r === undefined) return undefined;
    // HCL converts numbers and booleans to strings where a string is expected.
    if (typeof r.value === 'string') return r.value;
    if (typeof r.value === 'number' || typeof r.value === 'boolean') return String(r.value);
    this.wrongType(r.attr, field, 'a string', r.value);
    return undefined;
  }

  number(name: string, field: string, opts: { integer?: boolean } = {}): number | undefined {
    const r = this.value(name, field);
    if (r === undefined) return undefined;
    // HCL converts a numeric string to a number where a number is expected.
    const n = typeof r.value === 'number' ? r.value : typeof r.value === 'string' && NUMERIC.test(r.value.trim()) ? Number(r.value) : undefined;
    if (n === undefined) {
      this.wrongType(r.attr, field, 'a number', r.value);
      return undefined;
    }
    if ((opts.integer ?? true) && !Number.isInteger(n)) {
      this.wrongType(r.attr, field, 'a whole number', r.value);
      return undefined;
    }
    return n;
  }

  bool(name: string, field: string): boolean | undefined {
    const r = this.value(name, field);
    if (r === undefined) return undefined;
    if (typeof r.value === 'boolean') return r.value;
    if (r.value === 'true' || r.value === 'false') return r.value === 'true';
    this.wrongType(r.attr, field, 'a bool', r.value);
    return undefined;
  }

  /** A Go duration string ("30s"); a number is taken as nanoseconds, as Nomad does. */
  duration(name: string, field: string): number | undefined {
    const r = this.value(name, field);
    if (r === undefined) return undefined;
    if (typeof r.value === 'number' && Number.isInteger(r.value)) return r.value;
    if (typeof r.value !== 'string') {
      this.wrongType(r.attr, field, 'a duration such as "30s"', r.value);
      return undefined;
    }
    try {
      return parseDuration(r.value);
    } catch (e) {
      if (!(e instanceof YurtError)) throw e;
      this.invalid(r.attr, field, e.message);
      return undefined;
    }
  }

  /** Megabytes: a number, or a size with a unit ("512MiB", "1GB"). */
  sizeMB(name: string, field: string): number | undefined {
    const r = this.value(name, field);
    if (r === undefined) return undefined;
    if (typeof r.value === 'number' && Number.isInteger(r.value)) return r.value;
    if (typeof r.value === 'string') {
      if (/^\s*\d+\s*$/.test(r.value)) return Number(r.value);
      try {
        return bytesToMB(parseSize(r.value));
      } catch (e) {
        if (!(e instanceof YurtError)) throw e;
        this.invalid(r.attr, field, e.message);
        return undefined;
      }
    }
    this.wrongType(r.attr, field, 'a number of MB or a size such as "512MiB"', r.value);
    return undefined;
  }

  stringList(name: string, field: string): string[] | undefined {
    const r = this.value(name, field);
    if (r === undefined) return undefined;
    const items = Array.isArray(r.value) ? (r.value as unknown[]) : undefined;
    if (items === undefined || !items.every((x) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean')) {
      this.wrongType(r.attr, field, 'a list of strings', r.value);
      return undefined;
    }
    return items.map((x) => String(x));
  }

  /**
   * A map of strings written either as an attribute (`meta = { a = "b" }`) or as a block
   * (`meta { a = "b" }`); Nomad accepts both for meta, env and the like.
   */
  stringMap(name: string, field: string): Record<string, string> | undefined {
    const blocks = this.blocks(name, []);
    const r = this.value(name, field);
    if (blocks.length > 1) {
      this.ctx.error(blocks[1]?.pos, this.field(field), `duplicate ${name} block in ${this.where}; only one is allowed`);
    }
    const first = blocks[0];
    if (first !== undefined) {
      this.ctx.record(this.field(field), first.pos);
      const inner = new BodyReader(this.ctx, first.body, `${name} block in ${this.where}`, this.field(field), first.pos);
      const out: Record<string, string> = {};
      for (const a of first.body.attrs) {
        const v = inner.string(a.name, a.name);
        if (v !== undefined) out[a.name] = v;
      }
      for (const b of first.body.blocks) {
        this.ctx.error(b.pos, this.field(field), `unsupported block type "${b.type}" in ${name} block in ${this.where}; values must be strings`);
      }
      return out;
    }
    if (r === undefined) return undefined;
    if (typeof r.value !== 'object' || Array.isArray(r.value)) {
      this.wrongType(r.attr, field, 'a map of strings', r.value);
      return undefined;
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.value as Record<string, unknown>)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
      else if (v !== null) {
        this.wrongType(r.attr, field, `a map of strings (key ${JSON.stringify(k)})`, v);
        return undefined;
      }
    }
    return out;
  }

  /** All blocks of a type; those with the wrong number of labels are reported and left out. */
  blocks(type: string, labelNames: readonly string[]): HclBlock[] {
    this.askedBlocks.add(type);
    const out: HclBlock[] = [];
    for (const b of this.body.blocks) {
      if (b.type !== type) continue;
      if (b.labels.length < labelNames.length) {
        this.ctx.error(b.pos, this.path, `missing ${labelNames.join(' and ')} for ${type} block in ${this.where}`);
      } else if (b.labels.length > labelNames.length) {
        const want = labelNames.length === 0 ? 'no labels' : `only ${labelNames.length === 1 ? 'a' : labelNames.length} ${labelNames.join(' and ')}`;
        this.ctx.error(b.pos, this.path, `too many labels for ${type} block in ${this.where}: it takes ${want}`);
      } else {
        out.push(b);
      }
    }
    return out;
  }

  /** At most one block of a type (restart, update, resources, ...). */
  single(type: string): HclBlock | undefined {
    const all = this.blocks(type, []);
    for (const dup of all.slice(1)) {
      this.ctx.error(dup.pos, this.path, `duplicate ${type} block in ${this.where}; only one is allowed`);
    }
    return all[0];
  }

  /** A reader for a nested block. */
  child(block: HclBlock, path: string, where?: string): BodyReader {
    const label = block.labels.length > 0 ? `${block.type} ${block.labels.map((l) => JSON.stringify(l)).join(' ')}` : `${block.type} block`;
    return new BodyReader(this.ctx, block.body, where ?? `${label} in ${this.where}`, path, block.pos);
  }

  /** Report every attribute and block the decoder did not ask for. */
  finish(): void {
    for (const a of this.body.attrs) {
      if (this.askedAttrs.has(a.name)) continue;
      const hint = this.askedBlocks.has(a.name) ? `; write it as a block: ${a.name} { ... }` : '';
      this.ctx.error(a.pos, this.path, `unsupported argument "${a.name}" in ${this.where}${hint}`);
    }
    for (const b of this.body.blocks) {
      if (this.askedBlocks.has(b.type)) continue;
      const hint = this.askedAttrs.has(b.type) ? `; write it as an argument: ${b.type} = ...` : '';
      this.ctx.error(b.pos, this.path, `unsupported block type "${b.type}" in ${this.where}${hint}`);
    }
  }
}
