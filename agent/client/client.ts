/**
 * A yurt client: fingerprints the host and its drivers, registers with the servers over
 * websocket RPC, heartbeats within the TTL the server hands back, receives its allocations by
 * push, runs them, and reports their status in batches.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { isClientTerminal, type Allocation, type AllocClientUpdate } from '../../structs/alloc.js';
import type { Node, DriverInfo } from '../../structs/node.js';
import type { Driver } from '../../drivers/driver.js';
import { closeDriver } from '../../drivers/registry.js';
import { RpcClient } from '../rpc/rpc-client.js';
import type { AllocsPush, NodeRegisterResponse } from '../server/endpoints.js';
import { fingerprintHost } from './fingerprint/host-fingerprint.js';
import { AllocRunner } from './alloc-runner.js';
import { ClientStateDB, type LocalAllocState } from './client-state.js';
import type { AllocDir } from './alloc-dir.js';

export interface ClientOptions {
  dataDir: string;
  servers: string[];
  region: string;
  datacenter: string;
  name: string;
  nodeClass: string;
  nodePool: string;
  meta: Record<string, string>;
  reserved: { cpu: number; memoryMB: number; diskMB: number };
  /** host:port of this agent's HTTP API (for log streaming). */
  httpAddr: string;
  /** Builds the drivers once the node's identity is known (drivers label their work with it). */
  drivers: (node: { nodeId: string; dataDir: string }) => Driver[];
  logger: Logger;
  /** How often queued allocation updates are sent (Nomad batches every 200 ms). */
  updateBatchMs?: number;
}

interface NodeIdentity {
  ID: string;
  SecretID: string;
}

export class Client {
  private readonly rpc: RpcClient;
  private readonly logger: Logger;
  private readonly drivers = new Map<string, Driver>();
  private readonly runners = new Map<string, AllocRunner>();
  private readonly pendingUpdates = new Map<string, AllocClientUpdate>();
  private node: Node | null = null;
  private identity: NodeIdentity | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private registered = false;
  private stateDb: ClientStateDB | null = null;

  constructor(private readonly opts: ClientOptions) {
    this.logger = opts.logger.child({ component: 'client' });
    this.rpc = new RpcClient({ servers: opts.servers, logger: this.logger });
  }

  nodeId(): string | null {
    return this.identity?.ID ?? null;
  }

  allocDir(allocId: string): AllocDir | null {
    return this.runners.get(allocId)?.dir ?? null;
  }

  get allocsRoot(): string {
    return join(this.opts.dataDir, 'alloc');
  }

  async start(): Promise<void> {
    await mkdir(this.allocsRoot, { recursive: true });
    this.identity = await this.loadIdentity();
    for (const d of this.opts.drivers({ nodeId: this.identity.ID, dataDir: this.opts.dataDir })) this.drivers.set(d.name, d);
    this.stateDb = ClientStateDB.open(join(this.opts.dataDir, 'state'));
    this.restoreAllocs(this.stateDb.all());
    this.node = await this.buildNode(this.identity);
    this.rpc.onPush('allocs', (d) => this.onAllocs(d as AllocsPush));
    this.rpc.onConnect(() => void this.registerAndWatch());
    this.rpc.start();
    this.flushTimer = setInterval(() => void this.flushUpdates(), this.opts.updateBatchMs ?? 200);
    this.logger.info({ node_id: this.identity.ID, name: this.node.Name }, 'client started');
  }

  /** Resolves once the node is registered and watching its allocations. */
  async waitRegistered(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.registered) {
      if (Date.now() > deadline) throw new Error('client did not register in time');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async loadIdentity(): Promise<NodeIdentity> {
    const dir = join(this.opts.dataDir, 'client');
    const file = join(dir, 'node-id.json');
    try {
      const v = JSON.parse(await readFile(file, 'utf8')) as NodeIdentity;
      if (typeof v.ID === 'string' && typeof v.SecretID === 'string') return v;
    } catch {
      // First start: mint an identity below.
    }
    const id = { ID: randomUUID(), SecretID: randomUUID() };
    await mkdir(dir, { recursive: true });
    await writeFile(file, JSON.stringify(id), { mode: 0o600 });
    return id;
  }

  private async buildNode(id: NodeIdentity): Promise<Node> {
    const host = await fingerprintHost({ dataDir: this.opts.dataDir });
    const drivers: Record<string, DriverInfo> = {};
    const attributes: Record<string, string> = { ...host.attributes };
    await Promise.all(
      [...this.drivers.values()].map(async (d) => {
        const fp = await d.fingerprint();
        drivers[d.name] = { Detected: fp.detected, Healthy: fp.healthy, HealthDescription: fp.healthDescription, Attributes: fp.attributes, UpdateTime: Date.now() * 1e6 };
        if (fp.detected) {
          attributes[`driver.${d.name}`] = '1';
          Object.assign(attributes, fp.attributes);
        }
      }),
    );
    const r = this.opts.reserved;
    return {
      ID: id.ID,
      SecretID: id.SecretID,
      Datacenter: this.opts.datacenter,
      Name: this.opts.name,
      HTTPAddr: this.opts.httpAddr,
      TLSEnabled: false,
      Attributes: attributes,
      NodeResources: host.resources,
      ReservedResources: { Cpu: { CpuShares: r.cpu, ReservedCpuCores: [] }, Memory: { MemoryMB: r.memoryMB }, Disk: { DiskMB: r.diskMB }, Networks: { ReservedHostPorts: '' } },
      Meta: { ...this.opts.meta },
      NodeClass: this.opts.nodeClass,
      NodePool: this.opts.nodePool,
      ComputedClass: '',
      Drain: false,
      DrainStrategy: null,
      SchedulingEligibility: 'eligible',
      Status: 'initializing',
      StatusDescription: '',
      StatusUpdatedAt: 0,
      Events: [],
      Drivers: drivers,
      CreateIndex: 0,
      ModifyIndex: 0,
    };
  }

  private async registerAndWatch(): Promise<void> {
    if (!this.node || !this.identity || this.stopped) return;
    try {
      const reg = await this.rpc.call<NodeRegisterResponse>('Node.Register', { Node: this.node });
      this.scheduleHeartbeat(reg.HeartbeatTTLMs);
      const initial = await this.rpc.call<AllocsPush>('Node.WatchAllocs', { NodeID: this.identity.ID, SecretID: this.identity.SecretID });
      this.onAllocs(initial);
      this.registered = true;
      this.logger.info({ server: this.rpc.currentServer() }, 'node registered');
    } catch (err) {
      this.logger.warn({ err }, 'node registration failed; retrying');
      if (!this.stopped) setTimeout(() => void this.registerAndWatch(), 1000).unref();
    }
  }

  private scheduleHeartbeat(ttlMs: number): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    // Heartbeat well inside the TTL so one slow round trip does not cost the node.
    this.heartbeatTimer = setTimeout(() => void this.heartbeat(), Math.max(50, ttlMs / 2));
  }

