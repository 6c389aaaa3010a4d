/**
 * The control channel of the raft test server (consensus/testdata/raft-server.ts): a
 * websocket carrying msgpack frames, so a test or the benchmark can write, read, change
 * membership and inject faults in a server running in another process. A frame is an
 * array of requests (or of responses): what is issued during one turn of the event loop
 * travels together, so a thousand concurrent writes cost a few frames, not a thousand.
 */
import { Packr } from 'msgpackr';
import WebSocket from 'ws';
import type { WireError } from '../../structs/errors.js';
import { fromWire, YurtError } from '../../structs/errors.js';
import type { FaultRules } from '../transport/faulty-transport.js';

export type ControlRequest =
  | { op: 'put'; key: string; value: string; padTo?: number; timeoutMs?: number }
  | { op: 'get'; key: string; timeoutMs?: number }
  | { op: 'status' }
  | { op: 'faults'; rules: FaultRules }
  | { op: 'addVoter'; id: string; address: string }
  | { op: 'addNonVoter'; id: string; address: string }
  | { op: 'remove'; id: string }
  | { op: 'transfer'; to?: string }
  | { op: 'barrier' };

export interface ServerStatus {
  id: string;
  role: string;
  term: number;
  leaderId: string | null;
  commit: number;
  applied: number;
  firstIndex: number;
  lastIndex: number;
  lastSnapshotIndex: number;
  servers: Array<{ id: string; address: string; suffrage: string }>;
  stats: Record<string, string | number>;
  keys: number;
}

export const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/** One control connection to a test server. */
export class ControlClient {
  private seq = 0;
  private outbox: unknown[] = [];
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private closedError: Error | null = null;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => {
      const frame = packr.unpack(data as Buffer) as Array<{ seq: number; ok: boolean; result?: unknown; error?: WireError }>;
      for (const r of frame) {
        const w = this.waiting.get(r.seq);
        if (w === undefined) continue;
        this.waiting.delete(r.seq);
        clearTimeout(w.timer);
        if (r.ok) w.resolve(r.result);
        else w.reject(fromWire(r.error ?? { code: 'internal', message: 'no error given' }));
      }
    });
    ws.on('close', () => this.failAll(new YurtError('unavailable', 'control connection closed')));
    ws.on('error', () => undefined);
  }

  static async connect(address: string, timeoutMs = 5000): Promise<ControlClient> {
    const ws = new WebSocket(`ws://${address}/control`, { perMessageDeflate: false, generateMask: (mask) => mask.fill(0) });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        ws.terminate();
        reject(new YurtError('timeout', `control connection to ${address} not open within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.once('open', () => {
        clearTimeout(t);
        resolve();
      });
      ws.once('error', (e) => {
        clearTimeout(t);
        reject(new YurtError('unavailable', `cannot reach control ${address}: ${e.message}`));
      });
    });
    return new ControlClient(ws);
  }

  /** Sends a request; rejects with the server's typed error, or 'timeout' when the answer is late. */
  call<T = unknown>(req: ControlRequest, timeoutMs = 5000): Promise<T> {
    if (this.closedError !== null) return Promise.reject(this.closedError);
    const seq = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(seq);
        reject(new YurtError('timeout', `control ${req.op} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(seq, { resolve: resolve as (v: unknown) => void, reject, timer });
      // Each request carries its sequence number (`seq`: requests have an `id` field).
      this.outbox.push({ ...req, seq });
      if (this.outbox.length === 1) queueMicrotask(() => this.flush());
    });
  }

  close(): void {
    this.ws.terminate();
  }

  private flush(): void {
    const batch = this.outbox;
    this.outbox = [];
    if (batch.length > 0 && this.closedError === null) this.ws.send(packr.pack(batch));
  }

  private failAll(e: Error): void {
    this.closedError = e;
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(e);
    }
    this.waiting.clear();
  }
}
