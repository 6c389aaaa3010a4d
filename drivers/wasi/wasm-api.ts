/**
 * The parts of the JavaScript WebAssembly API the runner uses, typed here because the
 * project compiles without the DOM library (where TypeScript declares `WebAssembly`) and
 * @types/node 20 does not declare it either. The object is V8's own global.
 */

/** A compiled module (opaque). */
export interface WasmModule {
  readonly [Symbol.toStringTag]: string;
}

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

export type WasmExternKind = 'function' | 'table' | 'memory' | 'global' | 'tag';

export interface WasmImportDescriptor {
  module: string;
  name: string;
  kind: WasmExternKind;
}

export interface WasmExportDescriptor {
  name: string;
  kind: WasmExternKind;
}

export type WasmImports = Record<string, Record<string, unknown>>;

export interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  Module: {
    new (bytes: Uint8Array): WasmModule;
    imports(module: WasmModule): WasmImportDescriptor[];
    exports(module: WasmModule): WasmExportDescriptor[];
  };
  Instance: new (module: WasmModule, imports: WasmImports) => WasmInstance;
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
}

export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
