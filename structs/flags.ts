/**
 * A command-line flag parser with the syntax of Go's `flag` package, as Nomad's CLI uses it,
 * so `yurt agent -dev -config=/etc/yurt.d` reads like `nomad agent -dev -config=/etc/nomad.d`.
 *
 * Syntax (Go's): `-name`, `--name`, `-name=value`, `-name value` (not for booleans: Go reads
 * `-dev false` as the flag `-dev` followed by the argument "false"; write `-dev=false`).
 * `--` ends the flags. A lone `-` is an argument. Two deliberate differences from Go:
 *   - flags may follow positional arguments (`job run job.hcl -detach`) unless
 *     `{ interspersed: false }` asks for Go's stop-at-first-argument rule (for commands that
 *     pass the rest of the line on, like `alloc exec ID cmd -x`);
 *   - `-data-dir -dev` is an error ("flag needs an argument") instead of Go silently taking
 *     "-dev" as the directory; a value that only looks like a flag (`-x -5`) is still taken.
 *
 * The spec declares each flag's type, default and help; the result type is inferred from it:
 * a string/int/duration flag with a `default` is `string`/`number`, without one it is
 * `| undefined` (so callers can tell "not given" from a value); bools default to false and
 * lists to []. `set` names the flags given on the command line, like Go's `flag.Visit`.
 */
import { parseDuration } from './duration.js';
import { YurtError } from './errors.js';

interface FlagDefBase {
  /** One or more sentences; formatFlagHelp wraps them. */
  help: string;
  /** Other names for the same flag (`-node` for `-name`). */
  aliases?: readonly string[];
}

export interface BoolFlagDef extends FlagDefBase {
  type: 'bool';
  default?: boolean;
}

export interface StringFlagDef extends FlagDefBase {
  type: 'string';
  default?: string;
  /** Shown in help as `-name=<placeholder>`; defaults to the type name. */
  placeholder?: string;
  /** Returns a message when the value is unacceptable. */
  validate?: (value: string) => string | undefined;
}

export interface IntFlagDef extends FlagDefBase {
  type: 'int';
  default?: number;
  placeholder?: string;
  validate?: (value: number) => string | undefined;
}

/** A Go duration ("10s", "1h30m"), checked for syntax and kept as the string it was given. */
export interface DurationFlagDef extends FlagDefBase {
  type: 'duration';
  default?: string;
  placeholder?: string;
  validate?: (value: string) => string | undefined;
}

/** Repeatable: each occurrence appends. With `split`, each occurrence is also split on it. */
export interface StringListFlagDef extends FlagDefBase {
  type: 'stringList';
  split?: string;
  placeholder?: string;
  /** Checks each item. */
  validate?: (item: string) => string | undefined;
}

export type FlagDef = BoolFlagDef | StringFlagDef | IntFlagDef | DurationFlagDef | StringListFlagDef;
export type FlagSpec = Readonly<Record<string, FlagDef>>;

type FlagValue<D> = D extends { type: 'bool' }
  ? boolean
  : D extends { type: 'stringList' }
    ? string[]
    : D extends { type: 'int' }
      ? D extends { default: number }
        ? number
        : number | undefined
      : D extends { default: string }
        ? string
        : string | undefined;

export type FlagValues<S extends FlagSpec> = { -readonly [K in keyof S]: FlagValue<S[K]> };

export interface ParsedFlags<S extends FlagSpec> {
  flags: FlagValues<S>;
  /** Positional arguments, in order. */
  args: string[];
  /** Canonical names of the flags that appeared on the command line. */
  set: ReadonlySet<keyof S & string>;
  /** `-h`, `-help` or `--help` was given (and the spec defines no such flag); parsing stopped there. */
  helpRequested: boolean;
}

export interface ParseFlagsOptions {
  /** Allow flags after positional arguments (default true). */
  interspersed?: boolean;
}

/** Declares a spec with its literal types kept, so `parseFlags` can infer the result. */
export function defineFlags<const S extends FlagSpec>(spec: S): S {
  return spec;
}

export function parseFlags<S extends FlagSpec>(argv: readonly string[], spec: S, opts: ParseFlagsOptions = {}): ParsedFlags<S> {
  const interspersed = opts.interspersed ?? true;
  const byName = indexSpec(spec);
  const values: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(spec)) values[name] = initialValue(def);
  const set = new Set<keyof S & string>();
  const args: string[] = [];
  let helpRequested = false;

  let i = 0;
  while (i < argv.length) {
    const arg = argv[i] as string;
    i++;
    if (arg === '--') {
      args.push(...argv.slice(i));
      break;
    }
    if (arg.length < 2 || !arg.startsWith('-')) {
      args.push(arg);
      if (!interspersed) {
        args.push(...argv.slice(i));
        break;
      }
      continue;
    }
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    if (body.length === 0 || body.startsWith('-') || body.startsWith('=')) {
      throw invalid(`bad flag syntax: ${arg}`);
    }
    const eq = body.indexOf('=');
    const given = eq === -1 ? body : body.slice(0, eq);
    let inline = eq === -1 ? undefined : body.slice(eq + 1);
    const entry = byName.get(given);
    if (entry === undefined) {
      if (given === 'h' || given === 'help') {
        helpRequested = true;
        break;
      }
      throw invalid(`flag provided but not defined: -${given}`);
    }
    const { name, def } = entry;
    if (def.type === 'bool') {
      values[name] = inline === undefined ? true : parseBool(inline, given);
    } else {
      if (inline === undefined) {
        const next = argv[i];
        if (next === undefined || looksLikeDefinedFlag(next, byName)) throw invalid(`flag needs an argument: -${given}`);
        inline = next;
        i++;
      }
      assignValue(values, name, def, inline, given);
    }
    set.add(name);
  }

  return { flags: values as FlagValues<S>, args, set, helpRequested };
}

