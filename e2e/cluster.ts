/**
 * The cluster under test: yurt servers and Docker-in-Docker clients as containers on a network
 * of their own (198.18.N.0/24, a benchmarking range no real host uses, see PLATFORM.md), with
 * fixed addresses so that a restarted or reconnected container comes back where it was. The
 * harness starts, stops, kills, pauses, partitions and restores them, talks to the API and the
 * CLI from the host, and prints every agent's log when something fails.
 *
 * The number of servers is configuration: one server (bootstrap_expect = 1) or three
 * (bootstrap_expect = 3, retry_join by name; Raft rides on the RPC port 4647).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { containerLogTail, containerState, docker, dockerTry, loadImageInto } from './docker.js';
import { Api, requestJson, type AgentSelf } from './http-api.js';
import { runOk } from './process-run.js';
import { waitUntil } from './wait.js';
import { yurtCli, type CliResult } from './yurt-cli.js';

export type Role = 'server' | 'client';

export interface ClientOptions {
  meta?: Record<string, string>;
  /** client.reserved.memory: makes a node look smaller to the scheduler. */
  reservedMemoryMB?: number;
  nodeClass?: string;
}

export interface ClusterNode {
  /** Also the host name, the agent's name and its DNS name on the network. */
  name: string;
  role: Role;
  container: string;
  ip: string;
  /** Part of the cluster every scenario may rely on (not an extra node a scenario added). */
  base: boolean;
  client?: ClientOptions;
}

export interface ClusterOptions {
  runId: string;
  /** Host directory for the agents' config files. */
  workDir: string;
  servers: number;
  clients: Array<{ name: string } & ClientOptions>;
  image: string;
  dindImage: string;
  /** Images loaded into every client's Docker engine (nested containers). */
  taskImages: string[];
  /** Third octets to try for the network's 198.18.N.0/24, first free one wins. */
  subnets: number[];
}

/** What Docker-in-Docker needs here instead of --privileged (PLATFORM.md). */
const DIND_FLAGS = [
  ...['SYS_ADMIN', 'NET_ADMIN', 'SYS_PTRACE', 'MKNOD', 'SETFCAP', 'AUDIT_WRITE', 'NET_RAW', 'SYS_CHROOT', 'DAC_READ_SEARCH', 'IPC_LOCK'].flatMap((c) => ['--cap-add', c]),
  '--security-opt', 'seccomp=unconfined',
  '--security-opt', 'apparmor=unconfined',
  '--device-cgroup-rule', 'a *:* rwm',
  '-v', '/sys/fs/cgroup:/sys/fs/cgroup:rw',
  '--tmpfs', '/run',
];

/** A GET printed to stdout, run by `node -e` inside a container; non-zero exit on any failure. */
const IN_CONTAINER_GET =
  'fetch(process.argv[1], { signal: AbortSignal.timeout(5000) }).then(async (r) => { process.stdout.write(await r.text()); process.exit(r.ok ? 0 : 1); }, (e) => { console.error(String(e)); process.exit(1); })';

export const HTTP_PORT = 4646;
export const RPC_PORT = 4647;

export class Cluster {
  readonly nodes = new Map<string, ClusterNode>();
  /** Containers the harness cut off the network: not reachable from the host. */
  private readonly disconnected = new Set<string>();
  private readonly paused = new Set<string>();
  private preferred: string | null = null;
  private clientsCreated = 0;
  readonly api: Api;
  network = '';
  subnet = '';
  gateway = '';

  constructor(readonly opts: ClusterOptions) {
    this.api = new Api(() => this.apiBases());
  }

  // ---- lifecycle -------------------------------------------------------------------------

  /** Creates the network, starts the servers and the clients, waits until all is ready. */
  async start(): Promise<void> {
    await mkdir(this.opts.workDir, { recursive: true });
    await this.createNetwork();
    for (let i = 1; i <= this.opts.servers; i++) this.defineServer(`server-${i}`);
    await Promise.all(this.servers().map((s) => this.runServer(s)));
    await this.waitForLeader(this.servers().map((s) => s.name), 60_000);
    await Promise.all(this.opts.clients.map(({ name, ...c }) => this.addClient(name, c, true)));
  }

  async destroy(): Promise<void> {
    const containers = [...this.nodes.values()].map((n) => n.container);
    if (containers.length > 0) await dockerTry(['rm', '-f', '-v', ...containers], { timeoutMs: 120_000 });
    if (this.network) await dockerTry(['network', 'rm', this.network]);
    await rm(this.opts.workDir, { recursive: true, force: true });
  }

