/**
 * Nomad's `filter` query parameter: the common subset of go-bexpr (github.com/hashicorp/go-bexpr).
 *
 *   Expr     := Or
 *   Or       := And ("or" And)*
 *   And      := Not ("and" Not)*
 *   Not      := "not" Not | "(" Expr ")" | Match
 *   Match    := Selector ("==" | "!=") Value
 *             | Selector "is" ["not"] "empty"
 *             | Selector ["not"] ("contains" | "matches") Value
 *             | Value ["not"] "in" Selector
 *   Selector := Name ("." Name | "[" String "]")*       e.g. Status, Meta.owner, Meta["team-a"]
 *   Value    := "double-quoted" | `raw` | bareword        e.g. "running", 3, true
 *
 * A selector that walks into a list applies the rest of the path to every element (so
 * `TaskGroups.Name contains "web"` asks about the group names); a field that is not there
 * reads as missing: `==` is false, `!=` true, `is empty` true. Values compare as the field's
 * type: numbers numerically, booleans as true/false, everything else as strings.
 */
import { YurtError } from '../../structs/errors.js';

type Node =
  | { kind: 'or' | 'and'; left: Node; right: Node }
  | { kind: 'not'; inner: Node }
  | { kind: 'eq' | 'ne' | 'contains' | 'matches' | 'empty'; selector: string[]; value: string; negate: boolean; re?: RegExp };

export interface FilterExpression {
  readonly source: string;
  matches(datum: unknown): boolean;
}

type Token = { t: 'word' | 'string' | 'op' | 'lparen' | 'rparen' | 'lbracket' | 'rbracket' | 'dot' | 'end'; v: string; pos: number };

const WORD = /[A-Za-z0-9_\-:*/@+]/;
const SINGLE: Record<string, Token['t']> = { '(': 'lparen', ')': 'rparen', '[': 'lbracket', ']': 'rbracket', '.': 'dot' };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const pos = i;
    const single = SINGLE[c];
    if (single !== undefined) {
      out.push({ t: single, v: c, pos });
      i++;
    } else if ((c === '=' || c === '!') && src[i + 1] === '=') {
      out.push({ t: 'op', v: `${c}=`, pos });
      i += 2;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      for (; j < src.length && src[j] !== '"'; j++) {
        if (src[j] === '\\') {
          const n = src[++j];
          if (n === undefined) break;
          s += n === 'n' ? '\n' : n === 't' ? '\t' : n;
        } else s += src[j];
      }
      if (j >= src.length) throw parseError(src, pos, 'unterminated string');
      out.push({ t: 'string', v: s, pos });
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw parseError(src, pos, 'unterminated raw string');
      out.push({ t: 'string', v: src.slice(i + 1, j), pos });
      i = j + 1;
    } else if (WORD.test(c)) {
      let j = i;
      // A number's decimal point belongs to the word; elsewhere "." separates selector parts.
      while (j < src.length && (WORD.test(src[j]!) || (src[j] === '.' && /^-?\d+$/.test(src.slice(i, j)) && /\d/.test(src[j + 1] ?? '')))) j++;
      out.push({ t: 'word', v: src.slice(i, j), pos });
      i = j;
    } else throw parseError(src, pos, `unexpected character ${JSON.stringify(c)}`);
  }
  out.push({ t: 'end', v: '', pos: src.length });
  return out;
}

function parseError(src: string, pos: number, msg: string): YurtError {
  return new YurtError('invalid_argument', `failed to parse filter expression ${JSON.stringify(src)}: 1:${pos + 1}: ${msg}`);
}

class Parser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly toks: Token[],
  ) {}

  private peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }
  private next(): Token {
    return this.toks[Math.min(this.i++, this.toks.length - 1)]!;
  }
  private isWord(tok: Token, w: string): boolean {
    return tok.t === 'word' && tok.v === w;
  }
  private fail(tok: Token, msg: string): YurtError {
    return parseError(this.src, tok.pos, tok.t === 'end' ? `${msg}, got end of expression` : `${msg}, got ${JSON.stringify(tok.v)}`);
  }

  parse(): Node {
    if (this.peek().t === 'end') throw this.fail(this.peek(), 'expected an expression');
    const n = this.or();
    if (this.peek().t !== 'end') throw this.fail(this.peek(), 'expected "and", "or" or the end of the expression');
    return n;
  }
  private or(): Node {
    let left = this.and();
    while (this.isWord(this.peek(), 'or')) {
      this.next();
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }
  private and(): Node {
    let left = this.not();
    while (this.isWord(this.peek(), 'and')) {
      this.next();
      left = { kind: 'and', left, right: this.not() };
    }
    return left;
  }
  private not(): Node {
    if (this.isWord(this.peek(), 'not') && !this.isWord(this.peek(1), 'in')) {
      this.next();
      return { kind: 'not', inner: this.not() };
    }
    if (this.peek().t === 'lparen') {
      this.next();
      const inner = this.or();
      if (this.peek().t !== 'rparen') throw this.fail(this.peek(), 'expected ")"');
      this.next();
      return inner;
    }
    return this.match();
  }
  private match(): Node {
    // Value-first form: `"x" in Selector` / `"x" not in Selector`.
    const inAt = this.isWord(this.peek(1), 'in') ? 1 : this.isWord(this.peek(1), 'not') && this.isWord(this.peek(2), 'in') ? 2 : 0;
    if (inAt > 0) {
      const value = this.value();
      const negate = inAt === 2;
      this.i += inAt;
      return { kind: 'contains', selector: this.selector(), value, negate };
    }
    const selector = this.selector();
    const op = this.next();
    if (op.t === 'op') return { kind: op.v === '==' ? 'eq' : 'ne', selector, value: this.value(), negate: false };
    if (this.isWord(op, 'is')) {
      const negate = this.isWord(this.peek(), 'not');
      if (negate) this.next();
      const e = this.next();
      if (!this.isWord(e, 'empty')) throw this.fail(e, 'expected "empty"');
      return { kind: 'empty', selector, value: '', negate };
    }
    let negate = false;
    let verb = op;
    if (this.isWord(op, 'not')) {
      negate = true;
      verb = this.next();
    }
    if (this.isWord(verb, 'contains')) return { kind: 'contains', selector, value: this.value(), negate };
    if (this.isWord(verb, 'matches')) {
      const vt = this.peek();
      const value = this.value();
      const unsafe = unsafeRegex(value);
      if (unsafe) throw parseError(this.src, vt.pos, `unsupported regular expression: ${unsafe}`);
      let re: RegExp;
      try {
        re = new RegExp(value);
      } catch (e) {
        throw parseError(this.src, vt.pos, `invalid regular expression: ${(e as Error).message}`);
      }
      return { kind: 'matches', selector, value, negate, re };
    }
    throw this.fail(verb, 'expected one of "==", "!=", "is", "contains", "matches", "in"');
  }
  private selector(): string[] {
    const first = this.next();
    if (first.t !== 'word' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(first.v)) throw this.fail(first, 'expected a selector');
    const path = [first.v];
    for (;;) {
      const t = this.peek();
      if (t.t === 'dot') {
        this.next();
        const part = this.next();
        if (part.t !== 'word') throw this.fail(part, 'expected a field name after "."');
        path.push(part.v);
      } else if (t.t === 'lbracket') {
        this.next();
        const key = this.next();
        if (key.t !== 'string') throw this.fail(key, 'expected a quoted key inside [ ]');
        const close = this.next();
        if (close.t !== 'rbracket') throw this.fail(close, 'expected "]"');
        path.push(key.v);
      } else return path;
    }
  }
  private value(): string {
    const t = this.next();
    if (t.t === 'string') return t.v;
    if (t.t === 'word' && !['and', 'or', 'not', 'in', 'is'].includes(t.v)) return t.v;
    throw this.fail(t, 'expected a value');
  }
}

