/**
 * The agent's configuration: the stanzas of Nomad's agent config
 * (https://developer.hashicorp.com/nomad/docs/configuration) that yurt implements, with
 * Nomad's defaults. Field names are camelCase (this type is internal, not a wire format);
 * durations are milliseconds (suffix `Ms`), sizes MB, CPU MHz.
 *
 * `AgentConfig` is what `resolveAgentConfig` returns: every field filled in. Config files and
 * flags produce `PartialAgentConfig`s, which merge over the defaults in order.
 */
import { availableParallelism } from 'node:os';

export const logLevels = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof logLevels)[number];

export const tlsVersions = ['tls10', 'tls11', 'tls12', 'tls13'] as const;
export type TlsVersion = (typeof tlsVersions)[number];

export interface PortSet {
  http: number;
  rpc: number;
  serf: number;
}

export interface AddressSet {
  http: string;
  rpc: string;
  serf: string;
}

export interface ServerJoinConfig {
  /** Addresses (host or host:port) to join, retrying. */
  retryJoin: string[];
  retryIntervalMs: number;
  /** Attempts before giving up; 0 retries forever. */
  retryMax: number;
}

export interface ServerConfig {
  enabled: boolean;
  /** Servers to wait for before the first leader election; >= 1 when enabled. */
  bootstrapExpect: number;
  /** Scheduler workers on this server; 0 disables scheduling here. Default: CPU count. */
  numSchedulers: number;
  heartbeatGraceMs: number;
  minHeartbeatTtlMs: number;
  maxHeartbeatsPerSecond: number;
  /**
   * Nomad's `failover_heartbeat_ttl` (default 5m): the TTL every node gets from a new leader,
   * which has no record of when each last heartbeated; a node that went away just before the
   * election is marked down only after it.
   */
  failoverHeartbeatTtlMs: number;
  /** Entries applied between Raft snapshots (Nomad's raft_snapshot_threshold). */
  raftSnapshotThreshold: number;
  /** Entries kept behind a snapshot for followers slightly behind (raft_trailing_logs). */
  raftTrailingLogs: number;
  serverJoin: ServerJoinConfig;
  /** How old finished objects must be before garbage collection forgets them (Nomad's *_gc_threshold). */
  evalGcThresholdMs: number;
  jobGcThresholdMs: number;
  nodeGcThresholdMs: number;
  deploymentGcThresholdMs: number;
}

export interface ReservedConfig {
  /** MHz. */
  cpu: number;
  /** MB. */
  memory: number;
  /** MB. */
  disk: number;
  /** Nomad's port-range syntax: "22,80,8000-8100". */
  reservedPorts: string;
}

export interface HostVolumeConfig {
  path: string;
  readOnly: boolean;
}

/** Nomad's `client { drain_on_shutdown { ... } }`: drain the node before the agent stops. */
export interface DrainOnShutdownConfig {
  /** The block is present. */
  enabled: boolean;
  /** How long the drain may take before the remaining allocations are stopped anyway. Nomad's default: 1h. */
  deadlineMs: number;
  /** Stop the remaining allocations at once instead of migrating them. */
  force: boolean;
  /** Leave system jobs' allocations running while draining. */
  ignoreSystemJobs: boolean;
}

export interface ClientConfig {
  enabled: boolean;
  /** Server RPC addresses, host:port (a missing port becomes the default RPC port 4647). */
  servers: string[];
  nodeClass: string;
  nodePool: string;
  meta: Record<string, string>;
  reserved: ReservedConfig;
  options: Record<string, string>;
  /**
   * Nomad's `chroot_env`: host path → path inside exec tasks' root. Empty means Nomad's
   * default set (drivers/exec/chroot.ts); a non-empty map replaces it, as in Nomad.
   */
  chrootEnv: Record<string, string>;
  /** Interface to fingerprint; "" picks the one with the default route. */
  networkInterface: string;
  /** MHz; 0 means use the fingerprinted value. */
  cpuTotalCompute: number;
  /** MB; 0 means use the fingerprinted value. */
  memoryTotalMb: number;
  hostVolumes: Record<string, HostVolumeConfig>;
  maxKillTimeoutMs: number;
  gcIntervalMs: number;
  /** Allocations tracked before terminal ones are collected (Nomad's default 50). */
  gcMaxAllocs: number;
  /** Percent of disk in use that makes the client collect terminal allocations (Nomad's default 80). */
  gcDiskUsageThreshold: number;
  drainOnShutdown: DrainOnShutdownConfig;
  serverJoin: ServerJoinConfig;
}

export interface TelemetryConfig {
  prometheusMetrics: boolean;
  collectionIntervalMs: number;
  disableHostname: boolean;
  publishAllocationMetrics: boolean;
  publishNodeMetrics: boolean;
}

export interface TlsConfig {
  http: boolean;
  rpc: boolean;
  caFile: string;
  certFile: string;
  keyFile: string;
  verifyServerHostname: boolean;
  verifyHttpsClient: boolean;
  tlsMinVersion: TlsVersion;
}

/**
 * The `limits` stanza. Nomad's has connection limits; yurt adds a request rate per RPC
 * connection, so one misbehaving or compromised client cannot monopolise a server.
 */
