/**
 * The agent's metrics registry (prom-client). Gauges that describe state are computed when
 * scraped, from narrow read-only views of the server and client, so no hot path pays for them;
 * histograms and counters are fed by the code that times or counts the event.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { METRICS, type MetricDef, type MetricKey } from './metric-names.js';

export interface JobSummaryRow {
  namespace: string;
  job: string;
  groups: Record<string, { Queued: number; Starting: number; Running: number; Failed: number; Complete: number; Lost: number; Unknown: number }>;
}

/** What the server exposes to telemetry. */
export interface ServerMetricsView {
  isLeader(): boolean;
  raftState(): 'leader' | 'follower' | 'candidate';
  raftPeers(): number;
  raftCommitIndex(): number;
  raftAppliedIndex(): number;
  raftLastContactMs(): number;
  brokerStats(): { ready: number; unacked: number; waiting: number; delayed: number };
  blockedEvals(): number;
  heartbeatsActive(): number;
  jobSummaries(): JobSummaryRow[];
  jobStatusCounts(): { pending: number; running: number; dead: number };
}

export interface NodeUsage {
  labels: { node_id: string; datacenter: string; node_class: string; node_pool: string };
  allocated: { cpu: number; memoryMB: number; diskMB: number };
  capacity: { cpu: number; memoryMB: number; diskMB: number };
  running: number;
  pending: number;
}

/** What the client exposes to telemetry. */
export interface ClientMetricsView {
  nodeUsage(): NodeUsage | null;
}

export interface TelemetryOptions {
  disableHostname: boolean;
  hostname: string;
  publishNodeMetrics: boolean;
}

type AnyMetric = Gauge | Counter | Histogram;

export class Telemetry {
  readonly registry = new Registry();
  private readonly metrics = new Map<MetricKey, AnyMetric>();
  private readonly loop: IntervalHistogram;
  server: ServerMetricsView | null = null;
  client: ClientMetricsView | null = null;

  constructor(private readonly opts: TelemetryOptions) {
    if (!opts.disableHostname) this.registry.setDefaultLabels({ host: opts.hostname });
    this.loop = monitorEventLoopDelay({ resolution: 20 });
    this.loop.enable();
    for (const key of Object.keys(METRICS) as MetricKey[]) this.metrics.set(key, this.create(key, METRICS[key]));
  }

