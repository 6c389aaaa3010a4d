/**
 * A structural scan of HCL source text: which bodies hold which attributes and blocks, in
 * what order, at which line and column, and whether an attribute's value is an object
 * constructor (`x = { ... }`).
 *
 * hcl2json (Go's real HCL2 parser, compiled to wasm) checks the syntax and evaluates the
 * values, but its JSON output loses exactly these facts: object keys come back sorted (so
 * groups and tasks lose their order), a block and a list of objects look alike, and nothing
 * carries a position. This scanner recovers them. It runs only on text hcl2json has already
 * accepted, so it can skip over expressions without understanding them: it tracks strings,
 * template interpolations, heredocs, comments and bracket depth, nothing more.
 */

export interface SrcPos {
  line: number;
  col: number;
}

export interface SrcAttr {
  kind: 'attr';
  name: string;
  pos: SrcPos;
  /** The value is written as an object constructor: `name = { ... }`. */
  objectCons: boolean;
}

export interface SrcBlock {
  kind: 'block';
  type: string;
  labels: string[];
  pos: SrcPos;
  body: SrcBody;
}

export interface SrcBody {
  items: Array<SrcAttr | SrcBlock>;
}

type TokenKind = 'ident' | 'string' | 'heredoc' | 'number' | 'punct' | 'newline' | 'eof';

interface Token {
  kind: TokenKind;
  text: string;
  pos: SrcPos;
}

/** Thrown when the text is not the HCL it was expected to be; never for valid HCL. */
export class ScanError extends Error {
  constructor(
    message: string,
    readonly pos: SrcPos,
  ) {
    super(`${message} at line ${pos.line}, column ${pos.col}`);
    this.name = 'ScanError';
  }
}

export function scanHCL(src: string): SrcBody {
  return new Scanner(src).file();
}

class Scanner {
  private i = 0;
  private line = 1;
  private col = 1;
  private pushedBack: Token | undefined;

  constructor(private readonly src: string) {
    if (src.startsWith('\ufeff')) this.i = 1;
  }

  file(): SrcBody {
    const body = this.body(false);
    return body;
  }

  private body(nested: boolean): SrcBody {
    const items: SrcBody['items'] = [];
    for (;;) {
      const t = this.next();
      if (t.kind === 'newline') continue;
      if (t.kind === 'eof') {
        if (nested) throw new ScanError('unexpected end of file inside a block', t.pos);
        return { items };
      }
      if (t.kind === 'punct' && t.text === '}' && nested) return { items };
      if (t.kind !== 'ident') throw new ScanError(`unexpected ${JSON.stringify(t.text)}`, t.pos);

      const after = this.next();
      if (after.kind === 'punct' && after.text === '=') {
        const first = this.next();
        items.push({ kind: 'attr', name: t.text, pos: t.pos, objectCons: first.kind === 'punct' && first.text === '{' });
        this.skipExpression(first);
        continue;
      }
      const labels: string[] = [];
      let tok = after;
      while (tok.kind === 'string' || tok.kind === 'ident') {
        labels.push(tok.kind === 'string' ? decodeQuoted(tok.text) : tok.text);
        tok = this.next();
      }
      if (!(tok.kind === 'punct' && tok.text === '{')) {
        throw new ScanError(`expected "=" or "{" after ${JSON.stringify(t.text)}`, tok.pos);
      }
      items.push({ kind: 'block', type: t.text, labels, pos: t.pos, body: this.body(true) });
    }
  }

  /**
   * Skip one attribute value, starting at its first token: it ends at a newline outside
   * brackets, or just before the `}` that closes a one-line block (`port "db" { to = 1 }`).
   */
  private skipExpression(first: Token): void {
    let depth = 0;
    let t = first;
    for (;;) {
      if (t.kind === 'eof') return;
      if (t.kind === 'newline' && depth === 0) return;
      if (t.kind === 'punct') {
        if (t.text === '(' || t.text === '[' || t.text === '{') depth++;
        else if (t.text === ')' || t.text === ']' || t.text === '}') {
          if (depth === 0) {
            this.pushedBack = t;
            return;
          }
          depth--;
        }
      }
      t = this.next();
    }
  }

