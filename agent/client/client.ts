/**
 * A yurt client: fingerprints the host and its drivers, registers with the servers over
 * websocket RPC, heartbeats within the TTL the server hands back, receives its allocations by
 * push, runs them, and reports their status in batches.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import { isClientTerminal, type Allocation, type AllocClientUpdate, type TaskState } from '../../structs/alloc.js';
import type { ClientHostVolumeConfig, Node, DriverInfo } from '../../structs/node.js';
import type { Driver } from '../../drivers/driver.js';
import { closeDriver } from '../../drivers/registry.js';
import { RpcClient } from '../rpc/rpc-client.js';
import type { AllocsPush, NodeRegisterResponse } from '../server/endpoints.js';
import { fingerprintHost } from './fingerprint/host-fingerprint.js';
import type { DeviceFingerprinter } from './fingerprint/device-fingerprinter.js';
import { NvidiaGpuFingerprinter } from './fingerprint/nvidia-gpu.js';
import { fingerprintChanged } from './fingerprint/fingerprint-diff.js';
import { allowedDevices, applyFingerprintDenylist } from './fingerprint/fingerprint-denylist.js';
import { AllocRunner } from './alloc-runner.js';
import { ClientStateDB, type LocalAllocState } from './client-state.js';
import { AllocDir } from './alloc-dir.js';
import type { AllocResourceUsage } from './alloc-stats.js';
import { checkExecTarget, execInAlloc, type ExecStdio } from './alloc-exec.js';
import type { ExecResult } from '../../drivers/driver.js';
import { YurtError } from '../../structs/errors.js';
import { taskHostEnv } from './host-env.js';
import { collectTerminalAllocs, DEFAULT_GC_POLICY, diskUsagePercent, type GcCandidate } from './alloc-gc.js';

export interface ClientOptions {
  dataDir: string;
  servers: string[];
  /** Mutual TLS to the servers' RPC port (tls.rpc). */
  rpcTls?: WebSocket.ClientOptions;
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
  /** Device plugins. Default: the NVIDIA GPU fingerprinter (finds nothing where there is no nvidia-smi). */
  devices?: DeviceFingerprinter[];
  /**
   * How often the host, devices and drivers are fingerprinted again; a change (a driver turning
   * unhealthy, a GPU disappearing) re-registers the node. Default 30 s, as Nomad's periodic
   * driver fingerprints; 0 turns it off.
   */
  fingerprintIntervalMs?: number;
  /** Nomad's `gc_max_allocs` (default 50): allocations tracked before terminal ones are removed. */
  gcMaxAllocs?: number;
  /** Nomad's `gc_disk_usage_threshold` (default 80): disk use, in percent, that triggers removal. */
  gcDiskUsageThreshold?: number;
  /** Nomad's `gc_interval` (default 1 min): how often the client checks; 0 turns the timer off. */
  gcIntervalMs?: number;
  /** Nomad's `network_interface`: the interface whose address the node advertises. */
  networkInterface?: string;
  /** Nomad's `cpu_total_compute` (MHz) and `memory_total_mb`: override what was fingerprinted. */
  cpuTotalCompute?: number;
  memoryTotalMb?: number;
  /** Nomad's `host_volume` blocks, reported on the node as `HostVolumes`. */
  hostVolumes?: Record<string, { path: string; readOnly: boolean }>;
  /** `options { "driver.allowlist" }`: when not empty, only these drivers are fingerprinted and offered. */
  driverAllowlist?: string[];
  /** `options { "driver.denylist" }`: drivers never fingerprinted nor offered. */
  driverDenylist?: string[];
  /** `options { "fingerprint.denylist" }`: fingerprinters to skip (see fingerprint-denylist.ts). */
  fingerprintDenylist?: string[];
  /**
   * `options { "env.denylist" }`: agent environment variables exec and raw_exec tasks do not
   * inherit; absent, Nomad's default list (host-env.ts).
   */
  envDenylist?: string[];
  /** Nomad's `max_kill_timeout` (default 30 s): no task's kill_timeout waits longer. */
  maxKillTimeoutMs?: number;
  /** Nomad's `drain_on_shutdown`: what `shutdown()` does before stopping; absent or null: no drain. */
  drainOnShutdown?: DrainOnShutdown | null;
  /** Measurement hooks (the client benchmark): an allocation arrived to be run; a status update was queued. */
  observer?: ClientObserver;
}

