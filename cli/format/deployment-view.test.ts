import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, DeploymentState } from '../../structs/deployment.js';
import { formatDeployment, formatDeploymentGroups, formatDeploymentList } from './deployment-view.js';

const group = (over: Partial<DeploymentState> = {}): DeploymentState => ({
  AutoRevert: false,
  AutoPromote: false,
  ProgressDeadline: 0,
  RequireProgressBy: '0001-01-01T00:00:00Z',
  Promoted: false,
  PlacedCanaries: [],
  DesiredCanaries: 0,
  DesiredTotal: 3,
  PlacedAllocs: 1,
  HealthyAllocs: 1,
  UnhealthyAllocs: 0,
  ...over,
});

const deployment = (groups: Record<string, DeploymentState>, status: Deployment['Status'] = 'running'): Deployment => ({
  ID: '0b23b149-0000-4000-8000-000000000001',
  Namespace: 'default',
  JobID: 'web',
  JobVersion: 3,
  JobModifyIndex: 10,
  JobSpecModifyIndex: 10,
  JobCreateIndex: 5,
  IsMultiregion: false,
  TaskGroups: groups,
  Status: status,
  StatusDescription: 'Deployment is running but requires manual promotion',
  EvalPriority: 50,
  CreateIndex: 11,
  ModifyIndex: 12,
  CreateTime: 0,
  ModifyTime: 0,
});

void test('the Deployed table shows only the columns some group uses', () => {
  assert.equal(formatDeploymentGroups(deployment({ web: group() })), 'Task Group  Desired  Placed  Healthy  Unhealthy\nweb         3        1       1        0');
  const all = deployment({
    web: group({ AutoRevert: true, DesiredCanaries: 1, PlacedCanaries: ['a'], ProgressDeadline: 600e9, RequireProgressBy: '2026-11-22T10:10:00Z' }),
    api: group({ ProgressDeadline: 600e9, RequireProgressBy: '2026-11-22T10:11:00.5Z' }),
  });
  assert.equal(
    formatDeploymentGroups(all),
    [
      'Task Group  Auto Revert  Promoted  Desired  Canaries  Placed  Healthy  Unhealthy  Progress Deadline',
      'api         false        N/A       3        0         1       1        0          2026-11-22T10:11:00Z',
      'web         true         false     3        1         1       1        0          2026-11-22T10:10:00Z',
    ].join('\n'),
  );
  assert.match(formatDeploymentGroups({ ...all, Status: 'failed' }), /0 +N\/A$/m, 'a finished deployment has no deadline');
});

void test('deployment status and list in Nomad layout', () => {
  const d = deployment({ web: group() });
  assert.equal(
    formatDeployment(d, 8),
    'ID          = 0b23b149\nJob ID      = web\nJob Version = 3\nStatus      = running\nDescription = Deployment is running but requires manual promotion\n\nDeployed\nTask Group  Desired  Placed  Healthy  Unhealthy\nweb         3        1       1        0',
  );
  assert.equal(formatDeployment({ ...d, TaskGroups: {} }, 36).split('\n')[0], 'ID          = 0b23b149-0000-4000-8000-000000000001');
  assert.equal(formatDeploymentList([d], 8), 'ID        Job ID  Job Version  Status   Description\n0b23b149  web     3            running  Deployment is running but requires manual promotion');
});
