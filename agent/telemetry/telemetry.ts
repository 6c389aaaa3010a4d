/**
 * The agent's metrics registry (prom-client). Gauges that describe state are computed when
 * scraped, from narrow read-only views of the server and client (metric-sources.ts), so no hot
 * path pays for them. What costs something to measure — the event loop's delay percentiles and
 * the drivers' per-task usage — is sampled on a timer every `collection_interval`, as Nomad's
 * telemetry does, and a scrape reads the last sample. Histograms are fed by the code that times
 * the event (serverSink(), and the eval broker through the server view).
 */
import { monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { PlanApplierMetrics } from '../server/plan-applier.js';
import { METRICS, type MetricDef, type MetricKey } from './metric-names.js';
import type { AllocUsage, ClientMetricsSource, ServerMetricsView, TaskUsage } from './metric-sources.js';

export type { AllocUsage, ClientMetricsSource, JobSummaryRow, NodeUsage, RaftFigures, ServerMetricsView, TaskUsage } from './metric-sources.js';

export interface TelemetryOptions {
  disableHostname: boolean;
  hostname: string;
  publishNodeMetrics: boolean;
  /** Per-allocation metrics (labelled by alloc_id, so off by default as in Nomad). */
  publishAllocationMetrics?: boolean;
  /** How often sampled figures are refreshed; Nomad's default is 1s. */
  collectionIntervalMs?: number;
}

export const DEFAULT_COLLECTION_INTERVAL_MS = 1000;

type AnyMetric = Gauge | Counter | Histogram;
type Labels = Record<string, string>;

export class Telemetry {
  readonly registry = new Registry();
  private readonly metrics = new Map<MetricKey, AnyMetric>();
  private readonly loop: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  private readonly gc: PerformanceObserver;
  private serverView: ServerMetricsView | null = null;
  client: ClientMetricsSource | null = null;
  /** The last samples taken on the collection timer. */
  private loopLagSeconds = 0;
  private allocSamples: AllocUsage[] = [];
  private sampling: Promise<void> | null = null;
  private planQueue = 0;

  constructor(private readonly opts: TelemetryOptions) {
    if (!opts.disableHostname) this.registry.setDefaultLabels({ host: opts.hostname });
    this.loop = monitorEventLoopDelay({ resolution: 20 });
    this.loop.enable();
    for (const key of Object.keys(METRICS) as MetricKey[]) this.metrics.set(key, this.create(key, METRICS[key]));
    // Nomad's runtime.gc_pause_ns: every V8 collection's pause, as Node reports it.
    this.gc = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.observe('runtimeGcPause', e.duration / 1000);
    });
    this.gc.observe({ entryTypes: ['gc'] });
    const interval = opts.collectionIntervalMs ?? DEFAULT_COLLECTION_INTERVAL_MS;
    this.timer = setInterval(() => void this.sample(), Math.max(interval, 10));
    this.timer.unref();
  }

  get server(): ServerMetricsView | null {
    return this.serverView;
  }

  /** Attach the server: its state gauges are read on scrape, the broker's timings flow in. */
  set server(view: ServerMetricsView | null) {
    this.serverView?.watchBroker(null);
    this.serverView = view;
    view?.watchBroker({
      waited: (type, seconds) => this.observe('brokerWaitSeconds', seconds, { type }),
      processed: (type, seconds) => this.observe('brokerProcessSeconds', seconds, { type }),
    });
  }

  /** The sink the server's workers and plan applier report their timings to. */
  serverSink(): Required<PlanApplierMetrics> {
    return {
      workerInvoke: (type, seconds) => this.observe('workerInvokeSeconds', seconds, { type }),
      planApply: (seconds) => this.observe('planApplySeconds', seconds),
      planEvaluate: (seconds) => this.observe('planEvaluateSeconds', seconds),
      planSubmit: (seconds) => this.observe('planSubmitSeconds', seconds),
      planQueueDepth: (depth) => {
        this.planQueue = depth;
      },
    };
  }

  private create(key: MetricKey, def: MetricDef): AnyMetric {
    const base = { name: def.name, help: def.help, labelNames: [...def.labels], registers: [this.registry] };
    const collect = (m: Gauge | Counter): void => this.collect(key, m);
    switch (def.kind) {
      case 'counter':
        // Counters here mirror totals kept elsewhere (Raft's, the task runners'), read on scrape.
        return new Counter({
          ...base,
          collect(this: Counter): void {
            collect(this);
          },
        });
      case 'histogram':
        return new Histogram({ ...base, buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
      case 'gauge':
        return new Gauge({
          ...base,
          // prom-client calls collect with the metric as `this`.
          collect(this: Gauge): void {
            collect(this);
          },
        });
    }
  }

  /** Record a duration (seconds) into a histogram metric. */
  observe(key: MetricKey, seconds: number, labels: Labels = {}): void {
    const m = this.metrics.get(key);
    if (m instanceof Histogram) m.observe(labels, seconds);
  }

  /** Refresh the sampled figures now (the collection timer calls this). */
  sample(): Promise<void> {
    this.sampling ??= this.takeSample().finally(() => (this.sampling = null));
    return this.sampling;
  }

  private async takeSample(): Promise<void> {
    const p99 = this.loop.percentile(99) / 1e9;
    this.loop.reset();
    this.loopLagSeconds = Number.isFinite(p99) ? p99 : 0;
    if (this.opts.publishAllocationMetrics === true && this.client) {
      try {
        this.allocSamples = await this.client.allocUsage();
      } catch {
        // A driver that fails to report must not take the agent's metrics down with it: the
        // allocation series disappear until the next sample succeeds.
        this.allocSamples = [];
      }
    } else {
      this.allocSamples = [];
    }
  }

  private collect(key: MetricKey, metric: Gauge | Counter): void {
    metric.reset();
    const set =
      metric instanceof Gauge
        ? (v: number, labels: Labels = {}): void => metric.set(labels, v)
        : (v: number, labels: Labels = {}): void => metric.inc(labels, Math.max(0, v));
    switch (key) {
      case 'runtimeHeapUsed':
        return set(process.memoryUsage().heapUsed);
      case 'runtimeRss':
        return set(process.memoryUsage.rss());
      case 'runtimeEventLoopLag':
        return set(this.loopLagSeconds);
      default:
        break;
    }
    if (key.startsWith('client')) return this.collectNode(key, set);
    if (key.startsWith('alloc')) return this.collectAllocs(key, set);
    const s = this.serverView;
    if (!s) return;
    if (key.startsWith('raft')) {
      const r = s.raft();
      switch (key) {
        case 'raftStateLeader':
          return set(r.state === 'leader' ? 1 : 0);
        case 'raftStateFollower':
          return set(r.state === 'follower' ? 1 : 0);
        case 'raftStateCandidate':
          return set(r.state === 'candidate' ? 1 : 0);
        case 'raftPeers':
          return set(r.peers);
        case 'raftTerm':
          return set(r.term);
        case 'raftLastIndex':
          return set(r.lastIndex);
        case 'raftCommitIndex':
          return set(r.commitIndex);
        case 'raftAppliedIndex':
          return set(r.appliedIndex);
        case 'raftLastContact':
          // Before any contact there is no meaningful figure: no series beats a made-up one.
          return r.lastContactMs === null ? undefined : set(r.lastContactMs / 1000);
        case 'raftApply':
          return set(r.appliedEntries);
        case 'raftFsmApplySeconds':
          return set(r.fsmApplyMs / 1000);
        case 'raftPersistSeconds':
          return set(r.persistMs / 1000);
        case 'raftCommits':
          return set(r.commits);
        case 'raftCommitSeconds':
          return set(r.commitMs / 1000);
        default:
          return;
      }
    }
    // The rest describe cluster-wide scheduling state: only the leader reports them, so a
    // dashboard summing over servers does not count them three times.
    if (!s.isLeader()) return;
    switch (key) {
      case 'brokerTotalReady':
        return set(s.brokerStats().ready);
      case 'brokerTotalUnacked':
        return set(s.brokerStats().unacked);
      case 'brokerTotalPending':
        return set(s.brokerStats().waiting);
      case 'brokerTotalWaiting':
        return set(s.brokerStats().delayed);
      case 'blockedEvalsTotalBlocked':
        return set(s.blockedEvals());
      case 'heartbeatActive':
        return set(s.heartbeatsActive());
      case 'planQueueDepth':
        return set(this.planQueue);
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

  private collectNode(key: MetricKey, set: (v: number, labels: Labels) => void): void {
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
    if (v !== undefined) set(v, u.labels);
  }

  private collectAllocs(key: MetricKey, set: (v: number, labels: Labels) => void): void {
    const field = ALLOC_FIELD[key as keyof typeof ALLOC_FIELD] as keyof TaskUsage | undefined;
    if (field === undefined) return;
    for (const a of this.allocSamples) {
      for (const t of a.tasks) {
        const v = t[field];
        if (typeof v !== 'number') continue;
        set(v, { namespace: a.namespace, job: a.job, task_group: a.taskGroup, task: t.task, alloc_id: a.allocId });
      }
    }
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
    clearInterval(this.timer);
    this.gc.disconnect();
    this.serverView?.watchBroker(null);
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

const ALLOC_FIELD = {
  allocCpuPercent: 'cpuPercent',
  allocCpuAllocated: 'cpuAllocatedMHz',
  allocMemoryRss: 'memoryRssBytes',
  allocMemoryAllocated: 'memoryAllocatedBytes',
  allocRestarts: 'restarts',
  allocOomKilled: 'oomKills',
} as const satisfies Partial<Record<MetricKey, keyof TaskUsage>>;
