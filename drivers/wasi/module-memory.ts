/**
 * How the task's memory limit reaches a module's linear memory.
 *
 * A module either defines its memory (the usual case: clang and rustc emit a memory section
 * with an initial size and often no maximum) or imports it. An imported memory is created
 * by the host, so the host chooses its maximum; `memory.grow` beyond that maximum returns -1
 * (Core Specification §4.4.7), which is how the cap is enforced. So before compiling, a
 * defined memory is turned into an import of the same type: the memory section is dropped
 * and an import `"yurt" "memory"` is appended to the import section. Memory index 0 then
 * names the import (imports come first in the index space, §2.5.1), so exports, data
 * segments and instructions need no change.
 *
 * The rewritten module does not depend on the limit, so one compiled copy serves tasks
 * with any memory size: each instance gets its own `WebAssembly.Memory` whose maximum is the
 * smaller of the module's declared maximum and the task's limit.
 *
 * Why not V8's `--wasm-max-mem-pages`: it is a process-wide flag fixed at launch, which would
 * need a differently launched runner process per memory size (no warm pool); setting it at
 * run time through `v8.setFlagsFromString` crashed V8 on this platform.
 */
import { ByteReader, SectionId, badModule, encodeName, encodeUleb, readSections, type Section } from './wasm-sections.js';

/** 64 KiB, the page size of a linear memory (§2.5.1, no custom page sizes). */
export const WASM_PAGE_BYTES = 65_536;
/** The most pages a 32-bit memory can have: 4 GiB. */
export const MAX_WASM32_PAGES = 65_536;

export const REWRITTEN_MEMORY_IMPORT = { module: 'yurt', name: 'memory' } as const;

export interface MemoryLimits {
  initialPages: number;
  /** Declared maximum, null when the module sets none. */
  maximumPages: number | null;
}

/** The memory the host must provide when it instantiates the (prepared) module. */
export interface MemoryImport {
  module: string;
  name: string;
  limits: MemoryLimits;
}

export interface PreparedBytes {
  /** The module to compile: the input, or a rewrite of it. */
  bytes: Uint8Array;
  /** The imported memory (original or rewritten), null for a module without memory. */
  memory: MemoryImport | null;
  /** Whether the module has a start function, which runs during instantiation (§4.5.4). */
  hasStartFunction: boolean;
}

interface ParsedImports {
  /** Number of entries and the byte range of the entries (after the count). */
  count: number;
  entriesStart: number;
  entriesEnd: number;
  memories: MemoryImport[];
}

