/**
 * Turns the parsed value of one config file (hcl2json's output or JSON.parse's) into a
 * PartialAgentConfig, checking every key and type on the way. Problems are collected, not
 * thrown, each with the file position of the key at fault, so a user sees all of them at
 * once: `agent.hcl:3,3: server.bootstrap_expected: unknown key (did you mean ...)`.
 *
 * Shapes accepted for a block, as Nomad's HCL1-based loader accepts them:
 *   - HCL block syntax (`server { ... }`), which hcl2json returns as an array of bodies;
 *   - an object (`ports = { http = 80 }` in HCL, or `"ports": {...}` in JSON);
 *   - an array of objects (JSON); several bodies merge in order.
 * Labeled blocks (`host_volume "data" { ... }`) come as `{ data: body | body[] }`.
 */
import type { FieldError } from '../../structs/errors.js';
import type { DeepPartial, HostVolumeConfig, LogLevel, PartialAgentConfig, ServerJoinConfig, TlsVersion } from './agent-config.js';
import { defaultPorts, logLevels, tlsVersions } from './agent-config.js';
import { isPlainObject, mergeConfigAt } from './config-merge.js';
import { parseDurationMs } from './duration.js';
import type { PositionIndex, RawPath } from './source-positions.js';
import {
  checkAtLeast,
  checkPercent,
  checkHost,
  checkNotEmpty,
  checkPort,
  checkPortRanges,
  checkPositive,
  parseHostPort,
} from './value-rules.js';

type Check<T> = (v: T) => string | undefined;

/** Nomad's chroot_env: host path = path in the task, both absolute. */
const checkChrootPair: Check<[string, string]> = ([host, inside]) =>
  host.startsWith('/') && inside.startsWith('/') ? undefined : `both the host path and the path in the task must be absolute, got "${host}" = "${inside}"`;

export class DecodeContext {
  private readonly found: { error: FieldError; line: number; column: number }[] = [];

  constructor(
    readonly file: string,
    private readonly positions: PositionIndex,
  ) {}

  report(rawPath: RawPath, path: string, message: string): void {
    const p = this.positions.find(rawPath);
    const pos = p === undefined ? this.file : `${this.file}:${p.line},${p.column}`;
    this.found.push({ error: { path, message, pos }, line: p?.line ?? 0, column: p?.column ?? 0 });
  }

  /** The problems found, in the order they appear in the file. */
  get errors(): FieldError[] {
    return [...this.found].sort((a, b) => a.line - b.line || a.column - b.column).map((f) => f.error);
  }
}

/** Reads the keys of one block body; `finish` reports the keys nobody asked for. */
class BlockReader {
  private readonly known = new Set<string>();

  constructor(
    private readonly ctx: DecodeContext,
    private readonly raw: Record<string, unknown>,
    private readonly rawPath: RawPath,
    /** User-facing dotted path of this block ("client.reserved"); "" at the top. */
    private readonly path: string,
    /** How messages name this block: `server`, `host_volume "data"`. */
    private readonly blockName = path.split('.').pop() ?? '',
  ) {}

