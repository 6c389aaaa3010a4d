import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newAllocMetric } from '../../structs/eval.js';
import { NOW_MS, allocStubFixture, allocation, evaluation, node } from '../testdata/fixtures.js';
import { formatEvalDetail } from './eval-view.js';
import { formatServerMembers, isLeaderMember } from './members-view.js';
import { formatAllocatedResources, formatNodeDetail, formatNodeList } from './node-view.js';
import { humanizeIBytes } from './units.js';

void test('eval status lists placements and failure reasons', () => {
  const ev = evaluation({
    FailedTGAllocs: { cache: { ...newAllocMetric(), NodesEvaluated: 2, ConstraintFiltered: { '${attr.kernel.name} = windows': 2 } } },
    BlockedEval: '77aa88bb-0000',
  });
  assert.equal(
    formatEvalDetail(ev, [allocStubFixture()], { verbose: false, nowMs: NOW_MS }),
    `ID                 = 0f0e2c9a
Create Time        = 1m2s ago
Modify Time        = 1m ago
Status             = complete
Status Description = <none>
Type               = batch
TriggeredBy        = job-register
Job ID             = example
Namespace          = default
Priority           = 50
Placement Failures = true
Blocked Eval       = 77aa88bb

Placed Allocations
ID        Node ID   Task Group  Version  Desired  Status   Created   Modified
5b4e4f4b  1f2c3d4e  cache       3        run      running  1m2s ago  5s ago

Failed Placements
Task Group "cache" (failed to place 1 allocation):
  * Constraint "\${attr.kernel.name} = windows": 2 nodes excluded by filter

Evaluation "77aa88bb" waiting for additional capacity to place remainder`,
  );
});

void test('node list table', () => {
  const stub = { ...node(), Address: '127.0.0.1', Version: '0.1.0' };
  assert.equal(
    formatNodeList([stub], false),
    'ID        Node Pool  DC   Name   Class   Drain  Eligibility  Status\n1f2c3d4e  default    dc1  node1  <none>  false  eligible     ready',
  );
  assert.equal(formatNodeList([], false), 'No nodes registered');
});

void test('node detail: drivers, events, allocated resources; attributes only when verbose', () => {
  const allocs = [allocation({ ClientStatus: 'running' }), allocation({ ID: 'done', ClientStatus: 'complete' })];
  const out = formatNodeDetail(node(), allocs, { verbose: false, nowMs: NOW_MS });
  assert.match(out, /^Drivers +?= exec,raw_exec$/m);
  assert.match(out, /Node Events\nTime +Subsystem +Message\n2026-11-22T09:00:00Z +Cluster +Node registered/);
  assert.doesNotMatch(out, /Attributes/);
  const verbose = formatNodeDetail(node(), allocs, { verbose: true, nowMs: NOW_MS });
  assert.match(verbose, /Attributes\ncpu\.arch +?= amd64\nkernel\.name = linux/);
  assert.match(verbose, /^ID +?= 1f2c3d4e-aaaa-bbbb-cccc-000000000003$/m);
});

void test('allocated resources count only live allocations against the schedulable total', () => {
  const allocs = [allocation({ ClientStatus: 'running' }), allocation({ ClientStatus: 'complete' })];
  assert.equal(formatAllocatedResources(node(), allocs), 'CPU           Memory           Disk\n500/4000 MHz  256 MiB/8.0 GiB  300 MiB/10 GiB');
});

void test('humanizeIBytes rounds like go-humanize', () => {
  assert.equal(humanizeIBytes(0), '0 B');
  assert.equal(humanizeIBytes(1536), '1.5 KiB');
  assert.equal(humanizeIBytes(7.74 * 1024 ** 3), '7.7 GiB');
  assert.equal(humanizeIBytes(300 * 1024 ** 2), '300 MiB');
});

void test('server members: sorted, leader by address and RPC port tag', () => {
  const m = (name: string, addr: string): { Name: string; Addr: string; Port: number; Status: string; Tags: Record<string, string> } => ({
    Name: name, Addr: addr, Port: 4648, Status: 'alive',
    Tags: { port: '4647', raft_vsn: '3', build: '0.1.0', dc: 'dc1', region: 'global', role: 'nomad' },
  });
  const members = [m('s2.global', '127.0.0.2'), m('s1.global', '127.0.0.1')];
  assert.equal(isLeaderMember(members[1]!, '127.0.0.1:4647'), true);
  assert.equal(isLeaderMember(members[1]!, '127.0.0.1:4648'), false);
  assert.equal(
    formatServerMembers(members, '127.0.0.1:4647'),
    [
      'Name       Address    Port  Status  Leader  Raft Version  Build  Datacenter  Region',
      's1.global  127.0.0.1  4648  alive   true    3             0.1.0  dc1         global',
      's2.global  127.0.0.2  4648  alive   false   3             0.1.0  dc1         global',
    ].join('\n'),
  );
});
