/**
 * Reading the outer structure of a WebAssembly binary: the header and the list of sections,
 * and the LEB128 integers they are made of. Format: WebAssembly Core Specification 2.0,
 * chapter 5 ("Binary Format"), §5.5.2 (sections) and §5.2.2 (integers).
 *
 * Only what the driver needs to find and rewrite the memory declaration is decoded; code is
 * never looked at (V8 validates it when it compiles the module).
 */
import { YurtError } from '../../structs/errors.js';

export const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** Section ids of the core format (§5.5.2). */
export const SectionId = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
  tag: 13,
} as const;

export interface Section {
  id: number;
  /** Offset of the section's id byte in the module. */
  start: number;
  /** Offset of the section's content (after the id and size). */
  contentStart: number;
  /** Offset just after the section. */
  end: number;
}

/** A malformed or unsupported module: a user error, naming the byte offset. */
export function badModule(message: string, offset?: number): YurtError {
  const at = offset === undefined ? '' : ` (at byte ${offset})`;
  return new YurtError('invalid_argument', `not a usable WebAssembly module: ${message}${at}`);
}

/** A cursor over the module's bytes. Every read checks bounds and throws `badModule`. */
export class ByteReader {
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  byte(): number {
    if (this.pos >= this.end) throw badModule('unexpected end of section', this.pos);
    return this.bytes[this.pos++] as number;
  }

  /** Unsigned LEB128 of at most `bits` bits (§5.2.2). */
  uleb(bits: 32 | 64 = 32): number {
    const at = this.pos;
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) break;
      if (shift >= BigInt(bits)) throw badModule(`integer longer than ${bits} bits`, at);
    }
    if (result >= 1n << BigInt(bits)) throw badModule(`integer does not fit in ${bits} bits`, at);
    if (result > BigInt(Number.MAX_SAFE_INTEGER)) throw badModule('integer too large', at);
    return Number(result);
  }

  /** Signed LEB128 of at most 33 bits, as heap types use (GC proposal); only skipped. */
  skipSleb(): void {
    for (let n = 0; n < 5; n++) if ((this.byte() & 0x80) === 0) return;
    throw badModule('signed integer longer than 33 bits', this.pos);
  }

  /** A name (§5.2.4): length-prefixed UTF-8. */
  name(): string {
    const len = this.uleb();
    if (this.pos + len > this.end) throw badModule('name runs past the end of its section', this.pos);
    const text = new TextDecoder('utf-8', { fatal: false }).decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return text;
  }
}

/**
 * The header and the sections of a core module. Components (the component model's binaries,
 * which WASI preview 2 uses) share the magic but have a different version/layer field.
 */
export function readSections(bytes: Uint8Array): Section[] {
  if (bytes.length < 8 || WASM_MAGIC.some((b, i) => bytes[i] !== b)) {
    throw badModule('the file does not start with the WebAssembly magic "\\0asm"');
  }
  const version = (bytes[4] as number) | ((bytes[5] as number) << 8);
  const layer = (bytes[6] as number) | ((bytes[7] as number) << 8);
  if (layer === 1) {
    throw badModule('this is a WebAssembly component (WASI preview 2); the wasi driver runs core modules (WASI preview 1)');
  }
  if (version !== 1 || layer !== 0) throw badModule(`unsupported binary version ${version}`, 4);
  const sections: Section[] = [];
  const r = new ByteReader(bytes, 8);
  while (!r.done) {
    const start = r.pos;
    const id = r.byte();
    const size = r.uleb();
    const contentStart = r.pos;
    const end = contentStart + size;
    if (end > bytes.length) throw badModule(`section ${id} runs past the end of the file`, start);
    sections.push({ id, start, contentStart, end });
    r.pos = end;
  }
  return sections;
}

/** Unsigned LEB128 encoding of a 32-bit value. */
export function encodeUleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

/** A name as the binary format writes it. */
export function encodeName(name: string): number[] {
  const utf8 = new TextEncoder().encode(name);
  return [...encodeUleb(utf8.length), ...utf8];
}
