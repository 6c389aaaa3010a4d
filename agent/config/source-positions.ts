/**
 * Where each key of a config file sits in its source text, so a bad value can be reported as
 * `agent.hcl:3,3`. hcl2json (Go's HCL parser compiled to wasm) returns plain JSON without
 * positions, so these scanners walk the text a second time, after the real parser has
 * accepted it, and index every attribute and block by the path it has in the parsed value:
 *
 *   server { enabled = true }          -> ["server"], ["server", 0], ["server", 0, "enabled"]
 *   host_volume "data" { path = "/x" } -> [..., "host_volume"], [..., "host_volume", "data"],
 *                                         [..., "host_volume", "data", 0], [..., "path"]
 *
 * (hcl2json turns every block into an array of bodies, nested one object per label.) The
 * JSON scanner indexes object keys and array items the same way. Lookups fall back to the
 * nearest indexed ancestor, so an error inside a list points at the list's attribute.
 */

export type RawPath = readonly (string | number)[];

export interface SourcePos {
  line: number;
  column: number;
}

export class PositionIndex {
  private readonly byPath = new Map<string, SourcePos>();

  /** Keeps the first position recorded for a path (the first `server` block, say). */
  record(path: RawPath, pos: SourcePos): void {
    const key = JSON.stringify(path);
    if (!this.byPath.has(key)) this.byPath.set(key, pos);
  }

  /** The position of `path`, or of its nearest ancestor that has one. */
  find(path: RawPath): SourcePos | undefined {
    for (let n = path.length; n > 0; n--) {
      const pos = this.byPath.get(JSON.stringify(path.slice(0, n)));
      if (pos !== undefined) return pos;
    }
    return undefined;
  }
}

/** A character cursor that tracks 1-based line and column. */
class Cursor {
  i = 0;
  line = 1;
  column = 1;

  constructor(readonly text: string) {}

  get done(): boolean {
    return this.i >= this.text.length;
  }

  peek(ahead = 0): string {
    return this.text[this.i + ahead] ?? '';
  }

  startsWith(s: string): boolean {
    return this.text.startsWith(s, this.i);
  }

  pos(): SourcePos {
    return { line: this.line, column: this.column };
  }

  advance(n = 1): void {
    for (let k = 0; k < n && this.i < this.text.length; k++) {
      if (this.text[this.i] === '\n') {
        this.line++;
        this.column = 1;
      } else {
        this.column++;
      }
      this.i++;
    }
  }
}

// ---------------------------------------------------------------------------------------
// HCL native syntax

type HclToken =
  | { kind: 'ident'; text: string; pos: SourcePos }
  | { kind: 'string'; text: string; pos: SourcePos }
  | { kind: 'newline'; pos: SourcePos }
  | { kind: 'punct'; text: string; pos: SourcePos }
  | { kind: 'other'; pos: SourcePos }
  | { kind: 'eof'; pos: SourcePos };

/** Splits HCL text into the few token kinds the structure scan needs. */
function tokenizeHcl(text: string): HclToken[] {
  const c = new Cursor(text);
  const out: HclToken[] = [];
  while (!c.done) {
    const ch = c.peek();
    const pos = c.pos();
    if (ch === '\n') {
      out.push({ kind: 'newline', pos });
      c.advance();
    } else if (ch === ' ' || ch === '\t' || ch === '\r') {
      c.advance();
    } else if (ch === '#' || c.startsWith('//')) {
      while (!c.done && c.peek() !== '\n') c.advance();
    } else if (c.startsWith('/*')) {
      c.advance(2);
      while (!c.done && !c.startsWith('*/')) c.advance();
      c.advance(2);
    } else if (ch === '"') {
      out.push({ kind: 'string', text: readQuoted(c), pos });
    } else if (c.startsWith('<<')) {
      skipHeredoc(c);
      out.push({ kind: 'other', pos });
    } else if (/[A-Za-z_]/.test(ch)) {
      let s = '';
      while (/[A-Za-z0-9_-]/.test(c.peek())) {
        s += c.peek();
        c.advance();
      }
      out.push({ kind: 'ident', text: s, pos });
    } else if ('{}[]()=,:'.includes(ch)) {
      out.push({ kind: 'punct', text: ch, pos });
      c.advance();
    } else {
      out.push({ kind: 'other', pos });
      c.advance();
    }
  }
  out.push({ kind: 'eof', pos: c.pos() });
  return out;
}

/** Reads a quoted string (cursor on the opening quote), skipping `${...}` templates. */
function readQuoted(c: Cursor): string {
  c.advance();
  let s = '';
  while (!c.done && c.peek() !== '"' && c.peek() !== '\n') {
    if (c.peek() === '\\') {
      s += unescape(c.peek(1));
      c.advance(2);
    } else if ((c.peek() === '$' || c.peek() === '%') && c.peek(1) === '{') {
      skipTemplate(c);
      s += '\u0000';
    } else {
      s += c.peek();
      c.advance();
    }
  }
  c.advance();
  return s;
}

function unescape(ch: string): string {
  switch (ch) {
    case 'n':
      return '\n';
    case 't':
      return '\t';
    case 'r':
      return '\r';
    default:
      return ch;
  }
}