  private next(): Token {
    if (this.pushedBack !== undefined) {
      const t = this.pushedBack;
      this.pushedBack = undefined;
      return t;
    }
    for (;;) {
      const c = this.src[this.i];
      if (c === undefined) return { kind: 'eof', text: '', pos: this.pos() };
      if (c === ' ' || c === '\t' || c === '\r') {
        this.advance(1);
        continue;
      }
      if (c === '#' || (c === '/' && this.src[this.i + 1] === '/')) {
        while (this.i < this.src.length && this.src[this.i] !== '\n') this.advance(1);
        continue;
      }
      if (c === '/' && this.src[this.i + 1] === '*') {
        const start = this.pos();
        const end = this.src.indexOf('*/', this.i + 2);
        const stop = end === -1 ? this.src.length : end + 2;
        const hadNewline = this.src.slice(this.i, stop).includes('\n');
        this.advanceTo(stop);
        // A comment spanning lines separates arguments the way a newline does.
        if (hadNewline) return { kind: 'newline', text: '\n', pos: start };
        continue;
      }
      const pos = this.pos();
      const startIdx = this.i;
      if (c === '\n') {
        this.advance(1);
        return { kind: 'newline', text: '\n', pos };
      }
      if (c === '"') {
        this.skipQuoted();
        return { kind: 'string', text: this.src.slice(startIdx, this.i), pos };
      }
      if (c === '<' && this.src[this.i + 1] === '<') {
        this.skipHeredoc();
        return { kind: 'heredoc', text: this.src.slice(startIdx, this.i), pos };
      }
      const ident = /^[\p{L}_][\p{L}\p{N}_-]*/u.exec(this.src.slice(this.i, this.i + 256));
      if (ident !== null) {
        this.advance(ident[0].length);
        return { kind: 'ident', text: ident[0], pos };
      }
      const num = /^\d+(\.\d+)?([eE][+-]?\d+)?/.exec(this.src.slice(this.i, this.i + 64));
      if (num !== null) {
        this.advance(num[0].length);
        return { kind: 'number', text: num[0], pos };
      }
      this.advance(1);
      return { kind: 'punct', text: c, pos };
    }
  }

  /** Skip a quoted template string, including `${ ... }` interpolations with nested strings. */
  private skipQuoted(): void {
    this.advance(1); // opening quote
    while (this.i < this.src.length) {
      const c = this.src[this.i];
      if (c === '\\') {
        this.advance(2);
      } else if ((c === '$' || c === '%') && this.src[this.i + 1] === c && this.src[this.i + 2] === '{') {
        this.advance(3); // $${ and %%{ are escapes for a literal ${ or %{
      } else if ((c === '$' || c === '%') && this.src[this.i + 1] === '{') {
        this.advance(2);
        this.skipTemplateSequence();
      } else if (c === '"') {
        this.advance(1);
        return;
      } else if (c === '\n') {
        return; // not valid HCL; hcl2json has rejected it already
      } else {
        this.advance(1);
      }
    }
  }

  /** Skip the inside of `${ ... }` or `%{ ... }` up to and including its closing brace. */
  private skipTemplateSequence(): void {
    let depth = 1;
    while (this.i < this.src.length) {
      const c = this.src[this.i];
      if (c === '"') {
        this.skipQuoted();
        continue;
      }
      if (c === '{') depth++;
      else if (c === '}') {
        depth--;
        if (depth === 0) {
          this.advance(1);
          return;
        }
      }
      this.advance(1);
    }
  }

  /** Skip `<<EOT` / `<<-EOT`, its lines, and the closing marker line (not its newline). */
  private skipHeredoc(): void {
    const m = /^<<-?([\p{L}_][\p{L}\p{N}_-]*)[ \t]*\r?\n/u.exec(this.src.slice(this.i, this.i + 300));
    if (m === null) throw new ScanError('malformed heredoc', this.pos());
    const marker = m[1] ?? '';
    this.advance(m[0].length);
    while (this.i < this.src.length) {
      let end = this.src.indexOf('\n', this.i);
      if (end === -1) end = this.src.length;
      const line = this.src.slice(this.i, end).replace(/\r$/, '');
      if (line.trim() === marker) {
        this.advanceTo(end);
        return;
      }
      this.advanceTo(Math.min(end + 1, this.src.length));
    }
  }

  private pos(): SrcPos {
    return { line: this.line, col: this.col };
  }

  private advance(n: number): void {
    this.advanceTo(Math.min(this.i + n, this.src.length));
  }

  private advanceTo(stop: number): void {
    while (this.i < stop) {
      const code = this.src.charCodeAt(this.i);
      if (code === 10) {
        this.line++;
        this.col = 1;
      } else if (code < 0xdc00 || code > 0xdfff) {
        // The low half of a surrogate pair does not start a new column.
        this.col++;
      }
      this.i++;
    }
  }
}

/** Decode a quoted HCL string without interpolations (a block label) to its value. */
export function decodeQuoted(raw: string): string {
  const inner = raw.slice(1, raw.endsWith('"') && raw.length > 1 ? -1 : undefined);
  return inner.replace(/\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g, (_m, e: string) => {
    switch (e[0]) {
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'u':
      case 'U':
        return String.fromCodePoint(parseInt(e.slice(1), 16));
      default:
        return e;
    }
  });
}