  string(key: string, check?: Check<string>): string | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') return this.fail(key, `expected a string, got ${describe(v)}`);
    return this.checked(key, noExpression(v) ?? check?.(v), v);
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], normalize: (s: string) => string = (s) => s): T | undefined {
    const s = this.string(key);
    if (s === undefined) return undefined;
    const v = allowed.find((a) => a === normalize(s));
    return v ?? this.fail(key, `must be one of ${allowed.join(', ')}, got "${s}"`);
  }

  bool(key: string): boolean | undefined {
    const v = this.take(key);
    if (v === undefined || typeof v === 'boolean') return v;
    return this.fail(key, `expected a boolean, got ${describe(v)}`);
  }

  int(key: string, check?: Check<number>): number | undefined {
    const v = this.number(key, check);
    if (v === undefined || Number.isInteger(v)) return v;
    return this.fail(key, `expected a whole number, got ${v}`);
  }

  number(key: string, check?: Check<number>): number | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'number') return this.fail(key, `expected a number, got ${describe(v)}`);
    return this.checked(key, check?.(v), v);
  }

  /** A Go duration string ("10s"), returned in milliseconds. */
  duration(key: string, check: Check<number> = checkPositive): number | undefined {
    const s = this.string(key);
    if (s === undefined) return undefined;
    const ms = parseDurationMs(s);
    if (ms === undefined) return this.fail(key, `expected a duration such as "10s" or "1m30s", got "${s}"`);
    const problem = check(ms);
    return problem === undefined ? ms : this.fail(key, `${problem.replace(/, got .*$/, '')}, got "${s}"`);
  }

  stringList(key: string, check?: Check<string>): string[] | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) return this.fail(key, `expected a list of strings, got ${describe(v)}`);
    const out: string[] = [];
    v.forEach((item: unknown, i) => {
      const where = `${this.sub(key)}[${i}]`;
      const problem =
        typeof item !== 'string' ? `expected a string, got ${describe(item)}` : (noExpression(item) ?? check?.(item));
      if (problem !== undefined) this.ctx.report([...this.rawPath, key, i], where, problem);
      else out.push(item as string);
    });
    return out.length === v.length ? out : undefined;
  }

  /**
   * A map of strings, as `meta { k = "v" }` or `meta = { k = "v" }`. Numbers and booleans
   * become strings, as Nomad's HCL1 decoder converts them (`meta { rack = 5 }` is common).
   */
  stringMap(key: string, check?: Check<[string, string]>): Record<string, string> | undefined {
    const bodies = this.bodies(key, 'a map of strings');
    if (bodies === undefined) return undefined;
    const out: Record<string, string> = {};
    let ok = true;
    for (const [body, rawPath] of bodies) {
      for (const [k, v] of Object.entries(body)) {
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
          const problem = check?.([k, String(v)]);
          if (problem !== undefined) {
            ok = false;
            this.ctx.report([...rawPath, k], `${this.sub(key)}.${k}`, problem);
            continue;
          }
          out[k] = String(v);
        } else {
          ok = false;
          this.ctx.report([...rawPath, k], `${this.sub(key)}.${k}`, `expected a string, got ${describe(v)}`);
        }
      }
    }
    return ok ? out : undefined;
  }

  /** An unlabeled block; several bodies (or a repeated block) merge in order. */
  block<T>(key: string, decode: (r: BlockReader) => T): T | undefined {
    const bodies = this.bodies(key);
    if (bodies === undefined) return undefined;
    let out: T | undefined;
    for (const [body, rawPath] of bodies) {
      const r = new BlockReader(this.ctx, body, rawPath, this.sub(key));
      const decoded = decode(r);
      r.finish();
      out = out === undefined ? decoded : mergeConfigAt(out, decoded);
    }
    return out;
  }

  /**
   * Blocks with one label (`host_volume "name" { ... }`), keyed by label. hcl2json gives
   * `{ name: [body] }`; JSON may also give `{ name: body }` or a list of such objects. An
   * unlabeled block arrives as `[body]`, whose values are attributes, not bodies.
   */
  labeledBlocks<T>(key: string, decode: (r: BlockReader) => T): Record<string, T> | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    const groups: [unknown, RawPath][] = Array.isArray(v)
      ? v.map((g: unknown, i): [unknown, RawPath] => [g, [...this.rawPath, key, i]])
      : [[v, [...this.rawPath, key]]];
    const isBodies = (b: unknown): boolean => isPlainObject(b) || (Array.isArray(b) && b.every(isPlainObject));
    if (!groups.every(([g]) => isPlainObject(g) && Object.values(g).every(isBodies))) {
      return this.fail(key, `expected ${key} blocks with a name label, like: ${key} "name" { ... }`);
    }
    const out: Record<string, T> = {};
    for (const [group, groupPath] of groups as [Record<string, unknown>, RawPath][]) {
      for (const [label, value] of Object.entries(group)) {
        const bodies: [Record<string, unknown>, RawPath][] = Array.isArray(value)
          ? (value as Record<string, unknown>[]).map((b, i) => [b, [...groupPath, label, i]])
          : [[value as Record<string, unknown>, [...groupPath, label]]];
        for (const [body, rawPath] of bodies) {
          const r = new BlockReader(this.ctx, body, rawPath, `${this.sub(key)}.${label}`, `${key} "${label}"`);
          // A repeated label replaces the earlier block, as a later file's would.
          out[label] = decode(r);
          r.finish();
        }
      }
    }
    return out;
  }

  /** Reports `key` as missing when the block does not set it. */
  require(key: string): void {
    if (this.raw[key] === undefined || this.raw[key] === null) this.fail(key, 'is required');
  }

  /** Reports the keys of this block that no decoder asked for. */
  finish(): void {
    for (const key of Object.keys(this.raw)) {
      if (this.known.has(key)) continue;
      const hint = closest(key, [...this.known]);
      const where = this.path === '' ? 'at the top level' : `in ${this.blockName} block`;
      this.ctx.report(
        [...this.rawPath, key],
        this.sub(key),
        `unknown key ${where}${hint === undefined ? '' : ` (did you mean "${hint}"?)`}`,
      );
    }
  }

  private take(key: string): unknown {
    this.known.add(key);
    const v = this.raw[key];
    // HCL2's null means "not set".
    return v === null ? undefined : v;
  }

  private bodies(key: string, expected = `a ${key} block`): [Record<string, unknown>, RawPath][] | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    if (isPlainObject(v)) return [[v, [...this.rawPath, key]]];
    if (Array.isArray(v) && v.every(isPlainObject)) return v.map((b, i) => [b, [...this.rawPath, key, i]]);
    return this.fail(key, `expected ${expected}, got ${describe(v)}`);
  }

  private checked<T>(key: string, problem: string | undefined, v: T): T | undefined {
    return problem === undefined ? v : this.fail(key, problem);
  }

  private fail(key: string, message: string): undefined {
    this.ctx.report([...this.rawPath, key], this.sub(key), message);
    return undefined;
  }

  private sub(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }
}

