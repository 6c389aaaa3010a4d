/**
 * Raft messages between servers over websockets. Every server listens on its raft address
 * (`/raft`) and dials each peer it sends to: a connection carries messages one way, from
 * dialer to listener, as etcd's raft streams do, so there is no race over who dials whom.
 * The dialer says who it is and where it listens (`?from=ID&addr=HOST:PORT`); that lets a
 * new server, which knows no configuration yet, answer the leader that contacts it.
 *
 * Frames are msgpack arrays of messages: all messages queued for a peer during one turn of
 * the event loop travel in one frame. msgpack because it carries entry bytes as binary:
 * measured (bench/raft/codec.ts) about 3x faster to encode+decode than JSON for appends
 * carrying entries and 25% smaller, since JSON would need base64.
 *
 * Delivery is best effort, which Raft tolerates: while a peer is unreachable its messages
 * are dropped (a few are kept while connecting) and the link redials with exponential
 * backoff and jitter. A peer whose socket buffer exceeds `maxQueueBytes` has messages
 * dropped rather than buffered without bound.
 *
 * TLS: with `tls`, the listener is HTTPS (wss) and dialers verify it against `tls.ca`;
 * with `requireClientCert` (the default when a CA is given) listeners also demand a
 * client certificate from that CA. Binding a certificate to a server id is not done here.
 */
import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Packr } from 'msgpackr';
import WebSocket, { WebSocketServer } from 'ws';
import type { Message } from '../core/messages.js';
import type { Transport } from './transport.js';
import { YurtError } from '../../structs/errors.js';

export interface TlsOptions {
  /** PEM CA bundle that peers' certificates must chain to. */
  ca?: string | Buffer;
  /** PEM certificate and key this server presents, as listener and as dialer. */
  cert: string | Buffer;
  key: string | Buffer;
  /** Demand a client certificate from dialers (mutual TLS); default: true when `ca` is set. */
  requireClientCert?: boolean;
}

export interface TransportLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface WsTransportOptions {
  id: string;
  /** host:port where peers reach this server; sent to them when dialing. */
  address: string;
  /** Where to listen; default: `address`. Port 0 picks a free port (see `listenAddress()`). */
  listen?: { host: string; port: number };
  tls?: TlsOptions;
  logger?: TransportLogger;
  /** Redial delays: doubling from minMs to maxMs, with jitter. Default 50 ms .. 2 s. */
  backoff?: { minMs: number; maxMs: number };
  /** Bytes a peer's socket may buffer before messages to it are dropped; default 64 MiB. */
  maxQueueBytes?: number;
  /** Largest frame accepted (snapshots travel in one); default 1 GiB. */
  maxPayloadBytes?: number;
  /** For an attached transport whose port owner serves TLS: how to dial peers (wss). */
  dialTls?: WebSocket.ClientOptions;
}

export interface WsTransportStats {
  sent: number;
  received: number;
  dropped: number;
  framesSent: number;
  framesReceived: number;
  badFrames: number;
  dials: number;
  connected: string[];
}

const PATH = '/raft';
/** Messages kept for a peer while its connection is being set up. */
const CONNECTING_QUEUE = 1024;
const silentLogger: TransportLogger = { debug() {}, info() {}, warn() {} };

class PeerLink {
  ws: WebSocket | null = null;
  open = false;
  batch: Message[] = [];
  flushScheduled = false;
  retryTimer: NodeJS.Timeout | undefined;
  backoffMs: number;
  closed = false;

  constructor(
    readonly id: string,
    public address: string,
    minBackoff: number,
  ) {
    this.backoffMs = minBackoff;
  }
}

export class WsTransport implements Transport {
  private readonly opts: WsTransportOptions;
  private readonly logger: TransportLogger;
  private readonly packr = new Packr({ useRecords: false, mapsAsObjects: true });
  private readonly links = new Map<string, PeerLink>();
  /** Addresses from the configuration, and those dialers advertised (used for peers that
   *  are not, or no longer, in it). */
  private readonly configured = new Map<string, string>();
  private readonly learned = new Map<string, string>();
  private readonly inbound = new Set<WebSocket>();
  private handler: ((m: Message) => void) | null = null;
  private closed = false;
  private readonly counters = { sent: 0, received: 0, dropped: 0, framesSent: 0, framesReceived: 0, badFrames: 0, dials: 0 };

  private constructor(
    opts: WsTransportOptions,
    private readonly http: HttpServer | null,
    private readonly wss: WebSocketServer,
  ) {
    this.opts = opts;
    this.logger = opts.logger ?? silentLogger;
    wss.on('connection', (ws, req) => this.accept(ws, req));
  }

