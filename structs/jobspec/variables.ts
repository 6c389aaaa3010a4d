/**
 * Input variables of a job file, as Nomad's jobspec2 handles them:
 *
 *   variable "image" { type = string, default = "redis:7", description = "..." }
 *   variables { region = "eu" }            # shorthand: declarations with defaults
 *
 * Values come, lowest precedence first, from the default, from the environment
 * (`NOMAD_VAR_image`), from var files (`-var-file`, HCL `image = "redis:6"`), and from
 * `-var image=redis:6`. A value from the environment or the command line is text: for a
 * string or number variable (or one without a type) it is taken literally, for other types
 * it is parsed as an HCL expression (`-var 'dcs=["a","b"]'`). Every value is converted to
 * the declared type. A declared variable without any value is an error, and so is a value
 * for an undeclared variable from a var file or `-var` (the environment may hold unrelated
 * NOMAD_VAR_ names and is ignored for those).
 */
import type { SrcPos } from './hcl-source.js';
import { scanHCL } from './hcl-source.js';
import type { HclAttr, HclBody } from './hcl-tree.js';
import { buildTree } from './hcl-tree.js';
import { hclToJSON } from './hcl2json.js';
import type { DecodeContext } from './body-reader.js';
import { describe, FILE_PATH } from './body-reader.js';
import { InterpolationError, literalValue } from './interpolation.js';

export interface VariableInputs {
  /** `-var name=value` pairs. */
  vars?: Record<string, string>;
  /** `-var-file` contents, in the order given. */
  varFiles?: Array<{ filename: string; content: string }>;
  /** The process environment; only NOMAD_VAR_* entries are read. */
  env?: Record<string, string | undefined>;
}

export const VAR_ENV_PREFIX = 'NOMAD_VAR_';

type VarType =
  | { kind: 'string' | 'number' | 'bool' | 'any' }
  | { kind: 'list' | 'set' | 'map'; of: VarType };

interface Declaration {
  name: string;
  pos: SrcPos;
  /** undefined: no type given and no default to take one from. */
  type: VarType | undefined;
  hasValue: boolean;
  value: unknown;
  /** A value was given but was unusable (already reported). */
  failed: boolean;
}

/**
 * Collect declarations from the job file's body and resolve their values. Problems are
 * reported to `ctx`; the returned map holds every variable that got a valid value.
 */
export async function resolveVariables(ctx: DecodeContext, root: HclBody, inputs: VariableInputs): Promise<Map<string, unknown>> {
  const decls = declarations(ctx, root);

  for (const [key, raw] of Object.entries(inputs.env ?? {})) {
    if (!key.startsWith(VAR_ENV_PREFIX) || raw === undefined) continue;
    const decl = decls.get(key.slice(VAR_ENV_PREFIX.length));
    if (decl !== undefined) await assignText(ctx, decl, raw, `environment variable ${key}`);
  }

  for (const file of inputs.varFiles ?? []) await readVarFile(ctx, decls, file.filename, file.content);

  for (const [name, raw] of Object.entries(inputs.vars ?? {})) {
    const decl = decls.get(name);
    if (decl === undefined) {
      ctx.error(undefined, `var.${name}`, `variable "${name}" was given with -var but is not declared in ${ctx.filename}; add a variable "${name}" block`);
      continue;
    }
    await assignText(ctx, decl, raw, `-var ${name}`);
  }

  const values = new Map<string, unknown>();
  for (const decl of decls.values()) {
    if (decl.hasValue) values.set(decl.name, decl.value);
    else if (!decl.failed) {
      ctx.error(
        decl.pos,
        `var.${decl.name}`,
        `variable "${decl.name}" has no value: give it a default, or set it with -var ${decl.name}=..., a var file, or ${VAR_ENV_PREFIX}${decl.name}`,
      );
    }
  }
  return values;
}

