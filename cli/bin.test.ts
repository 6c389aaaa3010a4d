/** The real `yurt` executable (bin/yurt.js), as a user runs it, in a child process. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/yurt.js', import.meta.url));

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, YURT_FROM_SOURCE: '1', ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

void test('yurt version runs through bin/yurt.js', async () => {
  const r = await run(['version']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Yurt v\d+\.\d+\.\d+\n$/);
});

void test('no agent at the address: Nomad-like connection error and exit 1', async () => {
  const port = await closedPort();
  const r = await run(['status'], { YURT_ADDR: `http://127.0.0.1:${port}` });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `Error querying jobs: Get "http://127.0.0.1:${port}/v1/jobs": dial tcp 127.0.0.1:${port}: connect: connection refused\n`);
});
