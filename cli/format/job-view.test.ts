import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newAllocMetric } from '../../structs/eval.js';
import { NOW_MS, allocStubFixture, evaluation, job, summary } from '../testdata/fixtures.js';
import { formatAllocListStubs, formatJobDetail, formatJobList } from './job-view.js';

void test('job list: ID, Type, Priority, Status, Submit Date', () => {
  const stub = { ...job(), ParentID: '', Periodic: true, ParameterizedJob: false, JobSummary: summary() };
  assert.equal(
    formatJobList([stub, { ...stub, ID: 'web', Type: 'service', Periodic: false, Stop: true, Status: 'dead' }]),
    [
      'ID       Type            Priority  Status          Submit Date',
      'example  batch/periodic  50        running         2026-11-22T10:00:00Z',
      'web      service         50        dead (stopped)  2026-11-22T10:00:00Z',
    ].join('\n'),
  );
});

void test('allocation table: 8-character IDs and relative times', () => {
  assert.equal(
    formatAllocListStubs([allocStubFixture()], false, 8, NOW_MS),
    [
      'ID        Node ID   Task Group  Version  Desired  Status   Created   Modified',
      '5b4e4f4b  1f2c3d4e  cache       3        run      running  1m2s ago  5s ago',
    ].join('\n'),
  );
  assert.equal(formatAllocListStubs([], false, 8, NOW_MS), 'No allocations placed');
});

void test('job detail: header, Summary and Allocations as Nomad lays them out', () => {
  const out = formatJobDetail({ job: job(), summary: summary(), allocations: [allocStubFixture()], evaluations: [evaluation()], verbose: false, nowMs: NOW_MS });
  assert.equal(
    out,
    `ID            = example
Name          = example
Submit Date   = 2026-11-22T10:00:00Z
Type          = batch
Priority      = 50
Datacenters   = dc1,dc2
Namespace     = default
Node Pool     = default
Status        = running
Periodic      = false
Parameterized = false

Summary
Task Group  Queued  Starting  Running  Failed  Complete  Lost  Unknown
cache       0       1         2        0       4         0     0

Allocations
ID        Node ID   Task Group  Version  Desired  Status   Created   Modified
5b4e4f4b  1f2c3d4e  cache       3        run      running  1m2s ago  5s ago`,
  );
});

void test('job detail shows why placement failed while an evaluation is blocked', () => {
  const failed = evaluation({ FailedTGAllocs: { cache: { ...newAllocMetric(), NodesEvaluated: 1, NodesExhausted: 1, DimensionExhausted: { memory: 1 } } }, BlockedEval: 'b' });
  const blocked = evaluation({ ID: 'b10cb10c-0000', Status: 'blocked', CreateIndex: 20 });
  const out = formatJobDetail({ job: job(), summary: summary(), allocations: [], evaluations: [failed, blocked], verbose: true, nowMs: NOW_MS });
  assert.match(out, /\n\nPlacement Failure\nTask Group "cache" \(failed to place 1 allocation\):\n {2}\* Resources exhausted on 1 nodes\n {2}\* Dimension "memory" exhausted on 1 nodes\n/);
  assert.match(out, /\n\nEvaluations\nID +Priority +Triggered By +Status +Placement Failures\n0f0e2c9a-aaaa-bbbb-cccc-000000000002 +50 +job-register +complete +true\nb10cb10c-0000 +50 +job-register +blocked +N\/A - In Progress/);
  assert.match(out, /Allocations\nNo allocations placed$/);
});
