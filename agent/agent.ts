/**
 * The `yurt agent` process: a server, a client, or both (-dev), plus the HTTP API. Even inside
 * one process the client talks to the server over websocket RPC on loopback, so the boundary
 * that matters in production is exercised from day one.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Transport } from '../consensus/raft-node.js';
import { builtinDrivers } from '../drivers/registry.js';
import type { AgentConfig } from './config/index.js';
import { Client } from './client/client.js';
import type { AgentMember, ApiContext } from './http/api-context.js';
import { HttpApi } from './http/http-server.js';
import { RpcServer } from './rpc/rpc-server.js';
import { ServerEndpoints } from './server/endpoints.js';
import { Server } from './server/server.js';
import { YURT_VERSION } from './version.js';
import { metricsRoutes } from './telemetry/metrics-route.js';
import { serverMetricsView } from './telemetry/server-view.js';
import { Telemetry } from './telemetry/telemetry.js';

/**
 * A server alone in its cluster has no peers to send Raft messages to. Multi-server clusters
 * use the websocket transport instead.
 */
const noPeersTransport: Transport = {
  send: () => undefined,
  onMessage: () => undefined,
  close: () => Promise.resolve(),
};

export class Agent {
  server: Server | null = null;
  client: Client | null = null;
  private endpoints: ServerEndpoints | null = null;
  private rpc: RpcServer | null = null;
  private http: HttpApi | null = null;
  private telemetry: Telemetry | null = null;
  httpAddr: AddressInfo | null = null;
  rpcAddr: AddressInfo | null = null;

  constructor(
    readonly config: AgentConfig,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const c = this.config;
    await mkdir(c.dataDir, { recursive: true });
    const telemetry = new Telemetry({
      disableHostname: c.telemetry.disableHostname,
      hostname: c.name,
      publishNodeMetrics: c.telemetry.publishNodeMetrics,
    });
    this.telemetry = telemetry;
    if (c.server.enabled) {
      this.rpc = new RpcServer(this.logger.child({ component: 'rpc' }));
      this.rpcAddr = await this.rpc.listen(c.addresses.rpc, c.ports.rpc);
      const rpcAdvertise = advertiseWithPort(c.advertise.rpc, this.rpcAddr.port);
      this.server = new Server({
        id: await persistentId(join(c.dataDir, 'server', 'node-id')),
        name: c.name,
        region: c.region,
        datacenter: c.datacenter,
        dataDir: join(c.dataDir, 'server'),
        rpcAdvertise,
        bootstrapExpect: c.server.bootstrapExpect,
        numSchedulers: c.server.numSchedulers,
        heartbeat: {
          heartbeatGraceMs: c.server.heartbeatGraceMs,
          minHeartbeatTtlMs: c.server.minHeartbeatTtlMs,
          maxHeartbeatsPerSecond: c.server.maxHeartbeatsPerSecond,
        },
        transport: noPeersTransport,
        logger: this.logger,
        metrics: {
          workerInvoke: (type, seconds) => telemetry.observe('workerInvokeSeconds', seconds, { type }),
          planApply: (seconds) => telemetry.observe('planApplySeconds', seconds),
        },
      });
      this.endpoints = new ServerEndpoints(this.server, this.logger.child({ component: 'rpc' }));
      this.endpoints.register(this.rpc);
      await this.server.start();
    }

    const ctx: ApiContext = {
      server: this.server,
      endpoints: this.endpoints,
      client: null,
      region: c.region,
      datacenter: c.datacenter,
      nodeName: c.name,
      version: YURT_VERSION,
      members: () => this.members(),
      config: () => ({ ...this.config, Version: { Version: YURT_VERSION } }),
    };
    if (this.server) telemetry.server = serverMetricsView(this.server);
    this.http = new HttpApi(ctx, this.logger.child({ component: 'http' }), metricsRoutes(telemetry, c.telemetry.prometheusMetrics));
    this.httpAddr = await this.http.listen(c.addresses.http, c.ports.http);

    if (c.client.enabled) {
      const servers = c.client.servers.length > 0 ? c.client.servers : this.server ? [this.server.opts.rpcAdvertise] : [];
      this.client = new Client({
        dataDir: join(c.dataDir, 'client'),
        servers,
        region: c.region,
        datacenter: c.datacenter,
        name: c.name,
        nodeClass: c.client.nodeClass,
        nodePool: c.client.nodePool,
        meta: c.client.meta,
        reserved: { cpu: c.client.reserved.cpu, memoryMB: c.client.reserved.memory, diskMB: c.client.reserved.disk },
        httpAddr: advertiseWithPort(c.advertise.http, this.httpAddr.port),
        drivers: ({ nodeId, dataDir }) =>
          builtinDrivers({
            rawExecEnabled: c.devMode || isTrue(c.client.options['driver.raw_exec.enable']),
            docker: { ownerId: nodeId, allowPrivileged: isTrue(c.client.options['docker.privileged.enabled']), volumesEnabled: isTrue(c.client.options['docker.volumes.enabled']) },
            wasi: { cacheDir: join(dataDir, 'wasi') },
          }),
        logger: this.logger,
      });
      ctx.client = this.client;
      await this.client.start();
    }
  }

  members(): AgentMember[] {
    const s = this.server;
    if (!s || !this.rpcAddr) return [];
    const [host = '127.0.0.1'] = s.opts.rpcAdvertise.split(':');
    return [
      {
        Name: `${this.config.name}.${this.config.region}`,
        Addr: host,
        Port: this.config.ports.serf,
        Tags: {
          // "nomad" is the role Nomad's tools look for when they list servers.
          role: 'nomad',
          region: this.config.region,
          dc: this.config.datacenter,
          build: YURT_VERSION,
          port: String(this.rpcAddr.port),
          rpc_addr: host,
          id: s.opts.id,
          raft_vsn: '3',
          expect: String(this.config.server.bootstrapExpect),
          leader: String(s.isLeader()),
        },
        Status: 'alive',
        ProtocolMin: 1,
        ProtocolMax: 5,
        ProtocolCur: 2,
        DelegateMin: 2,
        DelegateMax: 5,
        DelegateCur: 4,
      },
    ];
  }

  async stop(opts: { stopAllocs?: boolean } = {}): Promise<void> {
    if (this.client) {
      if (opts.stopAllocs === true) await this.client.stopAllocs();
      await this.client.stop();
    }
    await this.http?.close();
    this.telemetry?.close();
    await this.endpoints?.close();
    await this.rpc?.close();
    await this.server?.stop();
  }
}

/** Nomad's client `options` take "true"/"1" for booleans. */
function isTrue(v: string | undefined): boolean {
  return v === 'true' || v === '1';
}

function advertiseWithPort(advertise: string, port: number): string {
  const i = advertise.lastIndexOf(':');
  const host = i > 0 ? advertise.slice(0, i) : advertise;
  return `${host === '0.0.0.0' || host === '' ? '127.0.0.1' : host}:${port}`;
}

/** An ID minted on first start and kept in the data dir, so restarts keep their identity. */
async function persistentId(file: string): Promise<string> {
  try {
    const id = (await readFile(file, 'utf8')).trim();
    if (id !== '') return id;
  } catch {
    // First start.
  }
  const id = randomUUID();
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, id);
  return id;
}
