import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirLock } from './data-dir-lock.js';

void test('a second agent on the same data dir is refused; a stale lock is taken over', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'yurt-lock-'));
  // Another live node process owns it.
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  try {
    writeFileSync(join(dir, 'agent.lock'), `${other.pid}\n`);
    await assert.rejects(() => DataDirLock.acquire(dir), (e: Error) => e.message.includes(`in use by another yurt agent (pid ${other.pid})`));
  } finally {
    other.kill('SIGKILL');
  }
  await new Promise((r) => other.once('exit', r));
  // Its owner is gone (kill -9): the lock is stale.
  const lock = await DataDirLock.acquire(dir);
  // A lock naming our own pid is ours (a container restarted with the same pid).
  const same = await DataDirLock.acquire(dir);
  await same.release();
  await lock.release();
  const again = await DataDirLock.acquire(dir);
  await again.release();
});