/** hcl2json leaves `${...}` templates and bare references (`x = foo`) as "${...}" text. */
function noExpression(s: string): string | undefined {
  return s.includes('${') ? `expressions and interpolation are not supported in agent config, got "${s}"` : undefined;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `string "${v}"`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v === 'number' ? 'number' : 'boolean'} ${String(v)}`;
  if (Array.isArray(v)) return 'a list';
  return 'a block';
}

/** The known key nearest to a misspelt one, when it is near enough to be a likely typo. */
function closest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  for (const k of known) {
    const d = editDistance(key, k);
    if (d < bestDist) {
      best = k;
      bestDist = d;
    }
  }
  return bestDist <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

// ---------------------------------------------------------------------------------------
// The stanzas. Each asks for every key it knows, so anything else is reported as unknown.

/** Decodes one file's parsed value. Problems land in `ctx.errors`. */
export function decodeAgentConfig(ctx: DecodeContext, raw: unknown): PartialAgentConfig {
  if (!isPlainObject(raw)) {
    ctx.report([], '(top level)', `expected an object of settings, got ${describe(raw)}`);
    return {};
  }
  const r = new BlockReader(ctx, raw, [], '');
  const config: PartialAgentConfig = {
    dataDir: r.string('data_dir', checkNotEmpty),
    bindAddr: r.string('bind_addr', checkHost),
    region: r.string('region', checkNotEmpty),
    datacenter: r.string('datacenter', checkNotEmpty),
    name: r.string('name', checkNotEmpty),
    logLevel: r.oneOf<LogLevel>('log_level', logLevels, (s) => s.toUpperCase()),
    logJson: r.bool('log_json'),
    ports: r.block('ports', (b) => ({ http: b.int('http', checkPort), rpc: b.int('rpc', checkPort), serf: b.int('serf', checkPort) })),
    addresses: r.block('addresses', (b) => ({
      http: b.string('http', checkHost),
      rpc: b.string('rpc', checkHost),
      serf: b.string('serf', checkHost),
    })),
    advertise: r.block('advertise', (b) => ({
      http: b.string('http', advertiseCheck(defaultPorts.http)),
      rpc: b.string('rpc', advertiseCheck(defaultPorts.rpc)),
      serf: b.string('serf', advertiseCheck(defaultPorts.serf)),
    })),
    leaveOnInterrupt: r.bool('leave_on_interrupt'),
    leaveOnTerminate: r.bool('leave_on_terminate'),
    server: r.block('server', (b) => ({
      enabled: b.bool('enabled'),
      bootstrapExpect: b.int('bootstrap_expect', checkAtLeast(0)),
      numSchedulers: b.int('num_schedulers', checkAtLeast(0)),
      heartbeatGraceMs: b.duration('heartbeat_grace', checkAtLeast(0)),
      minHeartbeatTtlMs: b.duration('min_heartbeat_ttl'),
      failoverHeartbeatTtlMs: b.duration('failover_heartbeat_ttl', checkAtLeast(0)),
      maxHeartbeatsPerSecond: b.number('max_heartbeats_per_second', checkPositive),
      raftSnapshotThreshold: b.int('raft_snapshot_threshold', checkAtLeast(1)),
      raftTrailingLogs: b.int('raft_trailing_logs', checkAtLeast(0)),
      serverJoin: b.block('server_join', decodeServerJoin),
      evalGcThresholdMs: b.duration('eval_gc_threshold', checkAtLeast(0)),
      jobGcThresholdMs: b.duration('job_gc_threshold', checkAtLeast(0)),
      nodeGcThresholdMs: b.duration('node_gc_threshold', checkAtLeast(0)),
      deploymentGcThresholdMs: b.duration('deployment_gc_threshold', checkAtLeast(0)),
    })),
    client: r.block('client', (b) => ({
      enabled: b.bool('enabled'),
      servers: b.stringList('servers', serverAddressCheck),
      nodeClass: b.string('node_class'),
      nodePool: b.string('node_pool', checkNotEmpty),
      meta: b.stringMap('meta'),
      reserved: b.block('reserved', (rb) => ({
        cpu: rb.int('cpu', checkAtLeast(0)),
        memory: rb.int('memory', checkAtLeast(0)),
        disk: rb.int('disk', checkAtLeast(0)),
        reservedPorts: rb.string('reserved_ports', checkPortRanges),
      })),
      options: b.stringMap('options'),
      chrootEnv: b.stringMap('chroot_env', checkChrootPair),
      networkInterface: b.string('network_interface'),
      cpuTotalCompute: b.int('cpu_total_compute', checkAtLeast(0)),
      memoryTotalMb: b.int('memory_total_mb', checkAtLeast(0)),
      hostVolumes: b.labeledBlocks('host_volume', decodeHostVolume),
      maxKillTimeoutMs: b.duration('max_kill_timeout'),
      gcIntervalMs: b.duration('gc_interval'),
      gcMaxAllocs: b.int('gc_max_allocs', checkAtLeast(1)),
      gcDiskUsageThreshold: b.number('gc_disk_usage_threshold', checkPercent),
      drainOnShutdown: b.block('drain_on_shutdown', (db) => ({
        enabled: true,
        deadlineMs: db.duration('deadline', checkAtLeast(0)),
        force: db.bool('force'),
        ignoreSystemJobs: db.bool('ignore_system_jobs'),
      })),
      serverJoin: b.block('server_join', decodeServerJoin),
    })),
    telemetry: r.block('telemetry', (b) => ({
      prometheusMetrics: b.bool('prometheus_metrics'),
      collectionIntervalMs: b.duration('collection_interval'),
      disableHostname: b.bool('disable_hostname'),
      publishAllocationMetrics: b.bool('publish_allocation_metrics'),
      publishNodeMetrics: b.bool('publish_node_metrics'),
    })),
    tls: r.block('tls', (b) => ({
      http: b.bool('http'),
      rpc: b.bool('rpc'),
      caFile: b.string('ca_file'),
      certFile: b.string('cert_file'),
      keyFile: b.string('key_file'),
      verifyServerHostname: b.bool('verify_server_hostname'),
      verifyHttpsClient: b.bool('verify_https_client'),
      tlsMinVersion: b.oneOf<TlsVersion>('tls_min_version', tlsVersions),
    })),
    acl: r.block('acl', (b) => ({
      enabled: b.bool('enabled'),
      tokenTtlMs: b.duration('token_ttl'),
      policyTtlMs: b.duration('policy_ttl'),
    })),
    limits: r.block('limits', (b) => ({
      rpcRateLimit: b.number('rpc_rate_limit', checkAtLeast(0)),
      rpcRateBurst: b.int('rpc_rate_burst', checkAtLeast(1)),
    })),
  };
  r.finish();
  return pruneUndefined(config);
}

function decodeServerJoin(b: BlockReader): DeepPartial<ServerJoinConfig> {
  return {
    retryJoin: b.stringList('retry_join', checkNotEmpty),
    retryIntervalMs: b.duration('retry_interval'),
    retryMax: b.int('retry_max', checkAtLeast(0)),
  };
}

function decodeHostVolume(b: BlockReader): HostVolumeConfig {
  b.require('path');
  return { path: b.string('path', checkNotEmpty) ?? '', readOnly: b.bool('read_only') ?? false };
}

function advertiseCheck(port: number): Check<string> {
  return (s) => {
    const hp = parseHostPort(s, port);
    return typeof hp === 'string' ? hp : undefined;
  };
}

function serverAddressCheck(s: string): string | undefined {
  const hp = parseHostPort(s, defaultPorts.rpc);
  return typeof hp === 'string' ? hp : undefined;
}

/** Drops undefined values and the blocks left empty, so a partial holds only what its source set. */
export function pruneUndefined<T>(v: T): T {
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const pruned = pruneUndefined(x);
    if (pruned === undefined || (isPlainObject(pruned) && Object.keys(pruned).length === 0)) continue;
    out[k] = pruned;
  }
  return out as T;
}
