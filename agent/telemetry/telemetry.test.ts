import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { testGroup, testJob, testNode, testTask } from '../../scheduler/testing/fixtures.js';
import { TaskEventType, type Allocation, type TaskState } from '../../structs/alloc.js';
import { taskEvent } from '../client/task-runner.js';
import { FakeClient, startTestServer, waitFor } from '../server/testing/test-server.js';
import { clientMetricsSource, type AllocStatsLike, type LiveAlloc } from './client-view.js';
import { METRICS } from './metric-names.js';
import { serverMetricsView } from './server-view.js';
import { assertPromtoolClean, havePromtool } from './testing/promtool.js';
import { Telemetry, type RaftFigures, type ServerMetricsView } from './telemetry.js';

function view(leader: boolean): ServerMetricsView {
  const raft: RaftFigures = {
    state: leader ? 'leader' : 'follower',
    peers: 3,
    term: 4,
    lastIndex: 43,
    commitIndex: 42,
    appliedIndex: 41,
    lastContactMs: leader ? 0 : 120,
    appliedEntries: 41,
    persistMs: 1500,
    fsmApplyMs: 250,
    commits: 40,
    commitMs: 80,
  };
  return {
    isLeader: () => leader,
    raft: () => raft,
    brokerStats: () => ({ ready: 2, unacked: 1, waiting: 0, delayed: 0 }),
    blockedEvals: () => 1,
    heartbeatsActive: () => 5,
    jobSummaries: () => [{ namespace: 'default', job: 'web', groups: { app: { Queued: 1, Starting: 0, Running: 2, Failed: 0, Complete: 0, Lost: 0, Unknown: 0 } } }],
    jobStatusCounts: () => ({ pending: 0, running: 1, dead: 0 }),
    watchBroker: () => undefined,
  };
}

