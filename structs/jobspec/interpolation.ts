/**
 * `${...}` in job files. hcl2json folds constants and leaves every expression it cannot
 * evaluate as `${expression}` text, so this is where references are resolved:
 *
 * - `${var.name}` (and bare `var.name`, which hcl2json renders the same way), with optional
 *   `.key`, `[0]` and `["key"]` steps, is replaced by the variable's value. A string that is
 *   exactly one such reference takes the value with its type (a number stays a number, a
 *   list a list); inside a longer template the value is converted to text.
 * - Other references (`${attr.kernel.name}`, `${node.unique.id}`, `${meta.rack}`,
 *   `${NOMAD_ALLOC_DIR}`, `${env["HOME"]}`) are runtime interpolations for the scheduler and
 *   the client, kept verbatim, as Nomad does for any root it does not know.
 * - Anything else (operators, function calls, `for`, conditionals, `local.x`, template
 *   directives) is an error: yurt does not evaluate HCL expressions.
 *
 * `$${` and `%%{` are HCL's escapes for a literal `${` and `%{`; hcl2json keeps them, and
 * they are unescaped here.
 */

export class InterpolationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterpolationError';
  }
}

type Step = { kind: 'attr'; name: string } | { kind: 'index'; key: number | string };

interface Traversal {
  root: string;
  steps: Step[];
}

type Segment = { kind: 'text'; text: string } | { kind: 'expr'; expr: string };

/** Resolve the references in a value from hcl2json, recursively through lists and objects. */
export function evaluateValue(value: unknown, vars: ReadonlyMap<string, unknown>): unknown {
  if (typeof value === 'string') return interpolateString(value, vars);
  if (Array.isArray(value)) return value.map((v) => evaluateValue(v, vars));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = evaluateValue(v, vars);
    return out;
  }
  return value;
}

/**
 * A value that may not contain references at all (a variable's default, a var file's
 * value): only escapes are undone.
 */
export function literalValue(value: unknown): unknown {
  if (typeof value === 'string') {
    const segments = splitTemplate(value);
    if (segments.some((s) => s.kind === 'expr')) {
      throw new InterpolationError('a variable value cannot refer to other values or contain expressions');
    }
    return segments.map((s) => (s.kind === 'text' ? s.text : '')).join('');
  }
  if (Array.isArray(value)) return value.map(literalValue);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = literalValue(v);
    return out;
  }
  return value;
}

export function interpolateString(s: string, vars: ReadonlyMap<string, unknown>): unknown {
  const segments = splitTemplate(s);
  const only = segments.length === 1 ? segments[0] : undefined;
  if (only?.kind === 'expr') {
    const t = parseTraversal(only.expr);
    if (t?.root === 'var') return resolveVar(t, only.expr, vars);
  }
  let out = '';
  for (const seg of segments) {
    if (seg.kind === 'text') {
      out += seg.text;
      continue;
    }
    const t = parseTraversal(seg.expr);
    if (t?.root === 'var') out += toTemplateText(resolveVar(t, seg.expr, vars), seg.expr);
    else out += `\${${seg.expr}}`;
  }
  return out;
}

function splitTemplate(s: string): Segment[] {
  const segments: Segment[] = [];
  let text = '';
  let i = 0;
  while (i < s.length) {
    if ((s.startsWith('$${', i) || s.startsWith('%%{', i))) {
      text += `${s[i] ?? ''}{`;
      i += 3;
    } else if (s.startsWith('${', i)) {
      const end = closingBrace(s, i + 2);
      if (end === -1) {
        text += s.slice(i);
        break;
      }
      if (text !== '') segments.push({ kind: 'text', text });
      text = '';
      const expr = s.slice(i + 2, end).trim();
      checkExpression(expr);
      segments.push({ kind: 'expr', expr });
      i = end + 1;
    } else if (s.startsWith('%{', i)) {
      const end = closingBrace(s, i + 2);
      throw new InterpolationError(`template directives such as "%{${end === -1 ? '' : s.slice(i + 2, end)}}" are not supported`);
    } else {
      text += s[i] ?? '';
      i++;
    }
  }
  if (text !== '' || segments.length === 0) segments.push({ kind: 'text', text });
  return segments;
}

/** Index of the `}` closing a `${` whose inside starts at `from`, skipping nested strings. */
function closingBrace(s: string, from: number): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      for (i++; i < s.length && s[i] !== '"'; i++) if (s[i] === '\\') i++;
    } else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

/** Runtime references pass through; variables resolve; anything else is refused. */
function checkExpression(expr: string): void {
  const t = parseTraversal(expr);
  if (t === undefined) {
    throw new InterpolationError(
      `unsupported expression "\${${expr}}": only variable references such as \${var.name} are evaluated, and runtime references such as \${attr.kernel.name} are passed through`,
    );
  }
  if (t.root === 'local') throw new InterpolationError(`"\${${expr}}": locals are not supported; use a variable`);
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*/;

function parseTraversal(expr: string): Traversal | undefined {
  const root = IDENT.exec(expr);
  if (root === null) return undefined;
  const steps: Step[] = [];
  let rest = expr.slice(root[0].length);
  while (rest !== '') {
    let m: RegExpExecArray | null;
    if ((m = /^\.([A-Za-z0-9_-]+)/.exec(rest)) !== null) {
      steps.push({ kind: 'attr', name: m[1] ?? '' });
    } else if ((m = /^\[(\d+)\]/.exec(rest)) !== null) {
      steps.push({ kind: 'index', key: Number(m[1]) });
    } else if ((m = /^\[("(?:[^"\\]|\\.)*")\]/.exec(rest)) !== null) {
      steps.push({ kind: 'index', key: JSON.parse(m[1] ?? '""') as string });
    } else {
      return undefined;
    }
    rest = rest.slice(m[0].length);
  }
  return { root: root[0], steps };
}

function resolveVar(t: Traversal, expr: string, vars: ReadonlyMap<string, unknown>): unknown {
  const [first, ...steps] = t.steps;
  const name = first === undefined ? undefined : first.kind === 'attr' ? first.name : String(first.key);
  if (name === undefined) throw new InterpolationError(`"\${${expr}}" does not name a variable; write var.<name>`);
  if (!vars.has(name)) throw new InterpolationError(`reference to undeclared variable "${name}" in "\${${expr}}"`);
  let value = vars.get(name);
  for (const step of steps) {
    const key = step.kind === 'attr' ? step.name : step.key;
    if (Array.isArray(value) && typeof key === 'number') {
      if (key >= value.length) throw new InterpolationError(`"\${${expr}}": index ${key} is out of range (the list has ${value.length} elements)`);
      value = value[key] as unknown;
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value) && String(key) in value) {
      value = (value as Record<string, unknown>)[String(key)];
    } else {
      throw new InterpolationError(`"\${${expr}}": the value has no element ${JSON.stringify(key)}`);
    }
  }
  return value;
}

function toTemplateText(value: unknown, expr: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const what = value === null || value === undefined ? 'null' : Array.isArray(value) ? 'a list' : 'an object';
  throw new InterpolationError(`"\${${expr}}" is ${what} and cannot be part of a string`);
}
