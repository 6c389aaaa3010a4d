/**
 * How servers find each other and what they know of each other, without a gossip layer:
 * every server answers `Server.Hello` on its RPC port with who it is and what it knows.
 *
 * - Forming a cluster (bootstrap_expect = N): a fresh server says hello to its retry_join
 *   addresses and to every server those name, until it knows N servers, none of them already
 *   in a cluster, and that set has stayed the same for two rounds (so servers that discover
 *   each other at slightly different times still settle on one initial configuration). All
 *   of them then bootstrap Raft with that same configuration, sorted, so the first log entry
 *   is identical everywhere.
 * - Joining: a server that finds a formed cluster (a fourth server, a replacement, one that
 *   was removed) starts Raft empty and asks the cluster (`Server.Join`, forwarded to the
 *   leader) to add it; the leader adds it as a non-voter and promotes it once caught up.
 * - Members: the servers of the Raft configuration, each asked hello every few seconds; one
 *   that does not answer is `failed`. That is what `yurt server members` shows.
 */
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import { YurtError } from '../../structs/errors.js';
import { RpcClient } from '../rpc/rpc-client.js';

export interface ServerHello {
  ID: string;
  Name: string;
  Region: string;
  Datacenter: string;
  /** host:port of the RPC listener, which also carries Raft. */
  RpcAddr: string;
  Build: string;
  BootstrapExpect: number;
  /** True once this server's Raft has a configuration (it belongs to a formed cluster). */
  InCluster: boolean;
  /** RPC address of the leader it knows, or ''. */
  Leader: string;
  /** Servers it knows: its Raft configuration, or, before that, those it discovered. */
  Known: Array<{ ID: string; RpcAddr: string }>;
}

export interface MemberStatus {
  hello: ServerHello;
  status: 'alive' | 'failed';
  lastSeenMs: number;
}

export interface MembershipOptions {
  self: () => ServerHello;
  /** retry_join addresses (host or host:port). */
  retryJoin: string[];
  defaultPort: number;
  /** Delay between discovery rounds while forming or joining. */
  retryIntervalMs: number;
  /** Give up after this many rounds; 0: never. */
  retryMax: number;
  logger: Logger;
  /** Mutual TLS for the connections made to other servers. */
  rpcTls?: WebSocket.ClientOptions;
  /** Ask `addr` who it is (tests may replace the RPC round trip). */
  hello?: (addr: string) => Promise<ServerHello>;
}

export type Formation = { mode: 'bootstrap'; servers: Array<{ id: string; address: string }> } | { mode: 'join'; via: string[] };

const HELLO_TIMEOUT_MS = 2000;
const FAILED_AFTER_MS = 10_000;

