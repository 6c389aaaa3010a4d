import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { YurtError } from '../../structs/errors.js';
import { REWRITTEN_MEMORY_IMPORT, prepareModuleBytes } from './module-memory.js';
import { wasm } from './wasm-api.js';
import { SectionId, encodeName, encodeUleb, readSections } from './wasm-sections.js';

const testdata = (name: string) => new Uint8Array(readFileSync(new URL(`./testdata/${name}`, import.meta.url)));

/** A module built from raw sections: [id, content bytes]. */
function moduleOf(...sections: [number, number[]][]): Uint8Array {
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...sections.flatMap(([id, body]) => [id, ...encodeUleb(body.length), ...body]),
  ]);
}
const vec = (...items: number[][]) => [...encodeUleb(items.length), ...items.flat()];
const memoryImport = (module: string, name: string, limits: number[]) => [...encodeName(module), ...encodeName(name), 0x02, ...limits];

function rejects(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => prepareModuleBytes(bytes),
    (e: unknown) => e instanceof YurtError && e.code === 'invalid_argument' && pattern.test(e.message),
  );
}

void describe('prepareModuleBytes (memory rewrite)', () => {
  void it('turns the defined memory of a clang-built command into an import of the same type', () => {
    const original = testdata('probe.wasm');
    const p = prepareModuleBytes(original);
    assert.deepEqual(p.memory, { ...REWRITTEN_MEMORY_IMPORT, limits: { initialPages: 2, maximumPages: null } });
    assert.equal(p.hasStartFunction, false);
    const ids = readSections(p.bytes).map((s) => s.id);
    assert.ok(!ids.includes(SectionId.memory), 'memory section dropped');
    const m = new wasm.Module(p.bytes);
    const memImports = wasm.Module.imports(m).filter((i) => i.kind === 'memory');
    assert.deepEqual(memImports, [{ module: 'yurt', name: 'memory', kind: 'memory' }]);
    // Everything else is unchanged: same function imports, same exports.
    const before = new wasm.Module(original);
    assert.deepEqual(
      wasm.Module.imports(m).filter((i) => i.kind === 'function'),
      wasm.Module.imports(before),
    );
    assert.deepEqual(wasm.Module.exports(m), wasm.Module.exports(before));
  });

  void it('inserts an import section where the module had none, in section order', () => {
    const p = prepareModuleBytes(testdata('big-initial.wasm'));
    assert.deepEqual(p.memory?.limits, { initialPages: 300, maximumPages: null });
    const ids = readSections(p.bytes).map((s) => s.id).filter((id) => id !== SectionId.custom);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), `sections in order: ${ids.join(',')}`);
    assert.ok(ids.includes(SectionId.import));
    // It compiles, and instantiates only with a memory given as yurt.memory.
    const m = new wasm.Module(p.bytes);
    assert.throws(() => new wasm.Instance(m, {}));
    const memory = new wasm.Memory({ initial: 300, maximum: 400 });
    const inst = new wasm.Instance(m, { yurt: { memory } });
    assert.equal(inst.exports['memory'], memory, 'the exported memory is the one passed in');
  });

  void it('keeps a declared maximum and leaves an imported memory as it is', () => {
    const withMax = moduleOf([SectionId.memory, vec([0x01, 2, 9])]);
    assert.deepEqual(prepareModuleBytes(withMax).memory?.limits, { initialPages: 2, maximumPages: 9 });

    const imported = testdata('imported-memory.wasm');
    const p = prepareModuleBytes(imported);
    assert.equal(p.bytes, imported, 'not rewritten');
    assert.deepEqual(p.memory, { module: 'env', name: 'memory', limits: { initialPages: 1, maximumPages: 10 } });
  });

  void it('reports a start function and a module without memory', () => {
    assert.equal(prepareModuleBytes(testdata('busy-start.wasm')).hasStartFunction, true);
    const p = prepareModuleBytes(testdata('busy.wasm'));
    assert.equal(p.memory, null);
    assert.equal(p.bytes.length, testdata('busy.wasm').length);
  });

  void it('the rewritten memory is capped by the maximum the host picks', () => {
    const p = prepareModuleBytes(moduleOf([SectionId.memory, vec([0x00, 1])]));
    const memory = new wasm.Memory({ initial: 1, maximum: 3 });
    new wasm.Instance(new wasm.Module(p.bytes), { yurt: { memory } });
    assert.equal(memory.grow(2), 1);
    assert.throws(() => memory.grow(1), RangeError);
  });

  void it('refuses what it cannot cap or run, saying why', () => {
    rejects(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), /magic/);
    rejects(Uint8Array.from([0, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]), /component.*preview 2/);
    rejects(Uint8Array.from([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0]), /version 2/);
    rejects(moduleOf([SectionId.memory, vec([0x03, 1, 2])]), /shared memories/);
    rejects(moduleOf([SectionId.memory, vec([0x04, 1])]), /memory64/);
    rejects(moduleOf([SectionId.memory, vec([0x00, 1], [0x00, 1])]), /more than one linear memory/);
    rejects(
      moduleOf([SectionId.import, vec(memoryImport('env', 'memory', [0x00, 1]))], [SectionId.memory, vec([0x00, 1])]),
      /more than one linear memory/,
    );
    rejects(moduleOf([SectionId.memory, vec([0x01, 5, 2])]), /maximum below/);
    rejects(moduleOf([SectionId.memory, vec([0x00, ...encodeUleb(70_000)])]), /larger than 4 GiB/);
    // Truncated: the section claims more bytes than the file has.
    rejects(Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 10, 1]), /runs past the end.*at byte 8/);
  });
});