/**
 * Nomad-style usage lines, one entry per flag:
 *
 *   -bootstrap-expect=<num>
 *     Number of servers to wait for before bootstrapping. (default: 0)
 */
export function formatFlagHelp(spec: FlagSpec, width = 80): string {
  const out: string[] = [];
  for (const [name, def] of Object.entries(spec)) {
    const names = [name, ...(def.aliases ?? [])];
    const suffix = def.type === 'bool' ? '' : `=<${def.placeholder ?? placeholderFor(def)}>`;
    out.push(`  ${names.map((n) => `-${n}${suffix}`).join(', ')}`);
    const dflt = describeDefault(def);
    const text = dflt === undefined ? def.help : `${def.help} (default: ${dflt})`;
    for (const line of wrap(text, width - 4)) out.push(`    ${line}`);
    out.push('');
  }
  return out.join('\n');
}

/** Go's strconv.ParseBool spellings. */
const boolSpellings: ReadonlyMap<string, boolean> = new Map([
  ['1', true], ['t', true], ['T', true], ['true', true], ['TRUE', true], ['True', true],
  ['0', false], ['f', false], ['F', false], ['false', false], ['FALSE', false], ['False', false],
]);

/** Go's time.ParseDuration syntax (structs/duration.ts holds the grammar). */
export function isGoDuration(s: string): boolean {
  try {
    parseDuration(s);
    return true;
  } catch {
    return false;
  }
}

function indexSpec(spec: FlagSpec): Map<string, { name: string; def: FlagDef }> {
  const byName = new Map<string, { name: string; def: FlagDef }>();
  for (const [name, def] of Object.entries(spec)) {
    for (const n of [name, ...(def.aliases ?? [])]) {
      // A spec is program text, not user input: a clash is a programming error.
      if (byName.has(n)) throw new Error(`flag -${n} is declared twice`);
      byName.set(n, { name, def });
    }
  }
  return byName;
}

function initialValue(def: FlagDef): unknown {
  switch (def.type) {
    case 'bool':
      return def.default ?? false;
    case 'stringList':
      return [];
    case 'string':
    case 'int':
    case 'duration':
      return def.default;
  }
}

function assignValue(values: Record<string, unknown>, name: string, def: Exclude<FlagDef, BoolFlagDef>, raw: string, given: string): void {
  switch (def.type) {
    case 'string': {
      check(def.validate?.(raw), raw, given);
      values[name] = raw;
      return;
    }
    case 'int': {
      const n = parseInteger(raw, given);
      check(def.validate?.(n), raw, given);
      values[name] = n;
      return;
    }
    case 'duration': {
      if (!isGoDuration(raw)) throw invalid(`invalid value "${raw}" for flag -${given}: not a duration (examples: "10s", "1m30s", "500ms")`);
      check(def.validate?.(raw), raw, given);
      values[name] = raw;
      return;
    }
    case 'stringList': {
      const items = def.split === undefined ? [raw] : raw.split(def.split).map((s) => s.trim()).filter((s) => s !== '');
      for (const item of items) check(def.validate?.(item), item, given);
      (values[name] as string[]).push(...items);
      return;
    }
  }
}

function parseBool(raw: string, given: string): boolean {
  const v = boolSpellings.get(raw);
  if (v === undefined) throw invalid(`invalid boolean value "${raw}" for -${given}: parse error`);
  return v;
}

function parseInteger(raw: string, given: string): number {
  if (!/^[-+]?\d+$/.test(raw)) throw invalid(`invalid value "${raw}" for flag -${given}: parse error`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw invalid(`invalid value "${raw}" for flag -${given}: value out of range`);
  return n;
}

function check(problem: string | undefined, raw: string, given: string): void {
  if (problem !== undefined) throw invalid(`invalid value "${raw}" for flag -${given}: ${problem}`);
}

function looksLikeDefinedFlag(arg: string, byName: Map<string, unknown>): boolean {
  if (arg === '--') return true;
  const m = /^--?([^-=][^=]*)/.exec(arg);
  return m !== null && byName.has(m[1] as string);
}

function invalid(message: string): YurtError {
  return new YurtError('invalid_argument', message);
}

function placeholderFor(def: FlagDef): string {
  switch (def.type) {
    case 'bool':
      return 'bool';
    case 'string':
    case 'stringList':
      return 'string';
    case 'int':
      return 'num';
    case 'duration':
      return 'duration';
  }
}

function describeDefault(def: FlagDef): string | undefined {
  switch (def.type) {
    case 'bool':
      return def.default === true ? 'true' : undefined;
    case 'int':
      return def.default === undefined ? undefined : String(def.default);
    case 'string':
    case 'duration':
      return def.default === undefined || def.default === '' ? undefined : `"${def.default}"`;
    case 'stringList':
      return undefined;
  }
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}