  private async createNetwork(): Promise<void> {
    const name = `yurt-e2e-${this.opts.runId}`;
    const failures: string[] = [];
    for (const n of this.opts.subnets) {
      const subnet = `198.18.${n}.0/24`;
      const r = await dockerTry(['network', 'create', '--driver', 'bridge', '--subnet', subnet, '--gateway', `198.18.${n}.1`, name]);
      if (r.code === 0) {
        this.network = name;
        this.subnet = `198.18.${n}`;
        this.gateway = `198.18.${n}.1`;
        return;
      }
      failures.push(`${subnet}: ${r.stderr.trim()}`);
    }
    throw new Error(`cannot create the test network:\n  ${failures.join('\n  ')}`);
  }

  private defineServer(name: string): ClusterNode {
    const i = Number(name.split('-')[1]);
    const node: ClusterNode = { name, role: 'server', container: `yurt-e2e-${this.opts.runId}-${name}`, ip: `${this.subnet}.${10 + i}`, base: true };
    this.nodes.set(name, node);
    return node;
  }

  private async runServer(s: ClusterNode): Promise<void> {
    const n = this.opts.servers;
    // Every server lists all of them, itself included, as operators' configs do.
    const retryJoin = n > 1 ? this.servers().map((o) => `-retry-join=${o.name}`) : [];
    const configFile = join(this.opts.workDir, 'server.hcl');
    await writeFile(configFile, SERVER_CONFIG);
    await docker([
      'run', '-d', '--name', s.container, '--hostname', s.name,
      '--network', this.network, '--ip', s.ip, '--network-alias', s.name,
      '--label', `yurt-e2e=${this.opts.runId}`,
      '-v', `${configFile}:/etc/yurt.d/50-e2e.hcl:ro`,
      this.opts.image,
      'agent', '-config=/etc/yurt.d', '-server', `-bootstrap-expect=${n}`, ...retryJoin,
    ]);
  }

  /**
   * Starts a client container (its own dockerd inside), loads the task images into that
   * engine and waits until the node is ready. `base` marks the clients every scenario has.
   */
  async addClient(name: string, opts: ClientOptions = {}, base = false): Promise<ClusterNode> {
    if (this.nodes.has(name)) throw new Error(`node ${name} already exists`);
    // Never reused: a removed node's address stays its own in the servers' state.
    const n = this.clientsCreated++;
    const index = 21 + n;
    const node: ClusterNode = { name, role: 'client', container: `yurt-e2e-${this.opts.runId}-${name}`, ip: `${this.subnet}.${index}`, base, client: opts };
    this.nodes.set(name, node);
    const configFile = join(this.opts.workDir, `${name}.hcl`);
    await writeFile(configFile, clientConfig(opts));
    // Each client lists the servers starting at a different one, so the clients spread over the
    // servers (a client talks to the first that answers) and a fault of any one server reaches
    // some client.
    const names = this.servers().map((s) => `${s.name}:${RPC_PORT}`);
    const servers = [...names.slice(n % names.length), ...names.slice(0, n % names.length)].join(',');
    await docker([
      'run', '-d', '--name', node.container, '--hostname', name,
      '--network', this.network, '--ip', node.ip, '--network-alias', name,
      '--label', `yurt-e2e=${this.opts.runId}`,
      ...DIND_FLAGS,
      '-v', `${configFile}:/etc/yurt.d/50-e2e.hcl:ro`,
      this.opts.dindImage,
      'agent', '-config=/etc/yurt.d', '-client', `-servers=${servers}`,
    ]);
    await this.prepareClientEngine(node);
    await this.waitForNodeReady(name, 90_000);
    return node;
  }

  /** Waits for the client's inner dockerd and gives it the task images. */
  private async prepareClientEngine(node: ClusterNode): Promise<void> {
    await waitUntil(
      `the Docker engine inside ${node.name}`,
      async () => (await dockerTry(['exec', node.container, 'docker', 'info', '--format', '{{.ServerVersion}}'])).code === 0,
      { timeoutMs: 150_000, intervalMs: 500 },
      async () => `${await containerLogTail(node.container, 20)}\n${(await dockerTry(['exec', node.container, 'tail', '-n', '15', '/var/log/dockerd.log'])).stdout}`,
    );
    for (const image of this.opts.taskImages) {
      const have = await dockerTry(['exec', node.container, 'docker', 'image', 'inspect', image]);
      if (have.code !== 0) await loadImageInto(node.container, image);
    }
  }