/**
 * go-bexpr matches with Go's RE2, which runs in linear time and has no backreferences or
 * lookaround. JavaScript's engine backtracks, so a pattern like `(a+)+$` could stall the
 * server on a long value: refuse what RE2 would refuse, and nested quantifiers.
 */
function unsafeRegex(p: string): string | null {
  if (p.length > 1024) return 'longer than 1024 characters';
  if (/\\[1-9]|\\k</.test(p)) return 'backreferences are not supported';
  if (/\(\?<?[=!]/.test(p)) return 'lookaround is not supported';
  if (/\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*(?:[+*]|\{\d)/.test(p)) return 'a repeated group that itself repeats (nested quantifiers)';
  return null;
}

/** Compiles a filter; a malformed one is a YurtError('invalid_argument') saying where and why. */
export function compileFilter(src: string): FilterExpression {
  const root = new Parser(src, tokenize(src)).parse();
  return { source: src, matches: (d) => evaluate(root, d) };
}

const MISSING = Symbol('missing');

/** Every value the selector reaches, and whether it walked through a list to get them. */
function resolve(datum: unknown, path: readonly string[]): { values: unknown[]; viaList: boolean } {
  let current: unknown[] = [datum];
  let viaList = false;
  for (const part of path) {
    const next: unknown[] = [];
    for (const v of current) {
      if (Array.isArray(v)) {
        viaList = true;
        for (const el of v) next.push(...resolve(el, [part]).values);
      } else if (typeof v === 'object' && v !== null && Object.hasOwn(v, part)) {
        next.push((v as Record<string, unknown>)[part]);
      } else next.push(MISSING);
    }
    current = next;
  }
  return { values: current, viaList };
}

function equals(actual: unknown, value: string): boolean {
  if (typeof actual === 'number') return value.trim() !== '' && Number(value) === actual;
  if (typeof actual === 'boolean') return value === String(actual);
  if (typeof actual === 'string') return actual === value;
  if (actual === null) return value === 'null' || value === '';
  return false;
}

function isEmpty(v: unknown): boolean {
  if (v === MISSING || v === null || v === undefined || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

function contains(v: unknown, value: string): boolean {
  if (typeof v === 'string') return v.includes(value);
  if (Array.isArray(v)) return v.some((el) => equals(el, value));
  if (typeof v === 'object' && v !== null) return Object.hasOwn(v, value);
  return false;
}

function evaluate(n: Node, d: unknown): boolean {
  switch (n.kind) {
    case 'or':
      return evaluate(n.left, d) || evaluate(n.right, d);
    case 'and':
      return evaluate(n.left, d) && evaluate(n.right, d);
    case 'not':
      return !evaluate(n.inner, d);
    case 'eq':
      return resolve(d, n.selector).values.some((v) => equals(v, n.value));
    case 'ne':
      return !resolve(d, n.selector).values.some((v) => equals(v, n.value));
    case 'empty': {
      const vs = resolve(d, n.selector).values;
      // Through a list, "empty" means no element has a value.
      const empty = vs.every(isEmpty);
      return n.negate ? !empty : empty;
    }
    case 'contains': {
      const { values, viaList } = resolve(d, n.selector);
      // Through a list the selector yields each element's field: "contains" asks whether any equals.
      const hit = viaList ? values.some((v) => equals(v, n.value)) : values.some((v) => contains(v, n.value));
      return n.negate ? !hit : hit;
    }
    case 'matches': {
      const hit = resolve(d, n.selector).values.some((v) => typeof v === 'string' && n.re!.test(v));
      return n.negate ? !hit : hit;
    }
  }
}
