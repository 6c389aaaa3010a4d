/**
 * Test support: a real single-server cluster in this process (Raft + FSM on LMDB in a temp
 * dir, the RPC listener on loopback, the HTTP API on loopback), and fake clients that speak
 * the real client RPC protocol over websockets but run nothing. Fakes stand in for client
 * agents only, the true boundary here; everything on the server side is the real thing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Transport } from '../../../consensus/raft-node.js';
import type { Allocation, AllocClientStatus } from '../../../structs/alloc.js';
import type { Node } from '../../../structs/node.js';
import { HttpApi } from '../../http/http-server.js';
import { RpcClient } from '../../rpc/rpc-client.js';
import { RpcServer } from '../../rpc/rpc-server.js';
import { ServerEndpoints, type AllocsPush, type NodeRegisterResponse } from '../endpoints.js';
import { Server, type ServerOptions } from '../server.js';

const noPeers: Transport = { send: () => undefined, onMessage: () => undefined, close: () => Promise.resolve() };

export interface TestServer {
  server: Server;
  endpoints: ServerEndpoints;
  rpcAddr: string;
  httpUrl: string;
  stop(): Promise<void>;
}

export type TestServerOptions = Partial<Omit<ServerOptions, 'transport' | 'logger' | 'dataDir' | 'rpcAdvertise'>>;

/** `waitForLeader: false` returns at once (for a server that cannot win an election alone). */
export async function startTestServer(over: TestServerOptions = {}, waitForLeader = true): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'yurt-server-'));
  const logger = pino({ level: process.env['YURT_TEST_LOG'] ?? 'silent' });
  const rpc = new RpcServer(logger);
  const addr = await rpc.listen('127.0.0.1', 0);
  const rpcAddr = `127.0.0.1:${addr.port}`;
  const server = new Server({
    id: 'server-1',
    name: 'server-1',
    region: 'global',
    datacenter: 'dc1',
    bootstrapExpect: 1,
    numSchedulers: 1,
    raftTickMs: 10,
    ...over,
    dataDir: dir,
    rpcAdvertise: rpcAddr,
    transport: noPeers,
    logger,
  });
  const endpoints = new ServerEndpoints(server, logger);
  endpoints.register(rpc);
  await server.start();
  const http = new HttpApi(
    {
      server,
      endpoints,
      client: null,
      region: 'global',
      datacenter: 'dc1',
      nodeName: 'server-1',
      version: 'test',
      members: () => [],
      config: () => ({}),
    },
    logger,
  );
  const httpAddr = await http.listen('127.0.0.1', 0);
  // Leadership duties (broker, heartbeat timers) start after the post-election barrier.
  if (waitForLeader) await waitFor(() => server.leaderReady(), 10_000, 'server never took up leadership');
  return {
    server,
    endpoints,
    rpcAddr,
    httpUrl: `http://127.0.0.1:${httpAddr.port}`,
    stop: async () => {
      await http.close();
      await rpc.close();
      await endpoints.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A client agent reduced to its protocol: it registers, heartbeats within the TTL the server
 * hands out, watches its allocations (pushed by the server) and reports their status.
 */
export class FakeClient {
  readonly rpc: RpcClient;
  /** Every allocation the server pushed, in arrival order (one entry per push per alloc). */
  readonly pushed: Allocation[] = [];
  private hbTimer: NodeJS.Timeout | null = null;
  private heartbeating = false;
  private readonly waiters: Array<() => void> = [];

  constructor(
    readonly node: Node,
    serverAddr: string,
  ) {
    this.rpc = new RpcClient({ servers: [serverAddr], logger: pino({ level: 'silent' }), minBackoffMs: 20, maxBackoffMs: 200 });
    this.rpc.onPush('allocs', (d) => this.received((d as AllocsPush).Allocs));
  }

  private autoDelayMs: number | null = null;

  /**
   * Act like a client running the work: a pushed allocation to run is reported running after
   * `delayMs`, one to stop is reported complete at once.
   */
  autoReport(delayMs: number): void {
    this.autoDelayMs = delayMs;
  }

  private received(allocs: Allocation[]): void {
    this.pushed.push(...allocs);
    for (const w of this.waiters.splice(0)) w();
    if (this.autoDelayMs === null) return;
    for (const a of allocs) {
      if (a.DesiredStatus === 'run' && a.ClientStatus === 'pending') {
        setTimeout(() => void this.report(a.ID, 'running').catch(() => undefined), this.autoDelayMs);
      } else if (a.DesiredStatus !== 'run' && (a.ClientStatus === 'pending' || a.ClientStatus === 'running')) {
        void this.report(a.ID, 'complete').catch(() => undefined);
      }
    }
  }

  async start(): Promise<NodeRegisterResponse> {
    this.rpc.start();
    const r = await this.rpc.call<NodeRegisterResponse>('Node.Register', { Node: this.node });
    const initial = await this.rpc.call<AllocsPush>('Node.WatchAllocs', { NodeID: this.node.ID, SecretID: this.node.SecretID });
    this.received(initial.Allocs);
    this.heartbeating = true;
    this.scheduleHeartbeat(r.HeartbeatTTLMs);
    return r;
  }

  private scheduleHeartbeat(ttlMs: number): void {
    if (!this.heartbeating) return;
    // Like the real client: heartbeat well inside the TTL.
    this.hbTimer = setTimeout(() => {
      this.rpc
        .call<NodeRegisterResponse>('Node.UpdateStatus', { NodeID: this.node.ID, SecretID: this.node.SecretID, Status: 'ready' })
        .then((r) => this.scheduleHeartbeat(r.HeartbeatTTLMs))
        .catch(() => this.scheduleHeartbeat(ttlMs));
    }, ttlMs / 2);
  }

  stopHeartbeats(): void {
    this.heartbeating = false;
    if (this.hbTimer) clearTimeout(this.hbTimer);
    this.hbTimer = null;
  }

  async report(allocId: string, status: AllocClientStatus): Promise<void> {
    await this.rpc.call('Node.UpdateAlloc', {
      NodeID: this.node.ID,
      SecretID: this.node.SecretID,
      Allocs: [{ ID: allocId, ClientStatus: status, ClientDescription: '', TaskStates: {}, ModifyTime: Date.now() * 1e6 }],
    });
  }

  /** Resolve once a pushed allocation satisfies `pred`. */
  async waitForPush(pred: (a: Allocation) => boolean, timeoutMs = 10_000): Promise<Allocation> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.pushed.find(pred);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`node ${this.node.ID}: no matching allocation pushed within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    this.stopHeartbeats();
    await this.rpc.close();
  }
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
