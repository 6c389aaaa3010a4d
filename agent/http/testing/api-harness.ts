/**
 * Test support for the HTTP API: a real single server (Raft + LMDB in a temp dir) with an
 * extra HttpApi on loopback whose options a test picks (a short event heartbeat, a small
 * event ring), a JSON caller, and a reader for NDJSON streams.
 */
import pino from 'pino';
import { HttpApi, type HttpApiOptions } from '../http-server.js';
import { startTestServer, type TestServer, type TestServerOptions } from '../../server/testing/test-server.js';

export interface ApiHarness {
  ts: TestServer;
  api: HttpApi;
  url: string;
  close(): Promise<void>;
}

export const TEST_HEARTBEAT = { minHeartbeatTtlMs: 5_000, heartbeatGraceMs: 5_000, maxHeartbeatsPerSecond: 50, failoverTtlMs: 10_000 };

export async function startApiHarness(opts: HttpApiOptions = {}, server: TestServerOptions = {}): Promise<ApiHarness> {
  const ts = await startTestServer({ heartbeat: TEST_HEARTBEAT, ...server });
  const api = new HttpApi(
    {
      server: ts.server,
      endpoints: ts.endpoints,
      client: null,
      region: 'global',
      datacenter: 'dc1',
      nodeName: 'server-1',
      version: 'test',
      members: () => [],
      config: () => ({}),
    },
    pino({ level: 'silent' }),
    [],
    opts,
  );
  const addr = await api.listen('127.0.0.1', 0);
  return {
    ts,
    api,
    url: `http://127.0.0.1:${addr.port}`,
    close: async () => {
      await api.close();
      await ts.stop();
    },
  };
}

export interface CallResult {
  status: number;
  /* eslint-disable-next-line @typescript-eslint/no-explicit-any -- Nomad's JSON, probed field by field in tests */
  json: any;
  text: string;
  headers: Headers;
}

/** One request; a string body is sent as is (for malformed JSON), anything else as JSON. */
export async function call(base: string, method: string, path: string, body?: unknown): Promise<CallResult> {
  const res = await fetch(`${base}${path}`, { method, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, json, text, headers: res.headers };
}

/** An open NDJSON stream: every parsed line so far, and a way to wait for more. */
export class NdjsonStream {
  readonly lines: unknown[] = [];
  private readonly ac = new AbortController();
  private waiters: Array<() => void> = [];
  private ended = false;
  status = 0;

  private constructor() {}

  static async open(url: string): Promise<NdjsonStream> {
    const s = new NdjsonStream();
    const res = await fetch(url, { signal: s.ac.signal });
    s.status = res.status;
    if (!res.body) throw new Error('no body');
    void s.pump(res.body);
    return s;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of body) {
        buf += decoder.decode(chunk, { stream: true });
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line !== '') this.lines.push(JSON.parse(line));
        }
        for (const w of this.waiters.splice(0)) w();
      }
    } catch {
      // Aborted by close().
    } finally {
      this.ended = true;
      for (const w of this.waiters.splice(0)) w();
    }
  }

  /** Resolve once `pred` holds for the lines read so far. */
  async waitUntil(pred: (lines: unknown[]) => boolean, timeoutMs = 10_000, what = 'stream condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.lines)) {
      if (this.ended) throw new Error(`stream ended before ${what}; got ${JSON.stringify(this.lines).slice(0, 2000)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.lines).slice(0, 2000)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.ac.abort();
  }
}