  private create(key: MetricKey, def: MetricDef): AnyMetric {
    const base = { name: def.name, help: def.help, labelNames: [...def.labels], registers: [this.registry] };
    switch (def.kind) {
      case 'counter':
        return new Counter(base);
      case 'histogram':
        return new Histogram({ ...base, buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
      case 'gauge': {
        const collectGauge = (gauge: Gauge): void => this.collectGauge(key, gauge);
        return new Gauge({
          ...base,
          // prom-client calls collect with the gauge as `this`.
          collect(this: Gauge): void {
            collectGauge(this);
          },
        });
      }
    }
  }

  /** Record a duration (seconds) into a histogram metric. */
  observe(key: MetricKey, seconds: number, labels: Record<string, string> = {}): void {
    const m = this.metrics.get(key);
    if (m instanceof Histogram) m.observe(labels, seconds);
  }

  inc(key: MetricKey, labels: Record<string, string> = {}, by = 1): void {
    const m = this.metrics.get(key);
    if (m instanceof Counter) m.inc(labels, by);
  }

  private collectGauge(key: MetricKey, gauge: Gauge): void {
    gauge.reset();
    const s = this.server;
    const set = (v: number, labels: Record<string, string> = {}): void => gauge.set(labels, v);
    switch (key) {
      case 'runtimeHeapUsed':
        return set(process.memoryUsage().heapUsed);
      case 'runtimeRss':
        return set(process.memoryUsage.rss());
      case 'runtimeEventLoopLag': {
        const p99 = this.loop.percentile(99) / 1e9;
        this.loop.reset();
        return set(Number.isFinite(p99) ? p99 : 0);
      }
      default:
        break;
    }
    if (key.startsWith('client')) return this.collectClient(key, gauge);
    if (!s) return;
    switch (key) {
      case 'raftStateLeader':
        return set(s.raftState() === 'leader' ? 1 : 0);
      case 'raftStateFollower':
        return set(s.raftState() === 'follower' ? 1 : 0);
      case 'raftStateCandidate':
        return set(s.raftState() === 'candidate' ? 1 : 0);
      case 'raftPeers':
        return set(s.raftPeers());
      case 'raftCommitIndex':
        return set(s.raftCommitIndex());
      case 'raftAppliedIndex':
        return set(s.raftAppliedIndex());
      case 'raftLastContact':
        return set(s.raftLastContactMs());
      default:
        break;
    }
    // The rest describe cluster-wide scheduling state: only the leader reports them, so a
    // dashboard summing over servers does not count them three times.
    if (!s.isLeader()) return;
    const broker = s.brokerStats();
    switch (key) {
      case 'brokerTotalReady':
        return set(broker.ready);
      case 'brokerTotalUnacked':
        return set(broker.unacked);
      case 'brokerTotalPending':
        return set(broker.waiting);
      case 'brokerTotalDelayed':
        return set(broker.delayed);
      case 'blockedEvalsTotalBlocked':
        return set(s.blockedEvals());
      case 'heartbeatActive':
        return set(s.heartbeatsActive());
      case 'jobStatusPending':
        return set(s.jobStatusCounts().pending);
      case 'jobStatusRunning':
        return set(s.jobStatusCounts().running);
      case 'jobStatusDead':
        return set(s.jobStatusCounts().dead);
      case 'jobSummaryQueued':
      case 'jobSummaryStarting':
      case 'jobSummaryRunning':
      case 'jobSummaryFailed':
      case 'jobSummaryComplete':
      case 'jobSummaryLost':
      case 'jobSummaryUnknown': {
        const field = SUMMARY_FIELD[key];
        for (const row of s.jobSummaries()) {
          for (const [group, counts] of Object.entries(row.groups)) set(counts[field], { namespace: row.namespace, job: row.job, task_group: group });
        }
        return;
      }
      default:
        return;
    }
  }

  private collectClient(key: MetricKey, gauge: Gauge): void {
    if (!this.opts.publishNodeMetrics) return;
    const u = this.client?.nodeUsage();
    if (!u) return;
    const value: Partial<Record<MetricKey, number>> = {
      clientAllocatedCpu: u.allocated.cpu,
      clientAllocatedMemory: u.allocated.memoryMB,
      clientAllocatedDisk: u.allocated.diskMB,
      clientUnallocatedCpu: u.capacity.cpu - u.allocated.cpu,
      clientUnallocatedMemory: u.capacity.memoryMB - u.allocated.memoryMB,
      clientUnallocatedDisk: u.capacity.diskMB - u.allocated.diskMB,
      clientAllocationsRunning: u.running,
      clientAllocationsPending: u.pending,
    };
    const v = value[key];
    if (v !== undefined) gauge.set(u.labels, v);
  }

  async prometheus(): Promise<string> {
    return this.registry.metrics();
  }

  /** Nomad's JSON metrics shape (GET /v1/metrics): gauges, counters and samples with labels. */
  async json(): Promise<{ Timestamp: string; Gauges: unknown[]; Counters: unknown[]; Samples: unknown[] }> {
    const all: MetricObjectWithValues<MetricValue<string>>[] = await this.registry.getMetricsAsJSON();
    const Gauges: unknown[] = [];
    const Counters: unknown[] = [];
    const Samples: unknown[] = [];
    for (const m of all) {
      // prom-client reports the type as its lowercase name at run time, whatever its typings say.
      const type: string = String(m.type);
      for (const v of m.values) {
        const row = { Name: (v as { metricName?: string }).metricName ?? m.name, Value: v.value, Labels: v.labels };
        if (type === 'gauge') Gauges.push(row);
        else if (type === 'counter') Counters.push({ ...row, Count: v.value });
        else Samples.push(row);
      }
    }
    return { Timestamp: new Date().toISOString(), Gauges, Counters, Samples };
  }

  close(): void {
    this.loop.disable();
  }
}

const SUMMARY_FIELD = {
  jobSummaryQueued: 'Queued',
  jobSummaryStarting: 'Starting',
  jobSummaryRunning: 'Running',
  jobSummaryFailed: 'Failed',
  jobSummaryComplete: 'Complete',
  jobSummaryLost: 'Lost',
  jobSummaryUnknown: 'Unknown',
} as const;