  private async heartbeat(): Promise<void> {
    if (!this.identity || this.stopped) return;
    try {
      const r = await this.rpc.call<NodeRegisterResponse>('Node.UpdateStatus', { NodeID: this.identity.ID, SecretID: this.identity.SecretID, Status: 'ready' });
      this.scheduleHeartbeat(r.HeartbeatTTLMs);
    } catch (err) {
      this.logger.warn({ err }, 'heartbeat failed; retrying');
      this.scheduleHeartbeat(2000);
    }
  }

  /** Reattach to the allocations this client ran before a restart, before any server is reached. */
  private restoreAllocs(saved: LocalAllocState[]): void {
    for (const s of saved) {
      const tasks = Object.values(s.taskStates);
      const finished = tasks.length > 0 && tasks.every((t) => t.State === 'dead');
      if (finished || s.alloc.DesiredStatus !== 'run' || isClientTerminal(s.alloc.ClientStatus)) continue;
      this.logger.info({ alloc_id: s.alloc.ID }, 'restoring allocation');
      this.startRunner(s.alloc, s);
    }
  }

  private startRunner(alloc: Allocation, restore?: LocalAllocState): void {
    const r = new AllocRunner(
      alloc,
      {
        allocsRoot: this.allocsRoot,
        drivers: this.drivers,
        logger: this.logger,
        node: { region: this.opts.region, datacenter: this.opts.datacenter, nodeId: this.identity?.ID ?? '', nodeName: this.opts.name },
        onUpdate: (u) => this.queueUpdate(u),
        persist: (s) => this.stateDb?.put(s) ?? Promise.resolve(),
      },
      restore,
    );
    this.runners.set(alloc.ID, r);
    r.run();
  }

  private onAllocs(push: AllocsPush): void {
    for (const alloc of push.Allocs) this.handleAlloc(alloc);
  }

  private handleAlloc(alloc: Allocation): void {
    const runner = this.runners.get(alloc.ID);
    if (runner) {
      runner.update(alloc);
      return;
    }
    // Finished allocations are history; they are not run again (also after an agent restart).
    if (isClientTerminal(alloc.ClientStatus)) return;
    if (alloc.DesiredStatus !== 'run') {
      // Told to stop something never started here: report it finished so the server can move on.
      this.queueUpdate({ ID: alloc.ID, ClientStatus: 'complete', ClientDescription: 'alloc stopped before it started', TaskStates: alloc.TaskStates, ModifyTime: Date.now() * 1e6 });
      return;
    }
    this.startRunner(alloc);
  }

  private queueUpdate(u: AllocClientUpdate): void {
    this.pendingUpdates.set(u.ID, u);
  }

  private async flushUpdates(): Promise<void> {
    if (this.pendingUpdates.size === 0 || !this.identity || !this.registered) return;
    const batch = [...this.pendingUpdates.values()];
    this.pendingUpdates.clear();
    try {
      await this.rpc.call('Node.UpdateAlloc', { NodeID: this.identity.ID, SecretID: this.identity.SecretID, Allocs: batch });
    } catch (err) {
      // Put them back unless a newer update for the same allocation arrived meanwhile.
      for (const u of batch) if (!this.pendingUpdates.has(u.ID)) this.pendingUpdates.set(u.ID, u);
      this.logger.warn({ err }, 'allocation status update failed; will retry');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    if (this.flushTimer) clearInterval(this.flushTimer);
    await this.flushUpdates().catch(() => undefined);
    await this.rpc.close();
    await Promise.all([...this.drivers.values()].map((d) => closeDriver(d).catch(() => undefined)));
    await this.stateDb?.close();
  }

  /** Stop every allocation's tasks (used by tests and -dev shutdown, where nothing should outlive the agent). */
  async stopAllocs(): Promise<void> {
    await Promise.all([...this.runners.values()].map((r) => r.stop('agent shutting down')));
  }
}