export interface ClientObserver {
  allocReceived?(allocId: string): void;
  allocUpdated?(u: AllocClientUpdate): void;
}

const DEFAULT_FINGERPRINT_INTERVAL_MS = 30_000;
/** Nomad's default `max_kill_timeout`. */
const DEFAULT_MAX_KILL_TIMEOUT_MS = 30_000;
/** What a drain on shutdown waits beyond its deadline for the servers' forced stops to land. */
const DRAIN_GRACE_MS = 30_000;

/** Nomad's `drain_on_shutdown` block, in milliseconds. */
export interface DrainOnShutdown {
  deadlineMs: number;
  /** Stop the allocations at once instead of migrating them (a drain with a negative deadline). */
  force: boolean;
  ignoreSystemJobs: boolean;
}

/** Nomad's driver.allowlist / driver.denylist: an allowlist, when given, is the only way in. */
export function driverAllowed(name: string, allowlist: readonly string[], denylist: readonly string[]): boolean {
  if (allowlist.length > 0 && !allowlist.includes(name)) return false;
  return !denylist.includes(name);
}

function hostVolumesOf(v: Record<string, { path: string; readOnly: boolean }>): Record<string, ClientHostVolumeConfig> {
  return Object.fromEntries(Object.entries(v).map(([name, h]) => [name, { Name: name, Path: h.path, ReadOnly: h.readOnly }]));
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
  private fingerprintTimer: NodeJS.Timeout | null = null;
  private fingerprinting = false;
  private lastFingerprintWarnings = '';
  /** The node changed since the servers last accepted a registration of it. */
  private nodeDirty = false;
  private readonly devices: DeviceFingerprinter[];
  private gcTimer: NodeJS.Timeout | null = null;
  private gcRunning: Promise<string[]> | null = null;
  /** Terminal allocations found in the local state at start: not run, but their files remain until collected. */
  private readonly finishedOnDisk = new Map<string, number>();
  /** Allocations collected here: a stale push from a server must not start them again. */
  private readonly collected = new Set<string>();
  private stopped = false;
  private registered = false;
  private stateDb: ClientStateDB | null = null;

  /** What exec and raw_exec tasks inherit: the agent's environment at start, less env.denylist. */
  private readonly hostEnv: Record<string, string>;

  constructor(private readonly opts: ClientOptions) {
    this.logger = opts.logger.child({ component: 'client' });
    this.rpc = new RpcClient({ servers: opts.servers, logger: this.logger, ...(opts.rpcTls ? { tls: opts.rpcTls } : {}) });
    this.devices = opts.devices ?? [new NvidiaGpuFingerprinter()];
    this.hostEnv = taskHostEnv(process.env, opts.envDenylist);
  }

  /** The node as last fingerprinted (what the servers were or will be told). */
  currentNode(): Node | null {
    return this.node;
  }

  /** Registered with a server and watching its allocations. */
  isRegistered(): boolean {
    return this.registered;
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
    for (const d of this.opts.drivers({ nodeId: this.identity.ID, dataDir: this.opts.dataDir })) {
      if (driverAllowed(d.name, this.opts.driverAllowlist ?? [], this.opts.driverDenylist ?? [])) this.drivers.set(d.name, d);
      else await closeDriver(d).catch(() => undefined);
    }
    this.stateDb = ClientStateDB.open(join(this.opts.dataDir, 'state'));
    // Fingerprint before restoring: restored tasks' `${attr.*}` need the node's attributes.
    this.node = await this.buildNode(this.identity);
    this.restoreAllocs(this.stateDb.all());
    this.rpc.onPush('allocs', (d) => this.onAllocs(d as AllocsPush));
    this.rpc.onConnect(() => void this.registerAndWatch());
    this.rpc.start();
    this.flushTimer = setInterval(() => void this.flushUpdates(), this.opts.updateBatchMs ?? 200);
    const every = this.opts.fingerprintIntervalMs ?? DEFAULT_FINGERPRINT_INTERVAL_MS;
    if (every > 0) this.fingerprintTimer = setInterval(() => void this.refingerprint(), every);
    const gcEvery = this.opts.gcIntervalMs ?? 60_000;
    if (gcEvery > 0) this.gcTimer = setInterval(() => void this.collectGarbage(), gcEvery);
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
    const denylist = this.opts.fingerprintDenylist ?? [];
    const host = await fingerprintHost({
      dataDir: this.opts.dataDir,
      devices: allowedDevices(this.devices, denylist),
      ...(this.opts.networkInterface ? { networkInterface: this.opts.networkInterface } : {}),
      ...(this.opts.cpuTotalCompute ? { cpuTotalCompute: this.opts.cpuTotalCompute } : {}),
    });
    const kept = applyFingerprintDenylist(host.attributes, host.resources, denylist);
    const resources = this.opts.memoryTotalMb ? { ...kept.resources, Memory: { MemoryMB: this.opts.memoryTotalMb } } : kept.resources;
    // Said once, not on every periodic fingerprint: a host's quirks do not change every 30 s.
    const warnings = host.warnings.join('\n');
    if (warnings !== this.lastFingerprintWarnings) for (const w of host.warnings) this.logger.warn(w);
    this.lastFingerprintWarnings = warnings;
    const drivers: Record<string, DriverInfo> = {};
    const attributes: Record<string, string> = { ...kept.attributes };
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
      NodeResources: resources,
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
      ...(this.opts.hostVolumes && Object.keys(this.opts.hostVolumes).length > 0 ? { HostVolumes: hostVolumesOf(this.opts.hostVolumes) } : {}),
      CreateIndex: 0,
      ModifyIndex: 0,
    };
  }

  /**
   * Fingerprint again and re-register when something that matters changed. The server keeps
   * the node's scheduling eligibility and drain across a re-registration, so this cannot undo an
   * operator's drain.
   */
  async refingerprint(): Promise<boolean> {
    if (!this.identity || !this.node || this.stopped || this.fingerprinting) return false;
    this.fingerprinting = true;
    try {
      const next = await this.buildNode(this.identity);
      if (this.stopped) return false;
      if (fingerprintChanged(this.node, next)) {
        this.logger.info({ node_id: next.ID }, 'node fingerprint changed; updating the servers');
        this.node = next;
        this.nodeDirty = true;
      }
      if (this.nodeDirty && this.registered) await this.reregister();
      return true;
    } catch (err) {
      this.logger.warn({ err }, 'periodic fingerprint failed');
      return false;
    } finally {
      this.fingerprinting = false;
    }
  }

  private async reregister(): Promise<void> {
    if (!this.node) return;
    const node = this.node;
    const reg = await this.rpc.call<NodeRegisterResponse>('Node.Register', { Node: node });
    // Only a registration of the newest fingerprint settles it; a newer one waits for the next tick.
    if (this.node === node) this.nodeDirty = false;
    this.scheduleHeartbeat(reg.HeartbeatTTLMs);
  }

  private async registerAndWatch(): Promise<void> {
    if (!this.node || !this.identity || this.stopped) return;
    try {
      const node = this.node;
      const reg = await this.rpc.call<NodeRegisterResponse>('Node.Register', { Node: node });
      if (this.node === node) this.nodeDirty = false;
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
    // Heartbeat when the TTL runs out, as Nomad's client does: the server waits TTL plus
    // heartbeat_grace, and the TTL rule sizes the leader's load for exactly this rate.
    this.heartbeatTimer = setTimeout(() => void this.heartbeat(), Math.max(50, ttlMs));
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
      // An allocation that was being stopped when the agent went down is restored like a running
      // one: its tasks may still run, and the server, which has not heard the outcome, sends the
      // stop again once this client registers; the runner then finishes it and reports.
      if (finished || isClientTerminal(s.alloc.ClientStatus)) {
        const ends = tasks.map((t) => (t.FinishedAt !== null ? Date.parse(t.FinishedAt) : 0));
        this.finishedOnDisk.set(s.alloc.ID, Math.max(0, ...ends));
        // Its final status may not have reached a server before the restart: say it again.
        if (finished) {
          const failed = tasks.some((t) => t.Failed);
          this.queueUpdate({
            ID: s.alloc.ID,
            ClientStatus: failed ? 'failed' : 'complete',
            ClientDescription: failed ? 'Failed tasks' : 'All tasks have completed',
            TaskStates: s.taskStates,
            ModifyTime: Date.now() * 1e6,
          });
        }
        continue;
      }
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
        node: () => ({
          id: this.identity?.ID ?? '',
          name: this.opts.name,
          region: this.opts.region,
          datacenter: this.opts.datacenter,
          nodeClass: this.opts.nodeClass,
          nodePool: this.opts.nodePool,
          attributes: this.node?.Attributes ?? {},
          meta: this.node?.Meta ?? this.opts.meta,
        }),
        onUpdate: (u) => this.queueUpdate(u),
        persist: (s, durable) => this.stateDb?.put(s, durable) ?? Promise.resolve(),
        hostEnv: this.hostEnv,
        maxKillTimeoutMs: this.opts.maxKillTimeoutMs ?? DEFAULT_MAX_KILL_TIMEOUT_MS,
      },
      restore,
    );
    this.runners.set(alloc.ID, r);
    r.run();
    // Nomad makes room when an allocation arrives, not only on the GC timer.
    if (this.runners.size + this.finishedOnDisk.size > (this.opts.gcMaxAllocs ?? DEFAULT_GC_POLICY.maxAllocs)) void this.collectGarbage();
  }

  /** Allocations this client tracks: running, finished in memory, and finished ones left from before a restart. */
  trackedAllocCount(): number {
    return this.runners.size + this.finishedOnDisk.size;
  }

  /**
   * Removes terminal allocations (directory and local state) while the client tracks more than
   * gc_max_allocs or the disk is over gc_disk_usage_threshold. Returns the removed IDs. A call
   * while a pass is running joins that pass. An allocation whose final status update is still
   * queued is kept until the update is sent.
   */
  collectGarbage(): Promise<string[]> {
    this.gcRunning ??= this.runGc().finally(() => (this.gcRunning = null));
    return this.gcRunning;
  }

  private async runGc(): Promise<string[]> {
    const terminal: GcCandidate[] = [...this.finishedOnDisk].filter(([id]) => !this.pendingUpdates.has(id)).map(([id, finishedAt]) => ({ id, finishedAt }));
    // An allocation whose final status is not yet sent stays until it is: the update needs it.
    for (const r of this.runners.values()) if (r.isTerminal() && !this.pendingUpdates.has(r.id)) terminal.push({ id: r.id, finishedAt: r.finishedAt() });
    const removed = await collectTerminalAllocs(
      terminal,
      this.trackedAllocCount(),
      { maxAllocs: this.opts.gcMaxAllocs ?? DEFAULT_GC_POLICY.maxAllocs, diskUsageThreshold: this.opts.gcDiskUsageThreshold ?? DEFAULT_GC_POLICY.diskUsageThreshold },
      () => diskUsagePercent(this.allocsRoot),
      async (id) => {
        const r = this.runners.get(id);
        if (r) await r.destroy();
        else await new AllocDir(this.allocsRoot, id).destroy();
        this.runners.delete(id);
        this.finishedOnDisk.delete(id);
        this.collected.add(id);
        // Bounded: by the time this many more are collected, servers have long had the final status.
        if (this.collected.size > 10_000) this.collected.delete(this.collected.values().next().value!);
        await this.stateDb?.remove(id);
      },
    );
    if (removed.length > 0) this.logger.info({ count: removed.length, alloc_ids: removed }, 'garbage collected terminal allocations');
    return removed;
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
    // Finished allocations are history; they are not run again (also after an agent restart,
    // and also when the server has not yet heard that they finished).
    if (isClientTerminal(alloc.ClientStatus) || this.finishedOnDisk.has(alloc.ID) || this.collected.has(alloc.ID)) return;
    if (alloc.DesiredStatus !== 'run') {
      // Told to stop something never started here: report it finished so the server can move on.
      this.queueUpdate({ ID: alloc.ID, ClientStatus: 'complete', ClientDescription: 'alloc stopped before it started', TaskStates: alloc.TaskStates, ModifyTime: Date.now() * 1e6 });
      return;
    }
    this.opts.observer?.allocReceived?.(alloc.ID);
    this.startRunner(alloc);
  }

  private queueUpdate(u: AllocClientUpdate): void {
    this.opts.observer?.allocUpdated?.(u);
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

  /**
   * Leave the cluster gracefully: with `drain_on_shutdown`, first drain this node through the
   * servers (Node.UpdateDrain, as `node drain -self` would) and wait until its allocations have
   * been stopped for migration, or the drain deadline has passed, then stop the client. Without
   * it, the same as `stop()`: tasks keep running and a restarted agent reattaches to them.
   */
  async shutdown(): Promise<void> {
    const drain = this.opts.drainOnShutdown;
    if (drain && this.identity && this.registered && !this.stopped) {
      try {
        await this.drainSelf(drain);
      } catch (err) {
        this.logger.warn({ err }, 'drain on shutdown failed; stopping anyway');
      }
    }
    await this.stop();
  }

  private async drainSelf(d: DrainOnShutdown): Promise<void> {
    const id = this.identity!;
    // Nomad's DrainSpec: a negative deadline forces the allocations off at once.
    const deadlineNs = d.force ? -1 : Math.max(1, d.deadlineMs) * 1e6;
    this.logger.info({ deadline_ms: d.deadlineMs, force: d.force }, 'draining this node before shutdown');
    await this.rpc.call('Node.UpdateDrain', { NodeID: id.ID, DrainSpec: { Deadline: deadlineNs, IgnoreSystemJobs: d.ignoreSystemJobs }, MarkEligible: false });
    // The servers stop everything left when the deadline passes; allow kill timeouts on top.
    const giveUp = Date.now() + (d.force ? 0 : d.deadlineMs) + DRAIN_GRACE_MS;
    const waitingFor = (): AllocRunner[] =>
      [...this.runners.values()].filter((r) => !r.isTerminal() && !r.isStopped() && !(d.ignoreSystemJobs && r.jobType() === 'system'));
    while (waitingFor().length > 0) {
      if (Date.now() > giveUp) {
        this.logger.warn({ alloc_ids: waitingFor().map((r) => r.id) }, 'drain deadline passed with allocations still running');
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // Their final states must reach the servers before the connection closes.
    await this.flushUpdates();
    this.logger.info('node drained');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.fingerprintTimer) clearInterval(this.fingerprintTimer);
    if (this.gcTimer) clearInterval(this.gcTimer);
    await this.gcRunning?.catch(() => undefined);
    await this.flushUpdates().catch(() => undefined);
    await this.rpc.close();
    await Promise.all([...this.drivers.values()].map((d) => closeDriver(d).catch(() => undefined)));
    await Promise.all([...this.runners.values()].map((r) => r.detach()));
    await this.stateDb?.close();
  }

  /** This client runs (or ran and still tracks) the allocation. */
  hasAlloc(allocId: string): boolean {
    return this.runners.has(allocId);
  }

  /** A task's state as this client sees it now (fresher than what the servers hold). */
  taskState(allocId: string, task: string): TaskState | undefined {
    return this.runners.get(allocId)?.taskStates()[task];
  }

  /** An allocation this client tracks, as the servers last sent it; null if it has none such. */
  allocation(allocId: string): Allocation | null {
    return this.runners.get(allocId)?.allocation() ?? null;
  }

  private runnerFor(allocId: string): AllocRunner {
    const r = this.runners.get(allocId);
    if (!r) throw new YurtError('not_found', `Unknown allocation "${allocId}"`);
    return r;
  }

  /**
   * Nomad's `alloc restart`: restarts `task`, or every running task, in place ("Restart
   * Signaled"); the restart does not count against the restart policy.
   */
  restartAlloc(allocId: string, task?: string): Promise<void> {
    return this.runnerFor(allocId).restartTasks(task);
  }

  /** Nomad's `alloc signal`: sends `signal` to `task`, or to every running task ("Signaling"). */
  signalAlloc(allocId: string, task: string | undefined, signal: string): Promise<void> {
    return this.runnerFor(allocId).signalTasks(signal, task);
  }

  /** Throws what `execAlloc` would throw before running anything (unknown alloc or task, task not running). */
  checkExec(allocId: string, task: string | undefined): void {
    checkExecTarget(this.runnerFor(allocId), allocId, task);
  }

  /** Nomad's `alloc exec`: run `command` in `task`'s environment with the given stdio; resolves with its exit code. */
  async execAlloc(allocId: string, task: string | undefined, command: string[], stdio: ExecStdio): Promise<ExecResult> {
    return execInAlloc(this.runnerFor(allocId), allocId, task, command, stdio);
  }

  /** Nomad's AllocResourceUsage for the allocation's running tasks. */
  allocStats(allocId: string): Promise<AllocResourceUsage> {
    const mhz = Number(this.node?.Attributes['cpu.frequency'] ?? '0');
    return this.runnerFor(allocId).stats(Number.isFinite(mhz) ? mhz : 0);
  }

  /** Stop every allocation's tasks (used by tests and -dev shutdown, where nothing should outlive the agent). */
  async stopAllocs(): Promise<void> {
    await Promise.all([...this.runners.values()].map((r) => r.stop('agent shutting down')));
  }
}