  /** Starts listening; resolves once the port is bound. */
  static async listen(opts: WsTransportOptions): Promise<WsTransport> {
    const listen = opts.listen ?? parseAddress(opts.address);
    const tls = opts.tls;
    const requireCert = tls !== undefined && (tls.requireClientCert ?? tls.ca !== undefined);
    const http = tls === undefined
      ? createHttpServer()
      : createHttpsServer({ cert: tls.cert, key: tls.key, ...(tls.ca !== undefined ? { ca: tls.ca } : {}), requestCert: requireCert, rejectUnauthorized: requireCert });
    const wss = new WebSocketServer({ server: http, path: PATH, maxPayload: opts.maxPayloadBytes ?? 1024 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      http.once('error', (e) => reject(new YurtError('unavailable', `raft transport cannot listen on ${listen.host}:${listen.port}: ${e.message}`, { cause: e })));
      http.listen(listen.port, listen.host, () => resolve());
    });
    return new WsTransport(opts, http, wss);
  }

  /**
   * A transport that shares another server's port: the owner of that port hands it the
   * upgrades for `/raft` through `handleUpgrade` (the agent multiplexes Raft on its RPC port).
   * TLS, if any, is then the port owner's.
   */
  static attached(opts: Omit<WsTransportOptions, 'listen'>): WsTransport {
    const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayloadBytes ?? 1024 * 1024 * 1024 });
    return new WsTransport(opts, null, wss);
  }

  /** The path an attached transport's owner routes to `handleUpgrade`. */
  static readonly path = PATH;

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
  }

  /** The address actually bound (useful with port 0). */
  listenAddress(): string {
    if (this.http === null) return this.opts.address;
    const a = this.http.address() as AddressInfo;
    return `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  send(to: string, msg: Message): void {
    if (this.closed) return;
    const link = this.link(to);
    if (link === undefined) {
      this.counters.dropped++;
      return;
    }
    if (link.open) {
      if ((link.ws?.bufferedAmount ?? 0) > (this.opts.maxQueueBytes ?? 64 * 1024 * 1024)) {
        this.counters.dropped++;
        return;
      }
    } else {
      if (link.ws === null && link.retryTimer === undefined) this.dial(link);
      if (link.ws === null || link.batch.length >= CONNECTING_QUEUE) {
        // Backing off after a failure: Raft will send again.
        this.counters.dropped++;
        return;
      }
    }
    link.batch.push(msg);
    if (link.open && !link.flushScheduled) {
      link.flushScheduled = true;
      queueMicrotask(() => this.flush(link));
    }
  }

  onMessage(handler: (msg: Message) => void): void {
    this.handler = handler;
  }

  setPeers(peers: ReadonlyArray<{ id: string; address: string }>): void {
    this.configured.clear();
    for (const p of peers) if (p.id !== this.opts.id) this.configured.set(p.id, p.address);
    for (const [id, link] of this.links) {
      const address = this.addressOf(id);
      if (address === link.address) continue;
      // Removed from the configuration, or moved: stop dialing the old address.
      this.drop(link);
      this.links.delete(id);
    }
  }

  stats(): WsTransportStats {
    return { ...this.counters, connected: [...this.links.values()].filter((l) => l.open).map((l) => l.id) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links.values()) this.drop(link);
    this.links.clear();
    for (const ws of this.inbound) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    const http = this.http;
    if (http !== null) await new Promise<void>((resolve) => http.close(() => resolve()));
  }

  // ---- outbound -------------------------------------------------------------------------

  private addressOf(id: string): string | undefined {
    return this.configured.get(id) ?? this.learned.get(id);
  }

  private link(id: string): PeerLink | undefined {
    let link = this.links.get(id);
    if (link !== undefined) return link;
    const address = this.addressOf(id);
    if (address === undefined || id === this.opts.id) return undefined;
    link = new PeerLink(id, address, this.opts.backoff?.minMs ?? 50);
    this.links.set(id, link);
    return link;
  }

  private dial(link: PeerLink): void {
    if (this.closed || link.closed) return;
    this.counters.dials++;
    const tls = this.opts.tls;
    const dialTls = this.opts.dialTls;
    const scheme = tls === undefined && dialTls === undefined ? 'ws' : 'wss';
    const url = `${scheme}://${link.address}${PATH}?from=${encodeURIComponent(this.opts.id)}&addr=${encodeURIComponent(this.opts.address)}`;
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      // RFC 6455 masks client frames to protect browsers' proxies; between servers it is
      // pure cost (measured in profiles), and an all-zero mask lets ws skip it.
      generateMask: zeroMask,
      maxPayload: this.opts.maxPayloadBytes ?? 1024 * 1024 * 1024,
      ...(tls === undefined
        ? {}
        : {
            cert: tls.cert,
            key: tls.key,
            ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
            // Peers are dialed by address; who they are is the certificate chain's business
            // (and a later change binding certificates to server ids), not DNS names. Node's
            // tls wants undefined for "verified" (ws's typings say boolean).
            checkServerIdentity: acceptAnyName,
          }),
      ...dialTls,
    });
    link.ws = ws;
    ws.on('open', () => {
      link.open = true;
      link.backoffMs = this.opts.backoff?.minMs ?? 50;
      this.logger.debug({ peer: link.id, address: link.address }, 'connected to peer');
      if (link.batch.length > 0 && !link.flushScheduled) {
        link.flushScheduled = true;
        queueMicrotask(() => this.flush(link));
      }
    });
    ws.on('error', (e) => this.logger.debug({ peer: link.id, address: link.address, err: e.message }, 'peer connection error'));
    ws.on('close', () => {
      if (link.ws !== ws) return;
      const wasOpen = link.open;
      link.ws = null;
      link.open = false;
      this.counters.dropped += link.batch.length;
      link.batch = [];
      if (wasOpen) this.logger.info({ peer: link.id, address: link.address }, 'lost the connection to a peer; redialing');
      this.scheduleRedial(link);
    });
  }

  private scheduleRedial(link: PeerLink): void {
    if (this.closed || link.closed || link.retryTimer !== undefined) return;
    const max = this.opts.backoff?.maxMs ?? 2000;
    const delay = link.backoffMs / 2 + Math.random() * (link.backoffMs / 2);
    link.backoffMs = Math.min(max, link.backoffMs * 2);
    link.retryTimer = setTimeout(() => {
      link.retryTimer = undefined;
      if (link.ws === null) this.dial(link);
    }, delay);
    link.retryTimer.unref();
  }

  private flush(link: PeerLink): void {
    link.flushScheduled = false;
    const ws = link.ws;
    if (!link.open || ws === null || link.batch.length === 0) return;
    const batch = link.batch;
    link.batch = [];
    try {
      ws.send(this.packr.pack(batch));
      this.counters.sent += batch.length;
      this.counters.framesSent++;
    } catch (e) {
      this.counters.dropped += batch.length;
      this.logger.warn({ peer: link.id, err: (e as Error).message }, 'could not send to a peer');
    }
  }

  private drop(link: PeerLink): void {
    link.closed = true;
    clearTimeout(link.retryTimer);
    link.retryTimer = undefined;
    link.ws?.terminate();
    link.ws = null;
    link.open = false;
  }

  // ---- inbound --------------------------------------------------------------------------

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const url = new URL(req.url ?? '/', 'http://raft');
    const from = url.searchParams.get('from') ?? '';
    const addr = url.searchParams.get('addr') ?? '';
    if (from === '' || addr === '') {
      ws.close(1008, 'from and addr are required');
      return;
    }
    if (this.closed) {
      ws.terminate();
      return;
    }
    this.inbound.add(ws);
    // Kept even for configured peers: a server leaving the configuration (a removed leader
    // finishing its term) must still hear our answers.
    this.learned.set(from, addr);
    ws.on('close', () => this.inbound.delete(ws));
    ws.on('error', () => ws.terminate());
    ws.on('message', (data: WebSocket.RawData) => this.deliver(from, data));
  }

  private deliver(from: string, data: WebSocket.RawData): void {
    this.counters.framesReceived++;
    let batch: unknown;
    try {
      batch = this.packr.unpack(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer));
    } catch (e) {
      this.counters.badFrames++;
      this.logger.warn({ from, err: (e as Error).message }, 'dropped an undecodable frame');
      return;
    }
    if (!Array.isArray(batch)) {
      this.counters.badFrames++;
      return;
    }
    for (const m of batch as unknown[]) {
      // The dialer named itself; a message claiming another sender is not believed.
      if (typeof m !== 'object' || m === null || (m as { from?: unknown }).from !== from) {
        this.counters.badFrames++;
        continue;
      }
      this.counters.received++;
      this.handler?.(m as Message);
    }
  }
}

const zeroMask = (mask: Buffer) => {
  mask.fill(0);
};

const acceptAnyName = (() => undefined) as unknown as (servername: string, cert: unknown) => boolean;

/** Splits "host:port" (or "[v6]:port"). */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address);
  const port = Number(m?.[3]);
  if (m === null || !(port >= 0 && port < 65536)) {
    throw new YurtError('invalid_argument', `raft address ${JSON.stringify(address)} is not host:port`);
  }
  return { host: m[1] ?? m[2] ?? '', port };
}
