import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { YurtError } from '../../structs/errors.js';
import { fetchArtifact } from './artifact-fetch.js';

const body = Buffer.from('\0asm pretend module bytes '.repeat(100));
const sha256 = createHash('sha256').update(body).digest('hex');
let server: Server;
let base = '';
let requests = 0;
let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yurt-artifact-'));
  server = createServer((req, res) => {
    requests++;
    if (req.url === '/app.wasm') {
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    } else if (req.url === '/private') {
      const ok = req.headers.authorization === `Basic ${Buffer.from('user:p@ss').toString('base64')}`;
      res.writeHead(ok ? 200 : 401);
      res.end(ok ? body : undefined);
    } else if (req.url === '/moved') {
      res.writeHead(302, { location: '/app.wasm' });
      res.end();
    } else if (req.url === '/broken') {
      res.writeHead(500);
      res.end('oops');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

const isError = (code: string, pattern: RegExp) => (e: unknown) =>
  e instanceof YurtError && e.code === code && pattern.test(e.message);

void describe('fetchArtifact', () => {
  void it('downloads, verifies the checksum, and does not download again what is already there', async () => {
    const dest = join(dir, 'a', 'local', 'app.wasm');
    const before = requests;
    assert.equal(await fetchArtifact({ source: `${base}/moved`, checksum: { algorithm: 'sha256', hex: sha256 } }, dest), 'downloaded');
    assert.deepEqual(await readFile(dest), body);
    assert.equal(requests - before, 2, 'the redirect was followed');
    assert.equal(await fetchArtifact({ source: `${base}/app.wasm`, checksum: { algorithm: 'sha256', hex: sha256 } }, dest), 'present');
    assert.equal(requests - before, 2, 'no request for a file that already matches');
  });

  void it('sends credentials in the URL as Basic authorization', async () => {
    const checksum = { algorithm: 'sha256' as const, hex: sha256 };
    const dest = join(dir, 'private.wasm');
    assert.equal(await fetchArtifact({ source: base.replace('http://', 'http://user:p%40ss@') + '/private', checksum }, dest), 'downloaded');
    await assert.rejects(
      fetchArtifact({ source: base.replace('http://', 'http://user:wrong@') + '/private', checksum }, join(dir, 'e')),
      (e: unknown) => isError('invalid_argument', /HTTP 401/)(e) && !(e as Error).message.includes('wrong'),
    );
  });

  void it('refuses a download whose checksum does not match and leaves nothing behind', async () => {
    const dest = join(dir, 'b', 'app.wasm');
    await assert.rejects(
      fetchArtifact({ source: `${base}/app.wasm`, checksum: { algorithm: 'sha256', hex: '0'.repeat(64) } }, dest),
      isError('invalid_argument', new RegExp(`checksum mismatch: expected sha256:0{64}, downloaded ${body.length} bytes with sha256:${sha256}`)),
    );
    assert.deepEqual(await readdir(join(dir, 'b')), []);
  });

  void it('replaces a file at the destination that has other bytes', async () => {
    const dest = join(dir, 'c.wasm');
    await writeFile(dest, 'old');
    assert.equal(await fetchArtifact({ source: `${base}/app.wasm`, checksum: { algorithm: 'sha256', hex: sha256 } }, dest), 'downloaded');
    assert.deepEqual(await readFile(dest), body);
  });

  void it('reports HTTP errors, size limits and unreachable servers clearly', async () => {
    const checksum = { algorithm: 'sha256' as const, hex: sha256 };
    await assert.rejects(fetchArtifact({ source: `${base}/missing`, checksum }, join(dir, 'd')), isError('invalid_argument', /HTTP 404/));
    await assert.rejects(fetchArtifact({ source: `${base}/broken`, checksum }, join(dir, 'd')), isError('unavailable', /HTTP 500/));
    await assert.rejects(
      fetchArtifact({ source: `${base}/app.wasm`, checksum }, join(dir, 'd'), { timeoutMs: 5000, maxBytes: 100 }),
      isError('invalid_argument', /more than the limit of 100/),
    );
    // A port nothing listens on (the server's, once closed).
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await assert.rejects(
      fetchArtifact({ source: `http://user:secret@127.0.0.1:${port}/app.wasm`, checksum }, join(dir, 'd')),
      (e: unknown) => isError('unavailable', /download failed/)(e) && !(e as Error).message.includes('secret'),
    );
  });
});
