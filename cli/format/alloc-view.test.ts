import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NOW_MS, allocation, taskState } from '../testdata/fixtures.js';
import { eventDescription, formatAllocDetail } from './alloc-view.js';

void test('alloc status: Nomad layout with a task section and recent events newest first', () => {
  assert.equal(
    formatAllocDetail(allocation(), { verbose: false, nowMs: NOW_MS }),
    `ID                  = 5b4e4f4b-aaaa-bbbb-cccc-000000000001
Eval ID             = 0f0e2c9a
Name                = example.cache[0]
Node ID             = 1f2c3d4e
Node Name           = node1
Job ID              = example
Job Version         = 3
Client Status       = complete
Client Description  = All tasks have completed
Desired Status      = run
Desired Description = <none>
Created             = 1m2s ago
Modified            = 5s ago

Task "redis" is "dead"

Task Resources:
CPU      Memory   Disk     Addresses
500 MHz  256 MiB  300 MiB  <none>

Task Events:
Started At     = 2026-11-22T09:59:01Z
Finished At    = 2026-11-22T09:59:02Z
Total Restarts = 0
Last Restart   = N/A

Recent Events:
Time                  Type        Description
2026-11-22T09:59:02Z  Terminated  Exit Code: 0
2026-11-22T09:59:01Z  Started     Task started by client
2026-11-22T09:59:00Z  Task Setup  Building Task Directory
2026-11-22T09:59:00Z  Received    Task received by client`,
  );
});

void test('verbose alloc status: full IDs, exact times and placement metrics', () => {
  const out = formatAllocDetail(allocation(), { verbose: true, nowMs: NOW_MS });
  assert.match(out, /^Eval ID +?= 0f0e2c9a-aaaa-bbbb-cccc-000000000002$/m);
  assert.match(out, /^Created +?= 2026-11-22T09:58:58Z$/m);
  assert.match(out, /^Allocation Time +?= 1\.5ms$/m);
  assert.match(out, /\n\nPlacement Metrics\n/);
});

void test('event descriptions fall back to Nomad wording when no DisplayMessage came', () => {
  const base = taskState().Events[0]!;
  assert.equal(eventDescription({ ...base, Type: 'Terminated', ExitCode: 137, Signal: 9, Message: 'OOM' }), 'Exit Code: 137, Signal: 9, Exit Message: "OOM"');
  assert.equal(eventDescription({ ...base, Type: 'Killing', KillTimeout: 5e9 }), 'Sent interrupt. Waiting 5s before force killing');
  assert.equal(eventDescription({ ...base, Type: 'Driver Failure', DriverError: 'image not found' }), 'image not found');
  assert.equal(eventDescription({ ...base, Type: 'Started', DisplayMessage: 'custom' }), 'custom');
});
