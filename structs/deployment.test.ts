import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DeploymentDescription,
  groupStrategy,
  isDeploymentActive,
  newDeployment,
  newDeploymentState,
  nsToRfc3339,
  rfc3339ToNs,
  rollbackDescription,
  runningDescription,
  ZERO_TIME,
} from './deployment.js';
import { canonicalizeJob, defaultUpdateStrategy } from './job-defaults.js';
import type { Job, TaskGroup } from './job.js';

const testJob = (over: Partial<Job> = {}): Job => ({ ...canonicalizeJob({ ID: 'web', Type: 'service', TaskGroups: [{ Name: 'web', Tasks: [{ Name: 't', Driver: 'exec' }] }] }), ...over });
const testGroup = (over: Partial<TaskGroup> = {}): TaskGroup => ({ ...testJob().TaskGroups[0]!, ...over });

void test('active statuses are the ones that may still move (Nomad Deployment.Active)', () => {
  for (const s of ['running', 'paused', 'pending', 'blocked', 'unblocking'] as const) assert.equal(isDeploymentActive({ Status: s }), true, s);
  for (const s of ['failed', 'successful', 'cancelled'] as const) assert.equal(isDeploymentActive({ Status: s }), false, s);
});

void test('the running description says whether canaries wait for a manual or an automatic promotion', () => {
  const job = testJob();
  const d = newDeployment(job, 50, 'd1', 1);
  const u = { ...defaultUpdateStrategy(), Canary: 1 };
  d.TaskGroups['web'] = { ...newDeploymentState(job.TaskGroups[0]!, u), DesiredCanaries: 1 };
  assert.equal(runningDescription(d), DeploymentDescription.RunningNeedsPromotion);
  d.TaskGroups['web'] = { ...d.TaskGroups['web'], AutoPromote: true };
  assert.equal(runningDescription(d), DeploymentDescription.RunningAutoPromotion);
  d.TaskGroups['web'] = { ...d.TaskGroups['web'], Promoted: true };
  assert.equal(runningDescription(d), DeploymentDescription.Running);
  assert.equal(rollbackDescription(DeploymentDescription.FailedAllocations, 2), 'Failed due to unhealthy allocations - rolling back to job version 2');
});

void test('only service groups with max_parallel > 0 are deployed; times round-trip as RFC 3339', () => {
  const u = defaultUpdateStrategy();
  assert.ok(groupStrategy(testJob({ Update: u }), testGroup({ Update: u })));
  assert.equal(groupStrategy(testJob({ Type: 'batch' }), testGroup({ Update: u })), undefined);
  assert.equal(groupStrategy(testJob(), testGroup({ Update: { ...u, MaxParallel: 0 } })), undefined);
  assert.equal(rfc3339ToNs(ZERO_TIME), 0);
  assert.equal(rfc3339ToNs(nsToRfc3339(1_700_000_000_123_000_000)), 1_700_000_000_123_000_000);
});
