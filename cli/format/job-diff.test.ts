import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobDiff, JobPlanResponse } from '../../api/job-plan.js';
import { newAllocMetric } from '../../structs/eval.js';
import { formatJobDiff, updatesFromAnnotations } from './job-diff.js';
import { PLAN_CHANGES, PLAN_NO_CHANGE, formatDryRun, planExitCode } from './plan-view.js';

const edited: JobDiff = {
  Type: 'Edited',
  ID: 'web',
  Fields: [{ Type: 'Edited', Name: 'Priority', Old: '50', New: '70', Annotations: null }],
  Objects: null,
  TaskGroups: [
    {
      Type: 'Edited',
      Name: 'app',
      Fields: [
        { Type: 'Edited', Name: 'Count', Old: '1', New: '3', Annotations: null },
        { Type: 'None', Name: 'Name', Old: 'app', New: 'app', Annotations: null },
      ],
      Objects: [{ Type: 'Deleted', Name: 'Meta', Fields: [{ Type: 'Deleted', Name: 'team', Old: 'a', New: '', Annotations: null }], Objects: null }],
      Tasks: [
        { Type: 'Added', Name: 'sidecar', Fields: [{ Type: 'Added', Name: 'Driver', Old: '', New: 'exec', Annotations: null }], Objects: null, Annotations: ['forces create'] },
        { Type: 'Deleted', Name: 'old', Fields: null, Objects: null, Annotations: null },
      ],
      Updates: { create: 2, 'create/destroy update': 1, ignore: 0 },
    },
  ],
};

void test('an edited job: markers and names aligned per block, objects closed under their marker', () => {
  assert.equal(
    formatJobDiff(edited, false),
    `+/- Job: "web"
+/- Priority: "50" => "70"
+/- Task Group: "app" (2 create, 1 create/destroy update, 0 ignore)
  +/- Count: "1" => "3"
      Name:  "app"
  -   Meta {
      - team: "a"
      }
  +   Task: "sidecar" (forces create)
  -   Task: "old"`,
  );
});

void test('-verbose shows the fields of added tasks; a missing Updates map comes from the annotations', () => {
  const noUpdates: JobDiff = { ...edited, TaskGroups: [{ ...edited.TaskGroups![0]!, Updates: null }] };
  const out = formatJobDiff(noUpdates, true, {
    app: { Ignore: 1, Place: 2, Migrate: 0, Stop: 1, InPlaceUpdate: 0, DestructiveUpdate: 0, Canary: 0, Preemptions: 0 },
  });
  assert.match(out, /\n\+\/- Task Group: "app" \(2 create, 1 destroy, 1 ignore\)\n/);
  assert.match(out, /\n  \+   Task: "sidecar" \(forces create\)\n    \+ Driver: "exec"\n/);
  assert.deepEqual(updatesFromAnnotations(undefined), {});
});

const response = (over: Partial<JobPlanResponse>): JobPlanResponse => ({
  JobModifyIndex: 7, Diff: null, Annotations: null, FailedTGAllocs: null, Warnings: '', ...over,
});

void test('plan exit code: 1 only when allocations would be placed, stopped, migrated or replaced', () => {
  const u = { Ignore: 0, Place: 0, Migrate: 0, Stop: 0, InPlaceUpdate: 0, DestructiveUpdate: 0, Canary: 0, Preemptions: 0 };
  assert.equal(planExitCode(response({})), PLAN_NO_CHANGE);
  assert.equal(planExitCode(response({ Annotations: { DesiredTGUpdates: { a: { ...u, Ignore: 3, InPlaceUpdate: 1 } } } })), PLAN_NO_CHANGE);
  for (const k of ['Place', 'Stop', 'Migrate', 'DestructiveUpdate', 'Canary'] as const) {
    assert.equal(planExitCode(response({ Annotations: { DesiredTGUpdates: { a: { ...u, [k]: 1 } } } })), PLAN_CHANGES, k);
  }
});

void test('dry run: system jobs word the placement warning per node; groups are sorted', () => {
  const m = { ...newAllocMetric(), NodesEvaluated: 2, CoalescedFailures: 1, ConstraintFiltered: { '${attr.kernel.name} = linux': 2 } };
  const out = formatDryRun(response({ FailedTGAllocs: { web: m, api: { ...m, CoalescedFailures: 0 } } }), 'system');
  assert.equal(
    out,
    `- WARNING: Failed to place allocations on all nodes.
  Task Group "api" (failed to place 1 allocation):
    * Constraint "\${attr.kernel.name} = linux": 2 nodes excluded by filter

  Task Group "web" (failed to place 2 allocations):
    * Constraint "\${attr.kernel.name} = linux": 2 nodes excluded by filter`,
  );
});
