import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exitResult } from './exit-status.js';

void describe('container exit → ExitResult', () => {
  void it('reports a signal only when the driver sent it or the OOM killer struck', () => {
    assert.deepEqual(exitResult({ ExitCode: 0, OOMKilled: false }, new Set()), { exitCode: 0, signal: 0, oomKilled: false });
    // A program that exits 137 on its own was not killed.
    assert.deepEqual(exitResult({ ExitCode: 137, OOMKilled: false }, new Set()), { exitCode: 137, signal: 0, oomKilled: false });
    assert.deepEqual(exitResult({ ExitCode: 137, OOMKilled: false }, new Set([15, 9])), { exitCode: 137, signal: 9, oomKilled: false });
    assert.deepEqual(exitResult({ ExitCode: 143, OOMKilled: false }, new Set([15])), { exitCode: 143, signal: 15, oomKilled: false });
    assert.deepEqual(exitResult({ ExitCode: 137, OOMKilled: true }, new Set()), { exitCode: 137, signal: 9, oomKilled: true });
    assert.deepEqual(exitResult({ ExitCode: 3, OOMKilled: false }, new Set([15])), { exitCode: 3, signal: 0, oomKilled: false });
  });

  void it('carries the engine error', () => {
    assert.deepEqual(exitResult({ ExitCode: 127, OOMKilled: false, Error: 'exec: "nope": not found' }, new Set()), {
      exitCode: 127, signal: 0, oomKilled: false, err: 'exec: "nope": not found',
    });
  });
});
