/**
 * The agent's HTTP listener: Nomad's /v1 API on the HTTP port.
 */
import { createServer, type IncomingMessage, type Server as NodeHttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { ApiContext } from './api-context.js';
import { YurtError } from '../../structs/errors.js';
import { Router, type Route } from './http-router.js';
import { aclEnabledIn, requestGuard } from '../acl/request-guard.js';
import type { IdentityResolver } from '../acl/token-resolver.js';
import { aclRoutes } from './routes-acl.js';
import { agentRoutes } from './routes-agent.js';
import { allocRoutes } from './routes-allocs.js';
import { clientAllocRoutes } from './routes-client-alloc.js';
import { clientFsRoutes } from './routes-client-fs.js';
import { allocExecUpgrade, isExecPath } from './routes-alloc-exec.js';
import { EventBroker, type EventBrokerOptions } from '../server/events/event-broker.js';
import { eventRoutes } from './routes-events.js';
import { deploymentRoutes } from './routes-deployments.js';
import { jobScaleRoutes } from './routes-job-scale.js';
import { jobRoutes } from './routes-jobs.js';
import { nodeRoutes } from './routes-nodes.js';
import { operatorRoutes } from './routes-operator.js';

const READ_BARRIER_TIMEOUT_MS = 5_000;

/**
 * A follower answers a default (non-stale) read only after applying everything the leader
 * had committed when the read arrived; without a leader only `?stale` reads are answered.
 */
async function readBarrier(ctx: ApiContext): Promise<void> {
  const server = ctx.server;
  if (!server || server.isLeader()) return;
  if (server.raft.leader() === null) throw new YurtError('no_leader', 'No cluster leader (add ?stale to read this server\'s possibly stale state)');
  const target = server.raft.commitIndex();
  const deadline = Date.now() + READ_BARRIER_TIMEOUT_MS;
  while (server.raft.appliedIndex() < target) {
    if (Date.now() > deadline) throw new YurtError('timeout', `this server has not caught up with the leader (applied ${server.raft.appliedIndex()} of ${target}); retry, or add ?stale`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface HttpApiOptions {
  /** Enforce ACLs; by default read from the agent config's `acl.enabled`. */
  aclEnabled?: boolean;
  /** The event stream's heartbeat period (Nomad: 10 s). */
  eventHeartbeatMs?: number;
  /** Size of the event stream's resume buffer. */
  eventBuffer?: EventBrokerOptions;
  /** How an agent that is not a server resolves ACL tokens (it asks the servers). */
  aclResolver?: IdentityResolver;
}

export class HttpApi {
  private server: NodeHttpServer | null = null;
  private readonly router: Router;
  /** Websocket upgrades: only `alloc exec` uses one. */
  private readonly onUpgrade: ReturnType<typeof allocExecUpgrade>;
  /** Fed from the state store from the moment the API exists, so `index=` can resume. */
  readonly events: EventBroker | null;

  /** @param extraRoutes routes owned elsewhere in the agent (metrics). */
  constructor(
    ctx: ApiContext,
    private readonly logger: Logger,
    extraRoutes: Route[] = [],
    opts: HttpApiOptions = {},
  ) {
    const state = ctx.server?.state;
    const guard = requestGuard({
      state: state ?? null,
      aclEnabled: opts.aclEnabled ?? aclEnabledIn(ctx.config()),
      ...(opts.aclResolver ? { resolver: opts.aclResolver } : {}),
      allocNamespace: (id) => ctx.client?.allocation(id)?.Namespace,
    });
    this.onUpgrade = allocExecUpgrade(ctx, guard, logger);
    this.router = new Router(
      state
        ? {
            waitForChange: (t, i, ms, s) => state.waitForChange(t, i, ms, s),
            tableIndex: (t) => state.tableIndex(t),
            knownLeader: () => ctx.server?.raft.leader() != null,
            readBarrier: () => readBarrier(ctx),
          }
        : null,
      guard,
    );
    this.events = state ? new EventBroker(state, opts.eventBuffer) : null;
    this.router.add(...eventRoutes(() => this.events, opts.eventHeartbeatMs), ...jobRoutes(ctx), ...jobScaleRoutes(ctx), ...deploymentRoutes(ctx), ...allocRoutes(ctx), ...nodeRoutes(ctx), ...agentRoutes(ctx), ...clientFsRoutes(ctx), ...clientAllocRoutes(ctx), ...operatorRoutes(ctx), ...aclRoutes(ctx, logger, opts.aclEnabled ?? aclEnabledIn(ctx.config())), ...extraRoutes);
  }

  /** With `tls` (the agent's `tls { http = true }`), the API is served over HTTPS only. */
  async listen(host: string, port: number, tls?: HttpsServerOptions): Promise<AddressInfo> {
    const handle = (req: IncomingMessage, res: ServerResponse): void => {
      const started = process.hrtime.bigint();
      res.on('finish', () =>
        this.logger.debug({ method: req.method, path: req.url, status: res.statusCode, duration_ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request complete'),
      );
      void this.router.dispatch(req, res);
    };
    const server = tls ? createHttpsServer(tls, handle) : createServer(handle);
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (isExecPath(req.url)) this.onUpgrade(req, socket, head);
      else socket.destroy();
    });
    // A slow client cannot hold a connection forever.
    server.headersTimeout = 30_000;
    server.requestTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return server.address() as AddressInfo;
  }

  /**
   * New certificates for connections accepted from now on (SIGHUP); connections already
   * open keep theirs. Returns false when the API is not served over HTTPS.
   */
  setSecureContext(tls: HttpsServerOptions): boolean {
    if (!(this.server instanceof HttpsServer)) return false;
    this.server.setSecureContext(tls);
    return true;
  }

  async close(): Promise<void> {
    this.events?.close();
    const s = this.server;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }
}