export class ServerMembership {
  private readonly known = new Map<string, string>();
  private readonly members = new Map<string, MemberStatus>();
  private stopped = false;
  private refreshTimer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly opts: MembershipOptions) {}

  /** Addresses to try: host alone means the default RPC port. */
  joinAddresses(): string[] {
    return this.opts.retryJoin.map((a) => withPort(a, this.opts.defaultPort));
  }

  /**
   * Discovers servers until this one can bootstrap with `expect` servers or has found a
   * formed cluster to join. Rejects after retry_max rounds, or when stopped.
   */
  async form(expect: number): Promise<Formation> {
    const self = this.opts.self();
    this.known.set(self.ID, self.RpcAddr);
    let previous = '';
    let waitingLogged = '';
    for (let round = 1; ; round++) {
      this.checkStopped();
      const answers = await this.helloAll([...this.joinAddresses(), ...this.known.values()]);
      const inCluster = answers.filter((h) => h.InCluster);
      if (inCluster.length > 0) {
        const via = [...new Set(inCluster.flatMap((h) => [h.Leader, h.RpcAddr]).filter((a) => a !== ''))];
        this.opts.logger.info({ via }, 'found a formed cluster; joining it');
        return { mode: 'join', via };
      }
      const ids = [...this.known.keys()].sort();
      const signature = ids.join(',');
      if (ids.length >= expect && signature === previous) {
        const servers = ids.map((id) => ({ id, address: this.known.get(id) ?? '' }));
        this.opts.logger.info({ servers }, 'found the expected servers; bootstrapping the cluster');
        return { mode: 'bootstrap', servers };
      }
      previous = ids.length >= expect ? signature : '';
      if (signature !== waitingLogged) {
        waitingLogged = signature;
        this.opts.logger.info({ known: ids.length, expect }, 'waiting for servers to bootstrap the cluster');
      }
      if (this.opts.retryMax > 0 && round >= this.opts.retryMax) {
        throw new YurtError('unavailable', `could not form a cluster of ${expect} servers after ${round} attempts to join ${this.opts.retryJoin.join(', ')}`);
      }
      // Once the set looks complete, confirm it quickly; otherwise wait a round.
      await this.sleep(previous !== '' ? 200 : this.opts.retryIntervalMs);
    }
  }

  /** Says hello to each address and learns every server named in the answers. */
  async helloAll(addrs: string[]): Promise<ServerHello[]> {
    const self = this.opts.self();
    const unique = [...new Set(addrs)].filter((a) => a !== self.RpcAddr);
    const answers = await Promise.all(unique.map((a) => this.hello(a).catch(() => null)));
    const out: ServerHello[] = [];
    for (const h of answers) {
      if (h === null || h.ID === self.ID) continue;
      if (h.Region !== self.Region) {
        this.opts.logger.warn({ server: h.Name, region: h.Region }, 'ignoring a server of another region');
        continue;
      }
      out.push(h);
      this.known.set(h.ID, h.RpcAddr);
      for (const k of h.Known) if (!this.known.has(k.ID)) this.known.set(k.ID, k.RpcAddr);
    }
    return out;
  }

  hello(addr: string): Promise<ServerHello> {
    return this.opts.hello ? this.opts.hello(addr) : this.callServer<ServerHello>(addr, 'Server.Hello', {}, HELLO_TIMEOUT_MS);
  }

  /** One RPC to a server by address, on a connection made for it. */
  async callServer<T>(addr: string, method: string, args: unknown, timeoutMs: number): Promise<T> {
    const c = new RpcClient({
      servers: [addr],
      logger: this.opts.logger.child({ component: 'join' }),
      minBackoffMs: 1000,
      maxBackoffMs: 1000,
      ...(this.opts.rpcTls ? { tls: this.opts.rpcTls } : {}),
    });
    c.start();
    try {
      return await c.call<T>(method, args, timeoutMs);
    } finally {
      await c.close();
    }
  }

  /** Keeps `members()` fresh for the servers `configured()` names. */
  startRefreshing(configured: () => Array<{ id: string; address: string }>, everyMs = 2000): void {
    const tick = async (): Promise<void> => {
      const self = this.opts.self();
      const servers = configured();
      const now = Date.now();
      await Promise.all(
        servers.map(async (s) => {
          try {
            const h = s.id === self.ID ? self : await this.hello(s.address);
            this.members.set(s.id, { hello: h, status: 'alive', lastSeenMs: Date.now() });
          } catch {
            const prev = this.members.get(s.id);
            if (prev) {
              if (now - prev.lastSeenMs > FAILED_AFTER_MS) prev.status = 'failed';
            } else {
              this.members.set(s.id, { hello: unknownServer(s.id, s.address, self), status: 'failed', lastSeenMs: 0 });
            }
          }
        }),
      );
      const ids = new Set(servers.map((s) => s.id));
      for (const id of this.members.keys()) if (!ids.has(id)) this.members.delete(id);
    };
    const loop = (): void => {
      if (this.stopped) return;
      void tick().finally(() => {
        if (this.stopped) return;
        this.refreshTimer = setTimeout(loop, everyMs);
        this.refreshTimer.unref();
      });
    };
    loop();
  }

  /** What is known of each configured server (its own answer, or `failed`). */
  memberList(): MemberStatus[] {
    return [...this.members.values()];
  }

  /** The Raft ID of a server named `name` (Nomad names servers `name.region`), or an ID. */
  resolve(nameOrId: string): string | null {
    for (const [id, m] of this.members) {
      if (id === nameOrId || m.hello.Name === nameOrId || `${m.hello.Name}.${m.hello.Region}` === nameOrId) return id;
    }
    return null;
  }

  isStopped(): boolean {
    return this.stopped;
  }

  stop(): void {
    this.stopped = true;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.wake?.();
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      t.unref();
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  private checkStopped(): void {
    if (this.stopped) throw new YurtError('unavailable', 'server is shutting down');
  }
}

function unknownServer(id: string, address: string, self: ServerHello): ServerHello {
  return { ID: id, Name: id, Region: self.Region, Datacenter: '', RpcAddr: address, Build: '', BootstrapExpect: 0, InCluster: true, Leader: '', Known: [] };
}

export function withPort(addr: string, port: number): string {
  if (/^\[[^\]]+\]:\d+$/.test(addr) || /^[^:]+:\d+$/.test(addr)) return addr;
  return `${addr}:${port}`;
}