export interface LimitsConfig {
  /** Requests per second one RPC connection may sustain; 0 turns the limit off. */
  rpcRateLimit: number;
  /** Requests one RPC connection may send in a burst above that rate. */
  rpcRateBurst: number;
}

export interface AclConfig {
  enabled: boolean;
  tokenTtlMs: number;
  policyTtlMs: number;
}

export interface AgentConfig {
  /** Absolute path. */
  dataDir: string;
  bindAddr: string;
  region: string;
  datacenter: string;
  name: string;
  logLevel: LogLevel;
  logJson: boolean;
  ports: PortSet;
  /** Bind address per service; defaults to bindAddr. */
  addresses: AddressSet;
  /** host:port other agents use to reach each service. */
  advertise: AddressSet;
  leaveOnInterrupt: boolean;
  leaveOnTerminate: boolean;
  server: ServerConfig;
  client: ClientConfig;
  telemetry: TelemetryConfig;
  tls: TlsConfig;
  acl: AclConfig;
  limits: LimitsConfig;
  /** Started with -dev. */
  devMode: boolean;
  /** Config files loaded, in the order they were merged. */
  files: string[];
}

export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

export type PartialAgentConfig = DeepPartial<AgentConfig>;

export const defaultPorts: Readonly<PortSet> = { http: 4646, rpc: 4647, serf: 4648 };

function serverJoinDefaults(): ServerJoinConfig {
  return { retryJoin: [], retryIntervalMs: 30_000, retryMax: 0 };
}

/**
 * Nomad's DefaultConfig, for the stanzas yurt has. Left empty: dataDir (required outside
 * -dev), addresses and advertise (derived from bindAddr and ports when resolving).
 */
export function defaultAgentConfig(env: { hostname: string; cpuCount?: number }): AgentConfig {
  return {
    dataDir: '',
    bindAddr: '0.0.0.0',
    region: 'global',
    datacenter: 'dc1',
    name: env.hostname,
    logLevel: 'INFO',
    logJson: false,
    ports: { ...defaultPorts },
    addresses: { http: '', rpc: '', serf: '' },
    advertise: { http: '', rpc: '', serf: '' },
    leaveOnInterrupt: false,
    leaveOnTerminate: false,
    server: {
      enabled: false,
      bootstrapExpect: 0,
      numSchedulers: env.cpuCount ?? availableParallelism(),
      heartbeatGraceMs: 10_000,
      minHeartbeatTtlMs: 10_000,
      failoverHeartbeatTtlMs: 300_000,
      maxHeartbeatsPerSecond: 50,
      raftSnapshotThreshold: 8192,
      raftTrailingLogs: 10240,
      serverJoin: serverJoinDefaults(),
      evalGcThresholdMs: 60 * 60_000,
      jobGcThresholdMs: 4 * 60 * 60_000,
      nodeGcThresholdMs: 24 * 60 * 60_000,
      deploymentGcThresholdMs: 60 * 60_000,
    },
    client: {
      enabled: false,
      servers: [],
      nodeClass: '',
      nodePool: 'default',
      meta: {},
      reserved: { cpu: 0, memory: 0, disk: 0, reservedPorts: '' },
      options: {},
      chrootEnv: {},
      networkInterface: '',
      cpuTotalCompute: 0,
      memoryTotalMb: 0,
      hostVolumes: {},
      maxKillTimeoutMs: 30_000,
      gcIntervalMs: 60_000,
      gcMaxAllocs: 50,
      gcDiskUsageThreshold: 80,
      drainOnShutdown: { enabled: false, deadlineMs: 3_600_000, force: false, ignoreSystemJobs: false },
      serverJoin: serverJoinDefaults(),
    },
    telemetry: {
      prometheusMetrics: false,
      collectionIntervalMs: 1_000,
      disableHostname: false,
      publishAllocationMetrics: false,
      publishNodeMetrics: false,
    },
    tls: {
      http: false,
      rpc: false,
      caFile: '',
      certFile: '',
      keyFile: '',
      verifyServerHostname: false,
      verifyHttpsClient: false,
      tlsMinVersion: 'tls12',
    },
    acl: { enabled: false, tokenTtlMs: 30_000, policyTtlMs: 30_000 },
    // Generous: a busy client sends a few requests a second; a flood is thousands.
    limits: { rpcRateLimit: 1000, rpcRateBurst: 2000 },
    devMode: false,
    files: [],
  };
}

/**
 * What -dev changes, after Nomad's DevConfig: one process is server and client, bootstraps
 * alone, listens on loopback, logs at DEBUG, runs raw_exec and publishes metrics. It is a
 * layer between the defaults and the config files, as in Nomad, so files and flags still
 * override it (`-dev -log-level=WARN` logs at WARN). The data dir is a fresh temp dir
 * unless one is given; that part is applied when resolving.
 */
export function devModeLayer(platform: NodeJS.Platform = process.platform): PartialAgentConfig {
  return {
    bindAddr: '127.0.0.1',
    logLevel: 'DEBUG',
    server: { enabled: true, bootstrapExpect: 1 },
    client: {
      enabled: true,
      networkInterface: platform === 'darwin' ? 'lo0' : 'lo',
      options: { 'driver.raw_exec.enable': 'true' },
      gcIntervalMs: 600_000,
    },
    telemetry: { prometheusMetrics: true, publishAllocationMetrics: true, publishNodeMetrics: true },
    devMode: true,
  };
}
