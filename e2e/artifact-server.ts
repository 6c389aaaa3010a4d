/**
 * A small HTTP server on the host, bound to the test network's gateway address, from which
 * jobs download artifacts (the WASI module). Only the cluster's containers can reach it.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class ArtifactServer {
  private readonly files = new Map<string, Buffer>();
  private server: Server | null = null;
  private base = '';

  /** Publishes `body` at /name; returns its URL and `sha256:<hex>` checksum. */
  add(name: string, body: Buffer): { url: string; checksum: string } {
    this.files.set(`/${name}`, body);
    return { url: `${this.base}/${name}`, checksum: `sha256:${createHash('sha256').update(body).digest('hex')}` };
  }

  async listen(host: string): Promise<void> {
    const server = createServer((req, res) => {
      const body = this.files.get(req.url ?? '');
      if (!body) {
        res.writeHead(404).end('not found\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, resolve);
    });
    this.server = server;
    this.base = `http://${host}:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
