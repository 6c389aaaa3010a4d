import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { METRICS } from './metric-names.js';
import { Telemetry, type ServerMetricsView } from './telemetry.js';

function view(leader: boolean): ServerMetricsView {
  return {
    isLeader: () => leader,
    raftState: () => (leader ? 'leader' : 'follower'),
    raftPeers: () => 3,
    raftCommitIndex: () => 42,
    raftAppliedIndex: () => 41,
    raftLastContactMs: () => 0,
    brokerStats: () => ({ ready: 2, unacked: 1, waiting: 0, delayed: 0 }),
    blockedEvals: () => 1,
    heartbeatsActive: () => 5,
    jobSummaries: () => [{ namespace: 'default', job: 'web', groups: { app: { Queued: 1, Starting: 0, Running: 2, Failed: 0, Complete: 0, Lost: 0, Unknown: 0 } } }],
    jobStatusCounts: () => ({ pending: 0, running: 1, dead: 0 }),
  };
}

void describe('telemetry', () => {
  void it('renders the Prometheus format with Nomad-structured names and labels', async () => {
    const t = new Telemetry({ disableHostname: true, hostname: 'h', publishNodeMetrics: true });
    t.server = view(true);
    const text = await t.prometheus();
    assert.match(text, /^yurt_nomad_job_summary_running\{namespace="default",job="web",task_group="app"\} 2$/m);
    assert.match(text, /^yurt_nomad_job_summary_queued\{namespace="default",job="web",task_group="app"\} 1$/m);
    assert.match(text, /^yurt_raft_state_leader 1$/m);
    assert.match(text, /^yurt_nomad_broker_total_ready 2$/m);
    assert.match(text, /^yurt_nomad_heartbeat_active 5$/m);
    t.observe('planApplySeconds', 0.003);
    assert.match(await t.prometheus(), /^yurt_nomad_plan_apply_seconds_count 1$/m);
    t.close();
  });

  void it('followers do not report cluster-wide scheduling gauges', async () => {
    const t = new Telemetry({ disableHostname: true, hostname: 'h', publishNodeMetrics: true });
    t.server = view(false);
    const text = await t.prometheus();
    assert.match(text, /^yurt_raft_state_follower 1$/m);
    assert.doesNotMatch(text, /^yurt_nomad_job_summary_running\{/m);
    assert.match(text, /^yurt_nomad_broker_total_ready 0$/m, "unlabelled gauges read 0 on followers");
    t.close();
  });

  void it('the JSON format has Nomad\'s Gauges/Counters/Samples and a host label unless disabled', async () => {
    const t = new Telemetry({ disableHostname: false, hostname: 'node-7', publishNodeMetrics: true });
    t.server = view(true);
    const j = await t.json();
    const g = j.Gauges as Array<{ Name: string; Value: number; Labels: Record<string, string> }>;
    const leader = g.find((x) => x.Name === 'yurt_raft_state_leader');
    assert.equal(leader?.Value, 1);
    assert.equal(leader?.Labels['host'], 'node-7');
    assert.ok(Array.isArray(j.Counters) && Array.isArray(j.Samples));
    t.close();
  });

  void it('docs/metrics.md documents exactly the metrics that exist', () => {
    const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    const documented = new Set([...doc.matchAll(/^\| `([a-zA-Z_]+)` \|/gm)].map((m) => m[1]));
    const defined = new Set(Object.values(METRICS).map((m) => m.name));
    assert.deepEqual([...documented].sort(), [...defined].sort());
  });
});
