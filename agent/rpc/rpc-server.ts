/**
 * The RPC listener on the RPC port: websocket connections from clients and other servers.
 * Handlers are registered by method name; each gets the caller's connection, on which the
 * server can later push (allocation updates to the client that owns them).
 */
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import type { TLSSocket, TlsOptions } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import { asYurtError, YurtError } from '../../structs/errors.js';
import { decodeFrame, encodeFrame, MAX_FRAME_BYTES, type Frame } from './rpc-protocol.js';
import { peerRole, type AgentRole } from '../tls/index.js';
import { rateLimitedError, TokenBucket, type RpcRateLimit } from './rpc-rate-limit.js';

/** Mutual TLS on the RPC port; peers are told apart by the role their certificate names. */
export interface RpcTls {
  options: TlsOptions;
  region: string;
}

export class RpcConnection {
  /** Set by handlers once the peer identified itself (e.g. a client's node ID). */
  nodeId: string | null = null;
  /** With mutual TLS, what the peer's certificate lets it be; null without TLS. */
  role: AgentRole | null = null;
  private closeHandlers: Array<() => void> = [];

  constructor(
    readonly id: number,
    private readonly ws: WebSocket,
    readonly remoteAddress: string,
  ) {
    ws.on('close', () => {
      for (const h of this.closeHandlers) h();
      this.closeHandlers = [];
    });
  }

  push(topic: string, data: unknown): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(encodeFrame({ t: 'push', topic, d: data }));
  }

  /** The peer is still connected (a reply sent now can reach it). */
  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  onClose(h: () => void): void {
    this.closeHandlers.push(h);
  }

  send(f: Frame): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(encodeFrame(f));
  }

  close(): void {
    this.ws.close();
  }
}

export type RpcHandler = (args: unknown, conn: RpcConnection) => unknown;

export interface RpcServerOptions {
  /** Requests per connection (limits.rpc_rate_limit / rpc_rate_burst). Default 1000/s, burst 2000. */
  rateLimit?: RpcRateLimit;
  nowMs?: () => number;
}

export const DEFAULT_RPC_RATE_LIMIT: RpcRateLimit = { ratePerSec: 1000, burst: 2000 };

/** How often one connection's rate limiting is logged, at most. */
const RATE_LIMIT_LOG_EVERY_MS = 10_000;

/** Takes over a websocket upgrade on another path of the RPC port (Raft uses `/raft`). */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export class RpcServer {
  private readonly handlers = new Map<string, RpcHandler>();
  private http: HttpServer | null = null;
  private wss: WebSocketServer | null = null;
  private nextConnId = 1;
  private readonly conns = new Set<RpcConnection>();
  private readonly upgrades = new Map<string, UpgradeHandler>();
  private tls: RpcTls | null = null;
  private readonly rateLimit: RpcRateLimit;
  private readonly nowMs: () => number;

  constructor(
    private readonly logger: Logger,
    opts: RpcServerOptions = {},
  ) {
    this.rateLimit = opts.rateLimit ?? DEFAULT_RPC_RATE_LIMIT;
    this.nowMs = opts.nowMs ?? Date.now;
  }

  /**
   * Routes upgrades on `path` elsewhere. Raft between servers rides on the RPC port, as in
   * Nomad, so a cluster needs one port open between servers and clients need no other.
   */
  route(path: string, h: UpgradeHandler): void {
    this.upgrades.set(path, h);
  }

  handle(method: string, h: RpcHandler): void {
    this.handlers.set(method, h);
  }

  async listen(host: string, port: number, tls?: RpcTls): Promise<AddressInfo> {
    const reply = (_req: IncomingMessage, res: ServerResponse): void => {
      res.statusCode = 426;
      res.end('yurt RPC: websocket upgrade required\n');
    };
    const http = tls ? createHttpsServer(tls.options, reply) : createServer(reply);
    this.tls = tls ?? null;
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
    wss.on('connection', (ws: WebSocket, req: IncomingMessage) => this.accept(ws, req.socket.remoteAddress ?? '', this.roleOf(req)));
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      if (this.tls) {
        // Raft is for servers only; RPC for servers and clients (a CLI certificate gets neither).
        const role = this.roleOf(req);
        const allowed = path === '/raft' ? role === 'server' : role === 'server' || role === 'client';
        if (!allowed) {
          this.logger.warn({ remote: req.socket.remoteAddress, path, role }, 'rpc: refused a peer whose certificate does not allow it');
          socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
          socket.destroy();
          return;
        }
      }
      const routed = this.upgrades.get(path);
      if (routed) routed(req, socket, head);
      else wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    this.http = http;
    this.wss = wss;
    return http.address() as AddressInfo;
  }

  /**
   * New certificates for connections accepted from now on (SIGHUP); open connections keep
   * theirs. Returns false when the listener does not speak TLS.
   */
  setSecureContext(options: TlsOptions): boolean {
    if (!(this.http instanceof HttpsServer)) return false;
    this.http.setSecureContext(options);
    return true;
  }

  connections(): Iterable<RpcConnection> {
    return this.conns;
  }

  private roleOf(req: IncomingMessage): AgentRole | null {
    return this.tls ? peerRole(req.socket as TLSSocket, this.tls.region) : null;
  }

  private accept(ws: WebSocket, remote: string, role: AgentRole | null): void {
    const conn = new RpcConnection(this.nextConnId++, ws, remote);
    conn.role = role;
    this.conns.add(conn);
    conn.onClose(() => this.conns.delete(conn));
    ws.on('error', (err) => this.logger.debug({ err, remote }, 'rpc connection error'));
    const bucket = new TokenBucket(this.rateLimit, this.nowMs);
    let limited = 0;
    let loggedAt = -Infinity;
    ws.on('message', (data: Buffer, isBinary) => {
      const frame = isBinary ? decodeFrame(data) : null;
      if (!frame || frame.t !== 'req') {
        this.logger.warn({ remote }, 'rpc: malformed frame; closing connection');
        ws.close(1002, 'malformed frame');
        return;
      }
      if (!bucket.take()) {
        // Answered, not dropped: the caller learns why at once instead of timing out.
        conn.send({ t: 'err', id: frame.id, e: rateLimitedError(this.rateLimit).toWire() });
        limited++;
        const now = this.nowMs();
        if (now - loggedAt >= RATE_LIMIT_LOG_EVERY_MS) {
          this.logger.warn({ remote, node: conn.nodeId, limited, method: frame.m }, 'rpc: connection over its request rate limit');
          loggedAt = now;
          limited = 0;
        }
        return;
      }
      void this.dispatch(conn, frame.id, frame.m, frame.a);
    });
  }

  private async dispatch(conn: RpcConnection, id: number, method: string, args: unknown): Promise<void> {
    const h = this.handlers.get(method);
    try {
      if (!h) throw new YurtError('not_found', `rpc: unknown method ${method}`);
      const r = await h(args, conn);
      conn.send({ t: 'res', id, r: r === undefined ? null : r });
    } catch (e) {
      const err = asYurtError(e);
      if (err.code === 'internal') this.logger.error({ err: e, method }, 'rpc handler failed');
      conn.send({ t: 'err', id, e: err.toWire() });
    }
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.close();
    this.wss?.close();
    await new Promise<void>((resolve) => (this.http ? this.http.close(() => resolve()) : resolve()));
    this.http?.closeAllConnections();
  }
}
