/**
 * An RPC client over one websocket to one of several servers. When the connection drops it
 * reconnects with exponential backoff and jitter, moving on to the next server, so a client
 * fails over when a server dies. Calls made while disconnected wait for the next connection
 * (up to their timeout). `onConnect` handlers run after every (re)connection, which is where
 * subscriptions such as the allocation watch are re-established.
 */
import WebSocket from 'ws';
import type { Logger } from 'pino';
import { fromWire, YurtError } from '../../structs/errors.js';
import { decodeFrame, encodeFrame, MAX_FRAME_BYTES } from './rpc-protocol.js';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export interface RpcClientOptions {
  /** host:port of servers' RPC listeners. */
  servers: string[];
  logger: Logger;
  defaultTimeoutMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How often to ping the server; one unanswered interval later the connection is dropped. Default 5 s. */
  keepaliveMs?: number;
  /** Mutual TLS to the servers (wss): our certificate, their CA, the name they must carry. */
  tls?: WebSocket.ClientOptions;
}

export class RpcClient {
  private ws: WebSocket | null = null;
  private connected = false;
  private closed = false;
  private nextId = 1;
  private serverIdx = 0;
  private attempt = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly pushHandlers = new Map<string, (d: unknown) => void>();
  private readonly connectHandlers: Array<() => void> = [];
  private waitingForConn: Array<() => void> = [];
  private reconnectTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: RpcClientOptions) {
    if (opts.servers.length === 0) throw new YurtError('invalid_argument', 'rpc client needs at least one server address');
  }

  start(): void {
    this.connect();
  }

  isConnected(): boolean {
    return this.connected;
  }

  currentServer(): string {
    return this.opts.servers[this.serverIdx % this.opts.servers.length]!;
  }

  onPush(topic: string, h: (d: unknown) => void): void {
    this.pushHandlers.set(topic, h);
  }

  onConnect(h: () => void): void {
    this.connectHandlers.push(h);
  }

  private connect(): void {
    if (this.closed) return;
    const addr = this.currentServer();
    const tls = this.opts.tls;
    const ws = new WebSocket(`${tls ? 'wss' : 'ws'}://${addr}/`, { maxPayload: MAX_FRAME_BYTES, handshakeTimeout: 5000, ...tls });
    this.ws = ws;
    // A server cut off by a partition never closes the connection: ping it, and move to the
    // next server when it stops answering (a TCP connection alone can hang for minutes).
    let alive = true;
    const keepalive = setInterval(() => {
      if (!alive) {
        this.opts.logger.warn({ server: addr }, 'rpc server stopped answering pings; trying another');
        ws.terminate();
        return;
      }
      alive = false;
      if (ws.readyState === WebSocket.OPEN) ws.ping();
    }, this.opts.keepaliveMs ?? 5000);
    keepalive.unref();
    ws.on('pong', () => (alive = true));
    ws.on('message', () => (alive = true));
    ws.on('open', () => {
      this.connected = true;
      this.attempt = 0;
      this.opts.logger.debug({ server: addr }, 'rpc connected');
      const waiting = this.waitingForConn;
      this.waitingForConn = [];
      for (const w of waiting) w();
      for (const h of this.connectHandlers) h();
    });
    ws.on('message', (data: Buffer) => this.onFrame(data));
    ws.on('error', (err) => this.opts.logger.debug({ err, server: addr }, 'rpc connection error'));
    ws.on('close', () => {
      clearInterval(keepalive);
      const wasConnected = this.connected;
      this.connected = false;
      this.ws = null;
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new YurtError('unavailable', `rpc connection to ${addr} lost`));
        this.pending.delete(id);
      }
      if (this.closed) return;
      if (wasConnected) this.opts.logger.warn({ server: addr }, 'lost connection to server; reconnecting');
      this.serverIdx++;
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    const min = this.opts.minBackoffMs ?? 100;
    const max = this.opts.maxBackoffMs ?? 5000;
    const base = Math.min(max, min * 2 ** Math.min(this.attempt, 10));
    this.attempt++;
    // Full jitter: many clients reconnecting at once must not arrive in lockstep.
    const delay = Math.floor(base / 2 + Math.random() * (base / 2));
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private onFrame(data: Buffer): void {
    const f = decodeFrame(data);
    if (!f) return;
    switch (f.t) {
      case 'res': {
        const p = this.pending.get(f.id);
        if (!p) return;
        this.pending.delete(f.id);
        clearTimeout(p.timer);
        p.resolve(f.r);
        return;
      }
      case 'err': {
        const p = this.pending.get(f.id);
        if (!p) return;
        this.pending.delete(f.id);
        clearTimeout(p.timer);
        p.reject(fromWire(f.e));
        return;
      }
      case 'push':
        this.pushHandlers.get(f.topic)?.(f.d);
        return;
      case 'req':
        return;
    }
  }

  async call<T>(method: string, args: unknown, timeoutMs = this.opts.defaultTimeoutMs ?? 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    if (!this.connected) await this.waitConnected(timeoutMs);
    const ws = this.ws;
    if (!ws || !this.connected) throw new YurtError('unavailable', `no connection to any server (${this.opts.servers.join(', ')})`);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new YurtError('timeout', `rpc ${method} timed out after ${timeoutMs} ms`));
      }, Math.max(1, deadline - Date.now()));
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      ws.send(encodeFrame({ t: 'req', id, m: method, a: args }));
    });
  }

  private waitConnected(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waitingForConn = this.waitingForConn.filter((w) => w !== done);
        resolve();
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(t);
        resolve();
      };
      this.waitingForConn.push(done);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    for (const w of this.waitingForConn) w();
    this.waitingForConn = [];
    const ws = this.ws;
    if (ws && ws.readyState !== ws.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close();
      });
    }
  }
}