/** The value of one series in a Prometheus exposition, or undefined when it is absent. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const labelsOf = (a: Allocation, task: string): string => `{namespace="default",job="${a.JobID}",task_group="${a.TaskGroup}",task="${task}",alloc_id="${a.ID}"}`;

void describe('telemetry', () => {
  void it('renders the Prometheus format with Nomad-structured names and labels', async () => {
    const t = new Telemetry({ disableHostname: true, hostname: 'h', publishNodeMetrics: true });
    t.server = view(true);
    const text = await t.prometheus();
    assert.match(text, /^yurt_nomad_job_summary_running\{namespace="default",job="web",task_group="app"\} 2$/m);
    assert.match(text, /^yurt_nomad_job_summary_queued\{namespace="default",job="web",task_group="app"\} 1$/m);
    assert.match(text, /^yurt_raft_state_leader 1$/m);
    assert.match(text, /^yurt_raft_term 4$/m);
    assert.match(text, /^yurt_raft_apply_total 41$/m);
    assert.match(text, /^yurt_raft_persist_seconds_total 1\.5$/m);
    assert.match(text, /^yurt_raft_commit_total 40$/m);
    assert.match(text, /^yurt_raft_commit_time_seconds_total 0\.08$/m);
    assert.match(text, /^yurt_raft_leader_last_contact_seconds 0$/m);
    assert.match(text, /^yurt_nomad_broker_total_ready 2$/m);
    assert.match(text, /^yurt_nomad_heartbeat_active 5$/m);
    t.observe('planApplySeconds', 0.003);
    assert.match(await t.prometheus(), /^yurt_nomad_plan_apply_seconds_count 1$/m);
    t.close();
  });

  void it('times garbage collection pauses', async () => {
    const t = new Telemetry({ disableHostname: true, hostname: 'h', publishNodeMetrics: true });
    try {
      // Make garbage until V8 collects some of it (a scavenge comes within a few MB of allocation).
      let keep = 0;
      for (let i = 0; i < 200 && (value(await t.prometheus(), 'yurt_runtime_gc_pause_seconds_count') ?? 0) === 0; i++) {
        for (let j = 0; j < 10_000; j++) keep += new Array<number>(64).fill(j).length;
        await new Promise((r) => setImmediate(r));
      }
      assert.ok(keep > 0);
      assert.ok((value(await t.prometheus(), 'yurt_runtime_gc_pause_seconds_count') ?? 0) >= 1);
    } finally {
      t.close();
    }
  });

  void it('followers report Raft but not cluster-wide scheduling gauges', async () => {
    const t = new Telemetry({ disableHostname: true, hostname: 'h', publishNodeMetrics: true });
    t.server = view(false);
    const text = await t.prometheus();
    assert.match(text, /^yurt_raft_state_follower 1$/m);
    assert.match(text, /^yurt_raft_leader_last_contact_seconds 0\.12$/m);
    assert.doesNotMatch(text, /^yurt_nomad_job_summary_running\{/m);
    assert.match(text, /^yurt_nomad_broker_total_ready 0$/m, 'unlabelled gauges read 0 on followers');
    t.close();
  });

  void it("the JSON format has Nomad's Gauges/Counters/Samples and a host label unless disabled", async () => {
    const t = new Telemetry({ disableHostname: false, hostname: 'node-7', publishNodeMetrics: true });
    t.server = view(true);
    const j = await t.json();
    const g = j.Gauges as Array<{ Name: string; Value: number; Labels: Record<string, string> }>;
    const leader = g.find((x) => x.Name === 'yurt_raft_state_leader');
    assert.equal(leader?.Value, 1);
    assert.equal(leader?.Labels['host'], 'node-7');
    const counters = j.Counters as Array<{ Name: string; Value: number }>;
    assert.equal(counters.find((x) => x.Name === 'yurt_raft_apply_total')?.Value, 41);
    assert.ok(Array.isArray(j.Samples));
    t.close();
  });

  void it('a real server feeds broker, plan and Raft metrics while a job is scheduled', { timeout: 60_000 }, async () => {
    const t = new Telemetry({ disableHostname: true, hostname: 'h', publishNodeMetrics: true });
    const ts = await startTestServer({ metrics: t.serverSink() });
    const node = new FakeClient(testNode('node-1'), ts.rpcAddr);
    try {
      t.server = serverMetricsView(ts.server);
      const before = await t.prometheus();
      assert.equal(value(before, 'yurt_raft_state_leader'), 1);
      assert.equal(value(before, 'yurt_raft_peers'), 1);
      node.autoReport(0);
      await node.start();
      await ts.endpoints.jobRegister(testJob({ ID: 'web', Name: 'web', TaskGroups: [testGroup({ Name: 'app', Count: 2 })] }));
      const running = (): number => ts.server.state.allocsByJob('default', 'web').filter((a) => a.ClientStatus === 'running').length;
      await waitFor(() => running() === 2, 15_000, 'two allocations running');
      const text = await t.prometheus();
      assert.equal(value(text, 'yurt_nomad_job_summary_running{namespace="default",job="web",task_group="app"}'), 2);
      assert.equal(value(text, 'yurt_nomad_job_status_running'), 1);
      assert.equal(value(text, 'yurt_nomad_heartbeat_active'), 1);
      assert.equal(value(text, 'yurt_nomad_plan_queue_depth'), 0);
      // The job's evaluation went through the broker and one plan through the applier.
      assert.ok((value(text, 'yurt_nomad_broker_wait_time_seconds_count{type="service"}') ?? 0) >= 1, text);
      assert.ok((value(text, 'yurt_nomad_broker_process_time_seconds_count{type="service"}') ?? 0) >= 1, text);
      for (const h of ['evaluate', 'apply', 'submit']) assert.ok((value(text, `yurt_nomad_plan_${h}_seconds_count`) ?? 0) >= 1, `plan ${h}: ${text}`);
      assert.ok((value(text, 'yurt_nomad_worker_invoke_scheduler_seconds_count{type="service"}') ?? 0) >= 1);
      // Raft moved: registering, planning and the clients' updates are all log entries.
      assert.ok(value(text, 'yurt_raft_apply_total')! > value(before, 'yurt_raft_apply_total')!);
      assert.ok(value(text, 'yurt_raft_commit_index')! > value(before, 'yurt_raft_commit_index')!);
      // The job's writes went through this leader: commits counted, with their latency.
      assert.ok(value(text, 'yurt_raft_commit_total')! > (value(before, 'yurt_raft_commit_total') ?? 0));
      assert.ok(value(text, 'yurt_raft_commit_time_seconds_total')! > 0);
      assert.equal(value(text, 'yurt_raft_applied_index'), value(text, 'yurt_raft_commit_index'));
    } finally {
      t.close();
      await node.close();
      await ts.stop();
    }
  });

  void it('samples allocation usage every collection_interval, only with publish_allocation_metrics', { timeout: 60_000 }, async () => {
    const ts = await startTestServer();
    const node = new FakeClient(testNode('node-1'), ts.rpcAddr);
    const timers: Telemetry[] = [];
    try {
      node.autoReport(0);
      await node.start();
      const job = testJob({ ID: 'api', Name: 'api', TaskGroups: [testGroup({ Name: 'app', Count: 1, Tasks: [testTask({ Name: 'server' })] })] });
      await ts.endpoints.jobRegister(job);
      await waitFor(() => ts.server.state.allocsByJob('default', 'api').some((a) => a.ClientStatus === 'running'), 15_000, 'allocation running');
      const alloc = ts.server.state.allocsByJob('default', 'api')[0]!;
      // The client side is the boundary here: the allocation the server placed, as a client
      // running it would report it.
      const state: TaskState = {
        State: 'running', Failed: false, Restarts: 2, LastRestart: null, StartedAt: null, FinishedAt: null,
        Events: [taskEvent(TaskEventType.Started), taskEvent(TaskEventType.OOMKilled, { DisplayMessage: 'OOM Killed' })],
      };
      let rss = 10 * 1024 * 1024;
      const live: LiveAlloc[] = [{ alloc, clientStatus: 'running', taskStates: { server: state } }];
      const client = {
        currentNode: () => testNode('node-1'),
        liveAllocs: () => live,
        allocStats: (): Promise<AllocStatsLike> => Promise.resolve({ Tasks: { server: { ResourceUsage: { CpuStats: { Percent: 12.5 }, MemoryStats: { RSS: rss } } } } }),
      };
      const t = new Telemetry({ disableHostname: true, hostname: 'h', publishNodeMetrics: true, publishAllocationMetrics: true, collectionIntervalMs: 50 });
      const off = new Telemetry({ disableHostname: true, hostname: 'h', publishNodeMetrics: false, publishAllocationMetrics: false, collectionIntervalMs: 50 });
      timers.push(t, off);
      t.client = clientMetricsSource(client);
      off.client = clientMetricsSource(client);
      const labels = labelsOf(alloc, 'server');
      // Nobody calls sample(): the collection timer picks usage up, and picks up its changes.
      const sampled = async (): Promise<string> => {
        for (let i = 0; i < 100; i++) {
          const text = await t.prometheus();
          if (value(text, `yurt_client_allocs_memory_rss${labels}`) === rss) return text;
          await new Promise((r) => setTimeout(r, 20));
        }
        throw new Error(`no sample with rss ${rss}:\n${await t.prometheus()}`);
      };
      const text = await sampled();
      assert.equal(value(text, `yurt_client_allocs_cpu_total_percent${labels}`), 12.5);
      assert.equal(value(text, `yurt_client_allocs_restart_total${labels}`), 2);
      assert.equal(value(text, `yurt_client_allocs_oom_killed_total${labels}`), 1);
      assert.equal(value(text, `yurt_client_allocs_cpu_allocated${labels}`), alloc.AllocatedResources.Tasks['server']!.Cpu.CpuShares);
      assert.equal(value(text, `yurt_client_allocs_memory_allocated${labels}`), alloc.AllocatedResources.Tasks['server']!.Memory.MemoryMB * 1024 * 1024);
      const nodeLabels = '{node_id="node-1",datacenter="dc1",node_class="",node_pool="default"}';
      assert.equal(value(text, `yurt_client_allocated_memory${nodeLabels}`), alloc.AllocatedResources.Tasks['server']!.Memory.MemoryMB);
      assert.equal(value(text, `yurt_client_unallocated_memory${nodeLabels}`), 8192 - alloc.AllocatedResources.Tasks['server']!.Memory.MemoryMB);
      assert.equal(value(text, `yurt_client_allocations_running${nodeLabels}`), 1);
      rss = 20 * 1024 * 1024;
      await sampled();
      // Turned off: neither the node nor the allocations are published.
      const quiet = await off.prometheus();
      assert.doesNotMatch(quiet, /^yurt_client_allocs_memory_rss\{/m);
      assert.doesNotMatch(quiet, /^yurt_client_allocated_memory\{/m);
      // The allocation ends: its series go with the next sample.
      live.length = 0;
      await t.sample();
      assert.doesNotMatch(await t.prometheus(), /^yurt_client_allocs_memory_rss\{/m);
    } finally {
      for (const t of timers) t.close();
      await node.close();
      await ts.stop();
    }
  });

  void it('a failing driver does not break the scrape', async () => {
    const t = new Telemetry({ disableHostname: true, hostname: 'h', publishNodeMetrics: true, publishAllocationMetrics: true, collectionIntervalMs: 60_000 });
    t.client = { nodeUsage: () => null, allocUsage: () => Promise.reject(new Error('driver gone')) };
    await t.sample();
    assert.match(await t.prometheus(), /^yurt_runtime_rss_bytes \d+/m);
    t.close();
  });

  void it('the exposition passes promtool check metrics (names, types, suffixes)', async (t) => {
    if (!havePromtool()) {
      const reason = 'promtool is not installed (apt-get install prometheus)';
      if (process.env['CI']) assert.fail(reason);
      t.skip(reason);
      return;
    }
    const tel = new Telemetry({ disableHostname: false, hostname: 'h', publishNodeMetrics: true, publishAllocationMetrics: true, collectionIntervalMs: 60_000 });
    tel.server = view(true);
    tel.client = {
      nodeUsage: () => ({ labels: { node_id: 'n', datacenter: 'dc1', node_class: '', node_pool: 'default' }, allocated: { cpu: 1, memoryMB: 1, diskMB: 1 }, capacity: { cpu: 2, memoryMB: 2, diskMB: 2 }, running: 1, pending: 0 }),
      allocUsage: () =>
        Promise.resolve([{ allocId: 'a', namespace: 'default', job: 'j', taskGroup: 'g', tasks: [{ task: 't', cpuPercent: 1, memoryRssBytes: 1, cpuAllocatedMHz: 1, memoryAllocatedBytes: 1, restarts: 1, oomKills: 0 }] }]),
    };
    await tel.sample();
    for (const key of Object.keys(METRICS) as Array<keyof typeof METRICS>) if (METRICS[key].kind === 'histogram') tel.observe(key, 0.01, METRICS[key].labels.includes('type') ? { type: 'service' } : {});
    const text = await tel.prometheus();
    tel.close();
    assertPromtoolClean(text);
    // Every metric defined shows up when its source has something to say.
    for (const m of Object.values(METRICS)) assert.match(text, new RegExp(`^# TYPE ${m.name} ${m.kind}$`, 'm'));
  });

  void it('docs/metrics.md documents exactly the metrics that exist', () => {
    const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    const documented = new Set([...doc.matchAll(/^\| `([a-zA-Z_]+)` \|/gm)].map((m) => m[1]));
    const defined = new Set(Object.values(METRICS).map((m) => m.name));
    assert.deepEqual([...documented].sort(), [...defined].sort());
  });
});