/** Skips `${ ... }` (cursor on `$`), including nested braces and strings. */
function skipTemplate(c: Cursor): void {
  c.advance(2);
  let depth = 1;
  while (!c.done && depth > 0) {
    const ch = c.peek();
    if (ch === '"') {
      readQuoted(c);
      continue;
    }
    if (ch === '{') depth++;
    if (ch === '}') depth--;
    c.advance();
  }
}

/** Skips `<<EOF ... EOF` or `<<-EOF ... EOF` (cursor on `<<`). */
function skipHeredoc(c: Cursor): void {
  c.advance(2);
  if (c.peek() === '-') c.advance();
  let marker = '';
  while (/[A-Za-z0-9_-]/.test(c.peek())) {
    marker += c.peek();
    c.advance();
  }
  while (!c.done && c.peek() !== '\n') c.advance();
  while (!c.done) {
    c.advance(); // the newline ending the previous line
    const start = c.i;
    while (!c.done && c.peek() !== '\n') c.advance();
    if (c.text.slice(start, c.i).trim() === marker) return;
  }
}

/** Indexes the attributes and blocks of HCL text that hcl2json has already accepted. */
export function indexHclPositions(text: string): PositionIndex {
  const index = new PositionIndex();
  const toks = tokenizeHcl(text);
  let t = 0;
  const peek = (): HclToken => toks[t] ?? { kind: 'eof', pos: { line: 0, column: 0 } };

  const skipNewlines = (): void => {
    while (peek().kind === 'newline') t++;
  };

  // Skips an attribute's expression: up to a newline or an unmatched '}' at bracket depth 0.
  const skipExpression = (): void => {
    let depth = 0;
    for (;;) {
      const tok = peek();
      if (tok.kind === 'eof') return;
      if (tok.kind === 'newline' && depth === 0) return;
      if (tok.kind === 'punct') {
        if ('{[('.includes(tok.text)) depth++;
        if ('}])'.includes(tok.text)) {
          if (depth === 0) return;
          depth--;
        }
      }
      t++;
    }
  };

  const body = (prefix: RawPath): void => {
    const seen = new Map<string, number>();
    for (;;) {
      skipNewlines();
      const head = peek();
      if (head.kind === 'eof') return;
      if (head.kind === 'punct' && head.text === '}') {
        t++;
        return;
      }
      if (head.kind !== 'ident') {
        t++; // not a statement start; the real parser accepted the text, so just move on
        continue;
      }
      t++;
      const next = peek();
      if (next.kind === 'punct' && next.text === '=') {
        t++;
        index.record([...prefix, head.text], head.pos);
        skipExpression();
        continue;
      }
      const labels: string[] = [];
      while (peek().kind === 'string' || peek().kind === 'ident') {
        const label = peek() as { text: string };
        labels.push(label.text);
        t++;
      }
      const open = peek();
      if (!(open.kind === 'punct' && open.text === '{')) continue;
      t++;
      let path: (string | number)[] = [...prefix, head.text];
      index.record(path, head.pos);
      for (const label of labels) {
        path = [...path, label];
        index.record(path, head.pos);
      }
      const key = JSON.stringify(path);
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      const instance = [...path, n];
      index.record(instance, head.pos);
      body(instance);
    }
  };

  body([]);
  return index;
}

// ---------------------------------------------------------------------------------------
// JSON

/** Indexes the keys and array items of JSON text that JSON.parse has already accepted. */
export function indexJsonPositions(text: string): PositionIndex {
  const index = new PositionIndex();
  const c = new Cursor(text);

  const ws = (): void => {
    while (/\s/.test(c.peek()) && !c.done) c.advance();
  };

  const value = (path: RawPath): void => {
    ws();
    const ch = c.peek();
    if (ch === '{') {
      c.advance();
      for (;;) {
        ws();
        if (c.peek() === '}' || c.done) {
          c.advance();
          return;
        }
        if (c.peek() === ',') {
          c.advance();
          continue;
        }
        const pos = c.pos();
        const key = readJsonString(c);
        index.record([...path, key], pos);
        ws();
        c.advance(); // ':'
        value([...path, key]);
      }
    } else if (ch === '[') {
      c.advance();
      let n = 0;
      for (;;) {
        ws();
        if (c.peek() === ']' || c.done) {
          c.advance();
          return;
        }
        if (c.peek() === ',') {
          c.advance();
          continue;
        }
        index.record([...path, n], c.pos());
        value([...path, n]);
        n++;
      }
    } else if (ch === '"') {
      readJsonString(c);
    } else {
      while (!c.done && !/[\s,\]}]/.test(c.peek())) c.advance();
    }
  };

  value([]);
  return index;
}

function readJsonString(c: Cursor): string {
  const start = c.i;
  c.advance();
  while (!c.done && c.peek() !== '"') c.advance(c.peek() === '\\' ? 2 : 1);
  c.advance();
  return JSON.parse(c.text.slice(start, c.i)) as string;
}

/** Line and column of a character offset (V8's JSON.parse errors give offsets). */
export function positionOfOffset(text: string, offset: number): SourcePos {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return { line, column };
}