function declarations(ctx: DecodeContext, root: HclBody): Map<string, Declaration> {
  const decls = new Map<string, Declaration>();
  const declare = (d: Declaration): void => {
    if (decls.has(d.name)) ctx.error(d.pos, `var.${d.name}`, `duplicate declaration of variable "${d.name}"`);
    else decls.set(d.name, d);
  };

  for (const block of root.blocks) {
    if (block.type === 'variable' && block.labels.length === 1) {
      const name = block.labels[0] ?? '';
      const path = `var.${name}`;
      if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) {
        ctx.error(block.pos, path, `invalid variable name "${name}": use letters, digits, underscores and dashes, starting with a letter`);
      }
      const decl: Declaration = { name, pos: block.pos, type: undefined, hasValue: false, value: undefined, failed: false };
      for (const attr of block.body.attrs) {
        if (attr.name === 'type') {
          const t = parseType(typeof attr.value === 'string' ? attr.value.replace(/^\$\{(.*)\}$/s, '$1') : '');
          if (t === undefined) ctx.error(attr.pos, path, `invalid type for variable "${name}": ${describe(attr.value)}; use string, number, bool, any, list(T), set(T) or map(T)`);
          decl.type = t;
        } else if (attr.name !== 'default' && attr.name !== 'description') {
          ctx.error(attr.pos, path, `unsupported argument "${attr.name}" in variable "${name}"`);
        }
      }
      for (const b of block.body.blocks) {
        ctx.error(b.pos, path, `unsupported block type "${b.type}" in variable "${name}"${b.type === 'validation' ? ': validation rules are not supported' : ''}`);
      }
      const dflt = block.body.attrs.find((a) => a.name === 'default');
      if (dflt !== undefined) assignValue(ctx, decl, dflt.value, `the default of variable "${name}"`, dflt.pos, true);
      declare(decl);
    } else if (block.type === 'variables' && block.labels.length === 0) {
      for (const attr of block.body.attrs) {
        const decl: Declaration = { name: attr.name, pos: attr.pos, type: undefined, hasValue: false, value: undefined, failed: false };
        assignValue(ctx, decl, attr.value, `the default of variable "${attr.name}"`, attr.pos, true);
        declare(decl);
      }
      for (const b of block.body.blocks) ctx.error(b.pos, FILE_PATH, `unsupported block type "${b.type}" in variables block`);
    }
  }
  return decls;
}

async function readVarFile(ctx: DecodeContext, decls: Map<string, Declaration>, filename: string, content: string): Promise<void> {
  const json = await hclToJSON(filename, content);
  const problems: Array<{ pos: SrcPos; message: string }> = [];
  const body = buildTree(scanHCL(content), json, problems);
  const at = (pos: SrcPos): string => `${filename}:${pos.line},${pos.col}`;
  for (const p of problems) ctx.errors.push({ path: '(var file)', message: p.message, pos: at(p.pos) });
  for (const b of body.blocks) {
    const what = b.type === 'variable' ? `declarations belong in the job file; here write ${b.labels[0] ?? 'name'} = <value>` : `unsupported block type "${b.type}"`;
    ctx.errors.push({ path: '(var file)', message: `${what} (var file ${filename})`, pos: at(b.pos) });
  }
  for (const attr of body.attrs) {
    const decl = decls.get(attr.name);
    if (decl === undefined) {
      ctx.errors.push({ path: `var.${attr.name}`, message: `variable "${attr.name}" is set in ${filename} but not declared in ${ctx.filename}`, pos: at(attr.pos) });
      continue;
    }
    assignFromVarFile(ctx, decl, attr, filename);
  }
}

function assignFromVarFile(ctx: DecodeContext, decl: Declaration, attr: HclAttr, filename: string): void {
  const before = ctx.errors.length;
  assignValue(ctx, decl, attr.value, `variable "${decl.name}" in ${filename}`, undefined, false);
  // Errors about a var file's value point into that file.
  for (const e of ctx.errors.slice(before)) e.pos = `${filename}:${attr.pos.line},${attr.pos.col}`;
}