  /** Takes an extra node out for good: ineligible first, so nothing lands on it while it dies. */
  async removeNode(name: string): Promise<void> {
    const node = this.node(name);
    if (node.role === 'client') {
      const id = await this.nodeIdOrNull(name);
      if (id) await this.api.request('POST', `/v1/node/${id}/eligibility`, { NodeID: id, Eligibility: 'ineligible' }).catch(() => undefined);
    }
    await dockerTry(['rm', '-f', '-v', node.container], { timeoutMs: 60_000 });
    this.nodes.delete(name);
    this.disconnected.delete(name);
    this.paused.delete(name);
  }

  // ---- faults ----------------------------------------------------------------------------

  async kill(name: string): Promise<void> {
    await docker(['kill', this.node(name).container]);
  }

  async stop(name: string, graceSeconds = 10): Promise<void> {
    await docker(['stop', '-t', String(graceSeconds), this.node(name).container], { timeoutMs: (graceSeconds + 60) * 1000 });
  }

  /** Starts a stopped or killed container again (same name, address and data). */
  async startAgain(name: string): Promise<void> {
    const node = this.node(name);
    await docker(['start', node.container]);
    if (node.role === 'client') await this.prepareClientEngine(node);
  }

  async restart(names: string[]): Promise<void> {
    await docker(['restart', '-t', '10', ...names.map((n) => this.node(n).container)], { timeoutMs: 120_000 });
  }

  async pause(name: string): Promise<void> {
    await docker(['pause', this.node(name).container]);
    this.paused.add(name);
  }

  async unpause(name: string): Promise<void> {
    await docker(['unpause', this.node(name).container]);
    this.paused.delete(name);
  }

  /** A partition: the container loses its interface on the cluster's network. */
  async disconnect(name: string): Promise<void> {
    await docker(['network', 'disconnect', this.network, this.node(name).container]);
    this.disconnected.add(name);
  }

  async reconnect(name: string): Promise<void> {
    const node = this.node(name);
    await docker(['network', 'connect', '--ip', node.ip, '--alias', node.name, this.network, node.container]);
    this.disconnected.delete(name);
  }

  /** Restarts the yurt agent process of a client; the container and its dockerd stay up. */
  async restartClientAgent(name: string): Promise<{ before: number; after: number }> {
    const c = this.node(name).container;
    const pid = async (): Promise<number> => Number((await dockerTry(['exec', c, 'cat', '/run/yurt-agent.pid'])).stdout.trim());
    const before = await pid();
    if (!(before > 0)) throw new Error(`${name}: no agent pid in /run/yurt-agent.pid`);
    await docker(['exec', c, 'kill', '-TERM', String(before)]);
    const after = await waitUntil(
      `${name}'s agent to be started again (it was pid ${before})`,
      async () => {
        const p = await pid();
        if (!(p > 0) || p === before) return undefined;
        return (await dockerTry(['exec', c, 'kill', '-0', String(p)])).code === 0 ? p : undefined;
      },
      { timeoutMs: 60_000 },
    );
    return { before, after };
  }

  // ---- looking at it ---------------------------------------------------------------------

