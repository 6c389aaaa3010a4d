import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../structs/errors.js';
import { parseChecksum, parseWasiConfig, validateWasiConfig } from './wasi-config.js';

const SHA = 'a'.repeat(64);

void describe('wasi task config', () => {
  void it('accepts module, args and an artifact (object or HCL block list)', () => {
    assert.deepEqual(validateWasiConfig({ module: 'local/app.wasm' }), []);
    const artifact = { source: 'https://example.com/app.wasm', checksum: `sha256:${SHA.toUpperCase()}` };
    const parsed = parseWasiConfig({ module: 'local/app.wasm', args: ['-v', 'x y'], artifact: [artifact] }, 'task');
    assert.deepEqual(parsed, {
      module: 'local/app.wasm',
      args: ['-v', 'x y'],
      artifact: { source: artifact.source, checksum: { algorithm: 'sha256', hex: SHA } },
    });
    assert.deepEqual(parseWasiConfig({ module: 'a.wasm', artifact }, 'task').artifact?.checksum.algorithm, 'sha256');
  });

  void it('names every bad field with a clear message', () => {
    assert.deepEqual(validateWasiConfig({ args: ['ok', 3], command: 'x' }), [
      'config.command: unknown option (supported: module, args, artifact)',
      'config.module: must be a non-empty string: the .wasm file, relative to the task dir',
      'config.args[1]: must be a string',
    ]);
    assert.deepEqual(validateWasiConfig({ module: 'a.wasm', args: 'nope' }), ['config.args: must be a list of strings']);
    assert.deepEqual(validateWasiConfig({ module: 'a.wasm', artifact: { source: 'ftp://h/a.wasm', checksum: 'md5:abc', mode: 'x' } }), [
      'config.artifact.mode: unknown option (supported: source, checksum)',
      'config.artifact.source: scheme "ftp" is not supported (use https:// or http://)',
      'config.artifact.checksum: is required: "sha256:" followed by 64 hex digits (or "sha512:" and 128), so a changed download is refused',
    ]);
    assert.deepEqual(validateWasiConfig({ module: 'a.wasm', artifact: { source: 'not a url', checksum: `sha256:${SHA}` } }), [
      'config.artifact.source: "not a url" is not a valid URL',
    ]);
    assert.deepEqual(validateWasiConfig({ module: 'a.wasm', artifact: [{}, {}] }), [
      'config.artifact: exactly one artifact block is allowed, got 2',
    ]);
    assert.throws(
      () => parseWasiConfig({ module: '' }, 'task "t" config for driver wasi'),
      (e: unknown) => e instanceof ValidationError && e.errors[0]?.path === 'config.module' && /task "t"/.test(e.message),
    );
  });

  void it('parses checksums: algorithm and exact digest length', () => {
    assert.deepEqual(parseChecksum(`sha512:${'b'.repeat(128)}`), { algorithm: 'sha512', hex: 'b'.repeat(128) });
    assert.equal(parseChecksum(`sha256:${'a'.repeat(63)}`), null);
    assert.equal(parseChecksum(`sha1:${'a'.repeat(40)}`), null);
    assert.equal(parseChecksum(`sha256:${'g'.repeat(64)}`), null);
  });
});