/** A value given as text (environment, -var): literal for scalars, an HCL expression otherwise. */
async function assignText(ctx: DecodeContext, decl: Declaration, text: string, source: string): Promise<void> {
  const kind = decl.type?.kind;
  if (kind === undefined || kind === 'string' || kind === 'number' || kind === 'bool') {
    assignValue(ctx, decl, text, source, undefined, false);
    return;
  }
  const fake = `<value for var.${decl.name} from ${source}>`;
  try {
    const json = await hclToJSON(fake, `v = ${text}\n`);
    assignValue(ctx, decl, json['v'], source, undefined, false);
  } catch (e) {
    ctx.error(undefined, `var.${decl.name}`, `invalid value for variable "${decl.name}" from ${source}: ${e instanceof Error ? e.message : String(e)}`);
    decl.failed = true;
  }
}

function assignValue(ctx: DecodeContext, decl: Declaration, raw: unknown, source: string, pos: SrcPos | undefined, isDefault: boolean): void {
  let value: unknown;
  try {
    value = literalValue(raw);
  } catch (e) {
    if (!(e instanceof InterpolationError)) throw e;
    ctx.error(pos, `var.${decl.name}`, `invalid value for ${source}: ${e.message}`);
    decl.failed = true;
    return;
  }
  // Without a declared type a default fixes the type, as in Nomad.
  if (decl.type === undefined && isDefault) decl.type = typeOf(value);
  const converted = decl.type === undefined ? { ok: true as const, value } : convert(value, decl.type);
  if (!converted.ok) {
    ctx.error(pos, `var.${decl.name}`, `invalid value for ${source}: ${converted.why}`);
    decl.failed = true;
    return;
  }
  decl.hasValue = true;
  decl.value = converted.value;
}

function parseType(text: string): VarType | undefined {
  const t = text.replace(/\s+/g, '');
  if (t === 'string' || t === 'number' || t === 'bool' || t === 'any') return { kind: t };
  const m = /^(list|set|map)\((.*)\)$/.exec(t);
  if (m !== null) {
    const of = parseType(m[2] ?? '');
    return of === undefined ? undefined : { kind: m[1] as 'list' | 'set' | 'map', of };
  }
  // Structural types are accepted without conversion.
  if (/^(object|tuple)\(.*\)$/.test(t)) return { kind: 'any' };
  return undefined;
}

function typeOf(v: unknown): VarType | undefined {
  if (typeof v === 'string') return { kind: 'string' };
  if (typeof v === 'number') return { kind: 'number' };
  if (typeof v === 'boolean') return { kind: 'bool' };
  return v === null || v === undefined ? undefined : { kind: 'any' };
}

function typeName(t: VarType): string {
  return 'of' in t ? `${t.kind}(${typeName(t.of)})` : t.kind;
}

type Converted = { ok: true; value: unknown } | { ok: false; why: string };

/** cty's conversions: strings to numbers and booleans where they parse, scalars to strings. */
function convert(v: unknown, t: VarType): Converted {
  const fail = (): Converted => ({ ok: false, why: `${typeName(t)} required, got ${describe(v)}` });
  if (v === null) return { ok: true, value: null };
  switch (t.kind) {
    case 'any':
      return { ok: true, value: v };
    case 'string':
      return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? { ok: true, value: String(v) } : fail();
    case 'number':
      if (typeof v === 'number') return { ok: true, value: v };
      return typeof v === 'string' && /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(v.trim()) ? { ok: true, value: Number(v) } : fail();
    case 'bool':
      if (typeof v === 'boolean') return { ok: true, value: v };
      return v === 'true' || v === 'false' ? { ok: true, value: v === 'true' } : fail();
    case 'list':
    case 'set': {
      if (!Array.isArray(v)) return fail();
      const out: unknown[] = [];
      for (const item of v as unknown[]) {
        const c = convert(item, t.of);
        if (!c.ok) return { ok: false, why: `${typeName(t)} required: ${c.why}` };
        if (t.kind === 'list' || !out.some((x) => JSON.stringify(x) === JSON.stringify(c.value))) out.push(c.value);
      }
      return { ok: true, value: out };
    }
    case 'map': {
      if (typeof v !== 'object' || Array.isArray(v)) return fail();
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
        const c = convert(item, t.of);
        if (!c.ok) return { ok: false, why: `${typeName(t)} required: ${c.why}` };
        out[k] = c.value;
      }
      return { ok: true, value: out };
    }
  }
}
