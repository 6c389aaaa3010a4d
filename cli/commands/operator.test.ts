import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SchedulerConfiguration } from '../../api/operator.js';
import { formatAgentStats } from '../format/operator-view.js';
import { UsageError } from '../usage.js';
import { applySchedulerFlags } from './operator.js';

const base: SchedulerConfiguration = {
  SchedulerAlgorithm: 'binpack', MemoryOversubscriptionEnabled: false, RejectJobRegistration: false, PauseEvalBroker: false,
  PreemptionConfig: { SystemSchedulerEnabled: true, SysBatchSchedulerEnabled: false, BatchSchedulerEnabled: false, ServiceSchedulerEnabled: false },
};

void test('set-config changes only what was given and leaves the input untouched', () => {
  const next = applySchedulerFlags(base, { 'preempt-service-scheduler': 'true', 'preempt-system-scheduler': 'false', 'reject-job-registration': 'true' });
  assert.deepEqual(next, {
    ...base,
    RejectJobRegistration: true,
    PreemptionConfig: { ...base.PreemptionConfig, ServiceSchedulerEnabled: true, SystemSchedulerEnabled: false },
  });
  assert.equal(base.PreemptionConfig.SystemSchedulerEnabled, true);
  assert.deepEqual(applySchedulerFlags(base, {}), base);
});

void test('set-config rejects values that are not true/false or a known algorithm', () => {
  assert.throws(() => applySchedulerFlags(base, { 'pause-eval-broker': 'yes' }), (e: unknown) => e instanceof UsageError && /-pause-eval-broker: "yes"/.test(e.message));
  assert.throws(() => applySchedulerFlags(base, { 'scheduler-algorithm': 'random' }), UsageError);
});

void test('agent-info sorts sections and keys', () => {
  assert.equal(formatAgentStats({ raft: { state: 'Follower', applied_index: '9' }, client: { node_id: 'n1' } }), 'client\n  node_id = n1\nraft\n  applied_index = 9\n  state = Follower');
  assert.equal(formatAgentStats({}), '');
});