/** Inspect a module's memory and, when it defines one, rewrite it into an import. */
export function prepareModuleBytes(bytes: Uint8Array): PreparedBytes {
  const sections = readSections(bytes);
  const importSection = sections.find((s) => s.id === SectionId.import);
  const memorySection = sections.find((s) => s.id === SectionId.memory);
  const hasStartFunction = sections.some((s) => s.id === SectionId.start);
  const imports = importSection === undefined ? null : readImports(bytes, importSection);
  const defined = memorySection === undefined ? [] : readMemorySection(bytes, memorySection);
  const importedMemories = imports?.memories ?? [];
  if (importedMemories.length + defined.length > 1) {
    throw badModule('the module has more than one linear memory (multi-memory is not supported)');
  }
  const imported = importedMemories[0];
  if (imported !== undefined) return { bytes, memory: imported, hasStartFunction };
  const limits = defined[0];
  if (limits === undefined) return { bytes, memory: null, hasStartFunction };

  const memory: MemoryImport = { ...REWRITTEN_MEMORY_IMPORT, limits };
  const entry = [...encodeName(memory.module), ...encodeName(memory.name), 0x02, ...encodeLimits(limits)];
  const newImports =
    imports === null
      ? [...encodeUleb(1), ...entry]
      : [...encodeUleb(imports.count + 1), ...bytes.subarray(imports.entriesStart, imports.entriesEnd), ...entry];
  const importSectionBytes = [SectionId.import, ...encodeUleb(newImports.length), ...newImports];

  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let inserted = false;
  for (const s of sections) {
    if (!inserted && importSection === undefined && s.id !== SectionId.custom && s.id !== SectionId.type) {
      // Known sections must appear in order (§5.5.2): the import section goes right after
      // the type section, i.e. before the first known section other than it.
      parts.push(Uint8Array.from(importSectionBytes));
      inserted = true;
    }
    if (s === importSection) {
      parts.push(Uint8Array.from(importSectionBytes));
      inserted = true;
    } else if (s !== memorySection) {
      parts.push(bytes.subarray(s.start, s.end));
    }
  }
  if (!inserted) parts.push(Uint8Array.from(importSectionBytes));
  return { bytes: concat(parts), memory, hasStartFunction };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function encodeLimits(l: MemoryLimits): number[] {
  return l.maximumPages === null
    ? [0x00, ...encodeUleb(l.initialPages)]
    : [0x01, ...encodeUleb(l.initialPages), ...encodeUleb(l.maximumPages)];
}

/**
 * Memory limits (§5.3.7, plus the flag bits of the threads and memory64 proposals):
 * bit 0 has-maximum, bit 1 shared, bit 2 64-bit, bit 3 custom page size.
 */
function readMemoryLimits(r: ByteReader): MemoryLimits {
  const at = r.pos;
  const flags = r.byte();
  if (flags > 0x0f) throw badModule(`unknown memory limits flags 0x${flags.toString(16)}`, at);
  if ((flags & 0x04) !== 0) throw badModule('64-bit memories (memory64) are not supported', at);
  if ((flags & 0x02) !== 0) throw badModule('shared memories (threads) are not supported by WASI preview 1 here', at);
  if ((flags & 0x08) !== 0) throw badModule('custom memory page sizes are not supported', at);
  const initialPages = r.uleb();
  const maximumPages = (flags & 0x01) !== 0 ? r.uleb() : null;
  if (initialPages > MAX_WASM32_PAGES || (maximumPages !== null && maximumPages > MAX_WASM32_PAGES)) {
    throw badModule('memory larger than 4 GiB', at);
  }
  if (maximumPages !== null && maximumPages < initialPages) throw badModule('memory maximum below its initial size', at);
  return { initialPages, maximumPages };
}

function readMemorySection(bytes: Uint8Array, s: Section): MemoryLimits[] {
  const r = new ByteReader(bytes, s.contentStart, s.end);
  const count = r.uleb();
  const out: MemoryLimits[] = [];
  for (let i = 0; i < count; i++) out.push(readMemoryLimits(r));
  return out;
}

/** A value or reference type: one byte, or a (nullable) reference with a heap type (GC proposal). */
function skipValType(r: ByteReader): void {
  const b = r.byte();
  if (b === 0x63 || b === 0x64) r.skipSleb();
}

function skipTableLimits(r: ByteReader): void {
  const at = r.pos;
  const flags = r.byte();
  if (flags > 0x07) throw badModule(`unknown table limits flags 0x${flags.toString(16)}`, at);
  const bits = (flags & 0x04) !== 0 ? 64 : 32;
  r.uleb(bits);
  if ((flags & 0x01) !== 0) r.uleb(bits);
}

/** The import section (§5.5.5): finds imported memories and where the entries end. */
function readImports(bytes: Uint8Array, s: Section): ParsedImports {
  const r = new ByteReader(bytes, s.contentStart, s.end);
  const count = r.uleb();
  const entriesStart = r.pos;
  const memories: MemoryImport[] = [];
  for (let i = 0; i < count; i++) {
    const module = r.name();
    const name = r.name();
    const at = r.pos;
    const kind = r.byte();
    switch (kind) {
      case 0x00: // function: type index
        r.uleb();
        break;
      case 0x01: // table: reference type, limits
        skipValType(r);
        skipTableLimits(r);
        break;
      case 0x02:
        memories.push({ module, name, limits: readMemoryLimits(r) });
        break;
      case 0x03: // global: value type, mutability
        skipValType(r);
        r.byte();
        break;
      case 0x04: // tag (exception handling): attribute, type index
        r.byte();
        r.uleb();
        break;
      default:
        throw badModule(`unknown import kind 0x${kind.toString(16)} for ${module}.${name}`, at);
    }
  }
  if (r.pos !== s.end) throw badModule('the import section has trailing bytes', r.pos);
  return { count, entriesStart, entriesEnd: s.end, memories };
}