  node(name: string): ClusterNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node named ${name} in the cluster`);
    return n;
  }

  servers(): ClusterNode[] {
    return [...this.nodes.values()].filter((n) => n.role === 'server');
  }

  clients(opts: { baseOnly?: boolean } = {}): ClusterNode[] {
    return [...this.nodes.values()].filter((n) => n.role === 'client' && (!opts.baseOnly || n.base));
  }

  baseUrl(name: string): string {
    return `http://${this.node(name).ip}:${HTTP_PORT}`;
  }

  /** Servers the host can reach now, the one that last answered first. */
  reachableServers(): ClusterNode[] {
    return this.servers().filter((s) => !this.disconnected.has(s.name) && !this.paused.has(s.name));
  }

  private apiBases(): string[] {
    const names = this.reachableServers().map((s) => s.name);
    if (this.preferred && names.includes(this.preferred)) names.unshift(...names.splice(names.indexOf(this.preferred), 1));
    return names.map((n) => this.baseUrl(n));
  }

  /** GET from one agent. A disconnected one is asked from inside its container. */
  async getFrom<T>(name: string, path: string): Promise<T> {
    if (!this.disconnected.has(name)) return requestJson<T>(this.baseUrl(name), 'GET', path);
    // The image's node does the request: busybox's static wget crashes (glibc NSS) in there.
    const r = await docker(['exec', this.node(name).container, 'node', '-e', IN_CONTAINER_GET, `http://127.0.0.1:${HTTP_PORT}${path}`], { timeoutMs: 20_000 });
    return JSON.parse(r.stdout) as T;
  }

  /** Whether this server says it is the leader (its /v1/agent/self member tags). */
  async isLeader(name: string): Promise<boolean> {
    const self = await this.getFrom<AgentSelf>(name, '/v1/agent/self');
    return self.member?.Tags['leader'] === 'true';
  }

  /** The servers among `names` that claim leadership; unreachable ones are left out. */
  async leaders(names: string[] = this.servers().map((s) => s.name)): Promise<string[]> {
    const answers = await Promise.all(names.map(async (n) => ((await this.isLeader(n).catch(() => false)) ? n : null)));
    return answers.filter((n): n is string => n !== null);
  }

  /** Waits until exactly one of `names` is leader and the others name it; returns its name. */
  async waitForLeader(names: string[], timeoutMs: number): Promise<string> {
    const leader = await waitUntil(
      `one leader among ${names.join(', ')}`,
      async () => {
        const ls = await this.leaders(names);
        if (ls.length !== 1) return undefined;
        const leaderRpc = `${this.node(ls[0]!).ip}:${RPC_PORT}`;
        const seen = await Promise.all(names.map((n) => this.getFrom<string>(n, '/v1/status/leader').catch(() => '')));
        return seen.every((s) => s === leaderRpc) ? ls[0] : undefined;
      },
      { timeoutMs, intervalMs: 200 },
      () => this.describeServers(names),
    );
    this.preferred = leader;
    return leader;
  }

  async describeServers(names: string[] = this.servers().map((s) => s.name)): Promise<string> {
    const rows = await Promise.all(
      names.map(async (n) => {
        const self = await this.getFrom<AgentSelf>(n, '/v1/agent/self').catch((e: unknown) => String(e));
        const leader = await this.getFrom<string>(n, '/v1/status/leader').catch(() => '?');
        return typeof self === 'string' ? `${n}: ${self}` : `${n}: leader-tag=${self.member?.Tags['leader']} sees-leader=${leader} raft=${JSON.stringify(self.stats.raft ?? {})}`;
      }),
    );
    return rows.join('\n    ');
  }

  async nodeIdOrNull(name: string): Promise<string | null> {
    const nodes = await this.api.nodes();
    return nodes.find((n) => n.Name === name)?.ID ?? null;
  }

  async nodeId(name: string): Promise<string> {
    const id = await this.nodeIdOrNull(name);
    if (!id) throw new Error(`client ${name} has not registered`);
    return id;
  }

  async waitForNodeReady(name: string, timeoutMs: number): Promise<string> {
    return waitUntil(
      `client ${name} to be ready`,
      async () => {
        const n = (await this.api.nodes()).find((x) => x.Name === name);
        return n && n.Status === 'ready' ? n.ID : undefined;
      },
      { timeoutMs, intervalMs: 500 },
      async () => `${JSON.stringify((await this.api.nodes()).map((n) => `${n.Name}:${n.Status}`))}\n${await containerLogTail(this.node(name).container, 15)}`,
    );
  }

  /** The yurt CLI on the host, pointed at a reachable server (or the one named). */
  async cli(command: string, args: string[], opts: { server?: string; timeoutMs?: number } = {}): Promise<CliResult> {
    const server = opts.server ?? this.apiBases()[0];
    if (!server) throw new Error('no reachable server for the CLI');
    const address = server.startsWith('http') ? server : this.baseUrl(server);
    return yurtCli(address, command, args, { timeoutMs: opts.timeoutMs });
  }

  /** The CLI, failing on a non-zero exit. */
  async cliOk(command: string, args: string[], opts: { server?: string; timeoutMs?: number } = {}): Promise<CliResult> {
    const r = await this.cli(command, args, opts);
    if (r.code !== 0) throw new Error(`\`${r.command}\` exited ${r.code}\n${r.stdout}${r.stderr}`);
    return r;
  }

  /**
   * Puts the base cluster back the way scenarios expect it: every base container running,
   * unpaused and connected, one leader, every base client ready, eligible and not draining.
   */
  async ensureHealthy(): Promise<void> {
    for (const n of [...this.nodes.values()].filter((x) => x.base)) {
      if (this.paused.has(n.name)) await this.unpause(n.name);
      if (this.disconnected.has(n.name)) await this.reconnect(n.name);
      const state = await containerState(n.container);
      if (state === 'paused') await docker(['unpause', n.container]);
      else if (state !== 'running') await this.startAgain(n.name);
    }
    await this.waitForLeader(this.servers().map((s) => s.name), 60_000);
    for (const c of this.clients({ baseOnly: true })) {
      const id = await this.waitForNodeReady(c.name, 90_000);
      const node = await this.api.node(id);
      if (node.Drain) await this.cliOk('node drain', ['-disable', '-yes', id]);
      if (node.SchedulingEligibility !== 'eligible') await this.cliOk('node eligibility', ['-enable', id]);
    }
  }

  /** The last lines of every agent's log (and of each client's inner dockerd). */
  async logTails(lines = 40): Promise<string> {
    const parts: string[] = [];
    for (const n of this.nodes.values()) {
      parts.push(`----- ${n.name} (${n.container}, ${n.ip}) -----\n${await containerLogTail(n.container, lines)}`);
      if (n.role === 'client') {
        // Only its errors: the inner engine's warnings (no os-release, no docker-init) are noise.
        const d = await dockerTry(['exec', n.container, 'sh', '-c', 'grep "level=error" /var/log/dockerd.log | tail -n 8'], { timeoutMs: 10_000 });
        if (d.code === 0 && d.stdout.trim()) parts.push(`----- ${n.name}: inner dockerd errors -----\n${d.stdout.trimEnd()}`);
      }
    }
    return parts.join('\n');
  }

  /**
   * A task's log file read inside the client's container (the agent's data_dir is
   * /var/lib/yurt): what the task wrote, independent of the logs API.
   */
  async taskLogFile(client: string, allocId: string, task = 't', stream: 'stdout' | 'stderr' = 'stdout'): Promise<string> {
    const path = `/var/lib/yurt/client/alloc/${allocId}/alloc/logs/${task}.${stream}.0`;
    return (await docker(['exec', this.node(client).container, 'cat', path], { timeoutMs: 20_000 })).stdout;
  }

  /** docker ps of a client's inner engine: the task containers. */
  async taskContainers(client: string, filter: string[] = []): Promise<Array<{ id: string; startedAt: string; labels: string }>> {
    const c = this.node(client).container;
    const r = await runOk('docker', ['exec', c, 'docker', 'ps', '-q', ...filter.flatMap((f) => ['--filter', f])], { timeoutMs: 20_000 });
    const ids = r.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
    if (ids.length === 0) return [];
    const info = await runOk('docker', ['exec', c, 'docker', 'inspect', '-f', '{{.Id}} {{.State.StartedAt}} {{json .Config.Labels}}', ...ids], { timeoutMs: 20_000 });
    return info.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [id = '', startedAt = '', ...rest] = line.split(' ');
        return { id, startedAt, labels: rest.join(' ') };
      });
  }
}

/**
 * The servers' settings beyond the image's. A new leader gives every node
 * failover_heartbeat_ttl before it counts it down (Nomad's default, 5 minutes): a client
 * stopped just after the previous scenario's election would stay up past any sane wait.
 * 45 s still leaves every client several heartbeats to find a new leader.
 */
const SERVER_CONFIG = '# Written by the e2e harness for the servers.\nserver {\n  failover_heartbeat_ttl = "45s"\n}\n';

function clientConfig(c: ClientOptions): string {
  const meta = Object.entries(c.meta ?? {})
    .map(([k, v]) => `    ${k} = ${JSON.stringify(v)}\n`)
    .join('');
  return [
    '# Written by the e2e harness for this client.',
    'client {',
    c.nodeClass ? `  node_class = ${JSON.stringify(c.nodeClass)}` : '',
    meta ? `  meta {\n${meta}  }` : '',
    c.reservedMemoryMB ? `  reserved {\n    memory = ${c.reservedMemoryMB}\n  }` : '',
    '}',
    '',
  ]
    .filter((l) => l !== '')
    .join('\n') + '\n';
}
