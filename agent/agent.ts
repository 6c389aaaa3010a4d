/**
 * The `yurt agent` process: a server, a client, or both (-dev), plus the HTTP API. Even inside
 * one process the client talks to the server over websocket RPC on loopback, so the boundary
 * that matters in production is exercised from day one.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { WsTransport } from '../consensus/transport/ws-transport.js';
import type { AgentConfig } from './config/index.js';
import { Client } from './client/client.js';
import { clientOptionsFromConfig } from './client/client-options-from-config.js';
import type { AgentMember, ApiContext } from './http/api-context.js';
import { HttpApi } from './http/http-server.js';
import { RpcServer } from './rpc/rpc-server.js';
import { RpcClient } from './rpc/rpc-client.js';
import { RemoteTokenResolver } from './acl/remote-token-resolver.js';
import { ServerEndpoints } from './server/endpoints.js';
import { ClusterEndpoints } from './server/cluster-endpoints.js';
import { registerSchedulingEndpoints } from './server/scheduling-backend.js';
import { AclEndpoints } from './server/acl-endpoints.js';
import type { ServerHello } from './server/server-membership.js';
import { Server } from './server/server.js';
import { heartbeatConfigOf } from './server/heartbeats.js';
import { YURT_VERSION } from './version.js';
import { DataDirLock } from './data-dir-lock.js';
import { httpsServerOptions, loadTlsMaterial, rpcServerOptions, wsClientOptions } from './tls/index.js';
import { metricsRoutes } from './telemetry/metrics-route.js';
import { serverMetricsView } from './telemetry/server-view.js';
import { Telemetry } from './telemetry/telemetry.js';

export class Agent {
  server: Server | null = null;
  client: Client | null = null;
  private endpoints: ServerEndpoints | null = null;
  private rpc: RpcServer | null = null;
  private raftTransport: WsTransport | null = null;
  private dataDirLock: DataDirLock | null = null;
  private http: HttpApi | null = null;
  private telemetry: Telemetry | null = null;
  /** A client-only agent's connection to the servers for resolving ACL tokens. */
  private aclRpc: RpcClient | null = null;
  httpAddr: AddressInfo | null = null;
  rpcAddr: AddressInfo | null = null;

  constructor(
    readonly config: AgentConfig,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const c = this.config;
    // Certificate problems are configuration errors: refuse to start, naming the field.
    const tls = await loadTlsMaterial(c);
    const rpcTls = tls && c.tls.rpc ? { dial: wsClientOptions(tls), listen: { options: rpcServerOptions(tls), region: c.region } } : null;
    await mkdir(c.dataDir, { recursive: true });
    this.dataDirLock = await DataDirLock.acquire(c.dataDir);
    const telemetry = new Telemetry({
      disableHostname: c.telemetry.disableHostname,
      hostname: c.name,
      publishNodeMetrics: c.telemetry.publishNodeMetrics,
      publishAllocationMetrics: c.telemetry.publishAllocationMetrics,
      collectionIntervalMs: c.telemetry.collectionIntervalMs,
    });
    this.telemetry = telemetry;
    if (c.server.enabled) {
      this.rpc = new RpcServer(this.logger.child({ component: 'rpc' }), { rateLimit: { ratePerSec: c.limits.rpcRateLimit, burst: c.limits.rpcRateBurst } });
      this.rpcAddr = await this.rpc.listen(c.addresses.rpc, c.ports.rpc, rpcTls?.listen);
      const rpcAdvertise = advertiseWithPort(c.advertise.rpc, this.rpcAddr.port);
      const id = await persistentId(join(c.dataDir, 'server', 'node-id'));
      // Raft between servers rides on the RPC port (path /raft), as in Nomad.
      const transport = WsTransport.attached({
        id,
        address: rpcAdvertise,
        logger: this.logger.child({ component: 'raft-transport' }),
        ...(rpcTls ? { dialTls: rpcTls.dial } : {}),
      });
      this.raftTransport = transport;
      this.rpc.route(WsTransport.path, (req, socket, head) => transport.handleUpgrade(req, socket, head));
      this.server = new Server({
        id,
        name: c.name,
        region: c.region,
        datacenter: c.datacenter,
        dataDir: join(c.dataDir, 'server'),
        rpcAdvertise,
        bootstrapExpect: c.server.bootstrapExpect,
        retryJoin: c.server.serverJoin.retryJoin,
        retryIntervalMs: c.server.serverJoin.retryIntervalMs,
        retryMax: c.server.serverJoin.retryMax,
        defaultRpcPort: c.ports.rpc,
        ...(rpcTls ? { rpcTls: rpcTls.dial } : {}),
        raftSnapshotThreshold: c.server.raftSnapshotThreshold,
        raftTrailingLogs: c.server.raftTrailingLogs,
        numSchedulers: c.server.numSchedulers,
        gc: {
          evalGcThresholdMs: c.server.evalGcThresholdMs,
          jobGcThresholdMs: c.server.jobGcThresholdMs,
          nodeGcThresholdMs: c.server.nodeGcThresholdMs,
          deploymentGcThresholdMs: c.server.deploymentGcThresholdMs,
        },
        heartbeat: heartbeatConfigOf(c.server),
        transport,
        logger: this.logger,
        metrics: telemetry.serverSink(),
      });
      this.endpoints = new ServerEndpoints(this.server, this.logger.child({ component: 'rpc' }), rpcTls?.dial);
      this.endpoints.register(this.rpc);
      new ClusterEndpoints(this.server, this.endpoints).register(this.rpc);
      registerSchedulingEndpoints(this.rpc, this.server);
      new AclEndpoints(this.server, this.logger.child({ component: 'acl' }), { aclEnabled: c.acl.enabled }).register(this.rpc);
      const endpoints = this.endpoints;
      this.server.useForwarder((method, args, timeoutMs) => endpoints.forward(method, args, timeoutMs));
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
    this.http = new HttpApi(ctx, this.logger.child({ component: 'http' }), metricsRoutes(telemetry, c.telemetry.prometheusMetrics), {
      ...(this.server === null && c.acl.enabled ? { aclResolver: this.remoteAclResolver(rpcTls?.dial) } : {}),
    });
    this.httpAddr = await this.http.listen(c.addresses.http, c.ports.http, tls && c.tls.http ? httpsServerOptions(tls) : undefined);

    if (c.client.enabled) {
      const servers = c.client.servers.length > 0 ? c.client.servers : this.server ? [this.server.opts.rpcAdvertise] : [];
      this.client = new Client({
        ...clientOptionsFromConfig(c, { servers, httpAddr: advertiseWithPort(c.advertise.http, this.httpAddr.port), logger: this.logger }),
        ...(rpcTls ? { rpcTls: rpcTls.dial } : {}),
      });
      ctx.client = this.client;
      await this.client.start();
    }
  }

  /**
   * Without state of its own, a client agent with ACLs enabled asks the servers who a token
   * is (ACL.ResolveToken) and caches the answer for acl.token_ttl, as Nomad's client does.
   */
  private remoteAclResolver(dialTls: ReturnType<typeof wsClientOptions> | undefined): RemoteTokenResolver {
    const logger = this.logger.child({ component: 'acl' });
    const servers = this.config.client.servers;
    const rpc = servers.length > 0 ? new RpcClient({ servers, logger, ...(dialTls ? { tls: dialTls } : {}) }) : null;
    this.aclRpc = rpc;
    rpc?.start();
    return new RemoteTokenResolver({
      call: (method, args, timeoutMs) => (rpc ? rpc.call(method, args, timeoutMs) : Promise.reject(new Error('no servers configured (client.servers)'))),
      ttlMs: this.config.acl.tokenTtlMs,
      onStale: (err) => logger.warn({ err: err.message }, 'no server answered; using the cached ACL token past its TTL'),
    });
  }

  /**
   * SIGHUP: read the tls stanza's files again and hand the new certificate, key and CA to
   * the HTTPS and RPC listeners, as Nomad reloads its TLS configuration; connections opened
   * from now on use them, open ones keep theirs. Files that fail the checks of
   * loadTlsMaterial are logged and the certificates in use are kept.
   */
  async reloadTls(): Promise<boolean> {
    const c = this.config;
    const logger = this.logger.child({ component: 'tls' });
    try {
      const m = await loadTlsMaterial(c);
      if (!m) {
        logger.info('TLS is not enabled; nothing to reload');
        return false;
      }
      // Both contexts are built before either is swapped in, so a failure changes nothing.
      const httpsOptions = httpsServerOptions(m);
      const rpcOptions = rpcServerOptions(m);
      createSecureContext(httpsOptions);
      createSecureContext(rpcOptions);
      const http = c.tls.http && this.http ? this.http.setSecureContext(httpsOptions) : false;
      const rpc = c.tls.rpc && this.rpc ? this.rpc.setSecureContext(rpcOptions) : false;
      logger.info({ serial: m.certificate.serialNumber, cert_file: c.tls.certFile, not_after: m.certificate.validTo, http, rpc }, 'TLS certificates reloaded');
      return true;
    } catch (err) {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'TLS reload failed; keeping the certificates in use');
      return false;
    }
  }

  /** Every server of the cluster as Nomad's /v1/agent/members lists them (serf members). */
  members(): AgentMember[] {
    const s = this.server;
    if (!s) return [];
    const leaderId = s.raft.leader()?.id;
    const known = s.membership.memberList();
    const list = known.length > 0 ? known : [{ hello: s.hello(), status: 'alive' as const }];
    return list.map(({ hello, status }) => serverMember(hello, status, hello.ID === leaderId, this.config.ports.serf));
  }

  /**
   * Leaves the cluster gracefully (leave_on_terminate / leave_on_interrupt): a leader hands
   * leadership over first, then the server asks the leader to remove it from Raft, so the
   * remaining servers keep a quorum of the right size.
   */
  async leave(): Promise<void> {
    const s = this.server;
    if (!s || !this.endpoints || !s.inCluster()) return;
    const cluster = new ClusterEndpoints(s, this.endpoints);
    if (s.raft.configuration().filter((x) => x.suffrage === 'voter').length > 1 && s.isLeader()) {
      await s.raft.transferLeadership().catch((err: unknown) => this.logger.warn({ err }, 'could not transfer leadership before leaving'));
    }
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        await cluster.removePeer({ ID: s.opts.id });
        this.logger.info('left the cluster');
        // Out of the configuration, this server must not campaign with the one it still has
        // (it may not have received its own removal): stop Raft now.
        await s.raft.stop();
        return;
      } catch (err) {
        this.logger.debug({ err }, 'leave attempt failed; retrying');
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    this.logger.warn('could not leave the cluster; the other servers will see this one as failed');
  }

  async stop(opts: { stopAllocs?: boolean } = {}): Promise<void> {
    if (this.client) {
      if (opts.stopAllocs === true) await this.client.stopAllocs();
      // shutdown() drains first when drain_on_shutdown is configured; otherwise it is stop().
      await this.client.shutdown();
    }
    await this.http?.close();
    await this.aclRpc?.close();
    this.telemetry?.close();
    await this.endpoints?.close();
    // Raft stops before its transport, and the transport's sockets (upgraded connections on
    // the RPC port) close before the RPC listener waits for its connections to end.
    await this.server?.stop();
    await this.raftTransport?.close();
    await this.rpc?.close();
    await this.dataDirLock?.release();
  }
}

function serverMember(h: ServerHello, status: 'alive' | 'failed', leader: boolean, serfPort: number): AgentMember {
  const i = h.RpcAddr.lastIndexOf(':');
  const host = i > 0 ? h.RpcAddr.slice(0, i) : h.RpcAddr;
  return {
    Name: `${h.Name}.${h.Region}`,
    Addr: host,
    Port: serfPort,
    Tags: {
      // "nomad" is the role Nomad's tools look for when they list servers.
      role: 'nomad',
      region: h.Region,
      dc: h.Datacenter,
      build: h.Build,
      port: h.RpcAddr.slice(i + 1),
      rpc_addr: host,
      id: h.ID,
      raft_vsn: '3',
      expect: String(h.BootstrapExpect),
      leader: String(leader),
    },
    Status: status,
    ProtocolMin: 1,
    ProtocolMax: 5,
    ProtocolCur: 2,
    DelegateMin: 2,
    DelegateMax: 5,
    DelegateCur: 4,
  };
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
