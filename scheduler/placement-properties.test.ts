/**
 * Properties that must hold for any cluster and any jobs, checked with fast-check (fixed seed,
 * bounded runs; a failure prints the shrunk counterexample and the seed to replay it):
 * no node is ever over-committed in any dimension or port, placements land only on feasible
 * nodes, preemption only evicts jobs at least 10 priority levels lower, counts are met whenever
 * capacity allows, and system jobs run on exactly the feasible nodes that have room.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Constraint } from '../structs/constraint.js';
import type { Job, JobType } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import type { NetworkResource } from '../structs/resources.js';
import { nodeCapacity, nodeUsage } from './bin-pack.js';
import { inJobScope } from './candidates.js';
import { checkFeasible } from './feasibility.js';
import { GenericScheduler } from './generic-scheduler.js';
import { portCollision } from './ports.js';
import { PREEMPTION_PRIORITY_DELTA } from './preemption.js';
import { SystemScheduler } from './system-scheduler.js';
import { testEval, testGroup, testJob, testNode, testTask } from './testing/fixtures.js';
import { MemState, RecordingPlanner, testContext } from './testing/harness.js';
import type { SchedulerContext } from './scheduler-api.js';

const SEED = 5_2026;
const RACKS = ['r0', 'r1', 'r2'] as const;
const STATIC_PORT = 9000;

interface NodeSpec {
  cpu: number;
  mem: number;
  disk: number;
  rack: string;
  dc: string;
  status: 'ready' | 'down';
  eligible: boolean;
  windows: boolean;
  reservesPort: boolean;
}

interface JobSpec {
  type: JobType;
  priority: number;
  count: number;
  cpu: number;
  mem: number;
  disk: number;
  notRack: string | null;
  linuxOnly: boolean;
  distinctHosts: boolean;
  spread: boolean;
  affinityRack: string | null;
  staticPort: boolean;
  dynamicPort: boolean;
  datacenters: string[];
}

const nodeArb: fc.Arbitrary<NodeSpec> = fc.record({
  cpu: fc.integer({ min: 1, max: 8 }).map((x) => x * 1000),
  mem: fc.integer({ min: 1, max: 8 }).map((x) => x * 1024),
  disk: fc.integer({ min: 1, max: 4 }).map((x) => x * 1000),
  rack: fc.constantFrom(...RACKS),
  dc: fc.constantFrom('dc1', 'dc2'),
  status: fc.constantFrom('ready', 'ready', 'ready', 'down'),
  eligible: fc.constantFrom(true, true, true, false),
  windows: fc.constantFrom(false, false, false, true),
  reservesPort: fc.constantFrom(false, false, false, true),
});

const jobArb = (types: readonly JobType[]): fc.Arbitrary<JobSpec> =>
  fc.record({
    type: fc.constantFrom(...types),
    priority: fc.integer({ min: 1, max: 100 }),
    count: fc.integer({ min: 1, max: 12 }),
    cpu: fc.integer({ min: 1, max: 30 }).map((x) => x * 100),
    mem: fc.integer({ min: 1, max: 24 }).map((x) => x * 128),
    disk: fc.integer({ min: 0, max: 6 }).map((x) => x * 100),
    notRack: fc.option(fc.constantFrom(...RACKS)),
    linuxOnly: fc.boolean(),
    distinctHosts: fc.constantFrom(false, false, true),
    spread: fc.constantFrom(false, false, true),
    affinityRack: fc.option(fc.constantFrom(...RACKS), { freq: 4 }),
    staticPort: fc.constantFrom(false, false, false, true),
    dynamicPort: fc.constantFrom(false, false, true),
    datacenters: fc.constantFrom(['*'], ['dc1'], ['dc2', 'dc1'], ['dc*']),
  });

function buildNode(spec: NodeSpec, i: number): Node {
  const node = testNode(`n${i}`, { Meta: { rack: spec.rack }, Datacenter: spec.dc, Status: spec.status, SchedulingEligibility: spec.eligible ? 'eligible' : 'ineligible' }, spec.cpu, spec.mem);
  node.NodeResources.Disk.DiskMB = spec.disk;
  if (spec.windows) node.Attributes = { ...node.Attributes, 'kernel.name': 'windows' };
  if (spec.reservesPort) node.ReservedResources = { ...node.ReservedResources, Networks: { ReservedHostPorts: String(STATIC_PORT) } };
  return node;
}

function buildJob(spec: JobSpec, id: string): Job {
  const constraints: Constraint[] = [];
  if (spec.notRack !== null) constraints.push({ LTarget: '${meta.rack}', RTarget: spec.notRack, Operand: '!=' });
  if (spec.linuxOnly) constraints.push({ LTarget: '${attr.kernel.name}', RTarget: 'linux', Operand: '=' });
  if (spec.distinctHosts && spec.type !== 'system') constraints.push({ LTarget: '', RTarget: '', Operand: 'distinct_hosts' });
  const networks: NetworkResource[] =
    spec.staticPort || spec.dynamicPort
      ? [
          {
            Mode: 'host',
            Device: '',
            CIDR: '',
            IP: '',
            MBits: 0,
            ReservedPorts: spec.staticPort ? [{ Label: 'fixed', Value: STATIC_PORT, To: 0, HostNetwork: 'default' }] : [],
            DynamicPorts: spec.dynamicPort ? [{ Label: 'dyn', Value: 0, To: 0, HostNetwork: 'default' }] : [],
          },
        ]
      : [];
  return testJob({
    ID: id,
    Type: spec.type,
    Priority: spec.priority,
    Datacenters: spec.datacenters,
    Constraints: constraints,
    Affinities: spec.affinityRack !== null ? [{ LTarget: '${meta.rack}', RTarget: spec.affinityRack, Operand: '=', Weight: 50 }] : [],
    Spreads: spec.spread ? [{ Attribute: '${meta.rack}', Weight: 50, SpreadTarget: [] }] : [],
    TaskGroups: [
      testGroup({
        Count: spec.count,
        Tasks: [testTask({ Resources: { CPU: spec.cpu, Cores: 0, MemoryMB: spec.mem, MemoryMaxMB: 0, DiskMB: 0, Networks: [], Devices: [] } })],
        EphemeralDisk: { Sticky: false, SizeMB: spec.disk, Migrate: false },
        Networks: networks,
      }),
    ],
  });
}

function cluster(specs: NodeSpec[]): MemState {
  const state = new MemState();
  specs.forEach((s, i) => state.putNode(buildNode(s, i)));
  return state;
}

/** One context per run: its IDs must stay unique across every scheduler that runs. */
async function schedule(state: MemState, planner: RecordingPlanner, job: Job, ctx: SchedulerContext) {
  state.putJob(job);
  const sched = job.Type === 'system' || job.Type === 'sysbatch' ? new SystemScheduler(state, planner, ctx) : new GenericScheduler(state, planner, ctx);
  await sched.process(testEval(job, { ID: `prop-${job.ID}` }));
  return planner.evals.at(-1)!;
}

/** Could a node run the job's group at all, ignoring load? (ready, eligible, in scope, constraints.) */
function eligibleFor(job: Job, node: Node): boolean {
  return node.Status === 'ready' && node.SchedulingEligibility === 'eligible' && !node.Drain && inJobScope(job, node) && checkFeasible(job, job.TaskGroups[0]!, node).ok;
}

/** How many copies of the group a node could take on its own, empty. */
function roomOn(job: Job, node: Node): number {
  const tg = job.TaskGroups[0]!;
  const t = tg.Tasks[0]!.Resources;
  const cap = nodeCapacity(node);
  const disk = tg.EphemeralDisk?.SizeMB ?? 0;
  let n = Math.min(Math.floor(cap.cpu / t.CPU), Math.floor(cap.memoryMB / t.MemoryMB), disk > 0 ? Math.floor(cap.diskMB / disk) : Number.POSITIVE_INFINITY);
  const wantsStatic = tg.Networks.some((net) => net.ReservedPorts.length > 0);
  if (wantsStatic) n = Math.min(n, node.ReservedResources?.Networks.ReservedHostPorts === String(STATIC_PORT) ? 0 : 1);
  if (job.Constraints.some((c) => c.Operand === 'distinct_hosts')) n = Math.min(n, 1);
  return n;
}

void test('property: whatever is scheduled, no node is over-committed, placements are feasible, preemption respects priorities', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(nodeArb, { minLength: 1, maxLength: 14 }), fc.array(jobArb(['service', 'batch', 'system']), { minLength: 1, maxLength: 5 }), fc.nat(1000), async (nodes, jobs, seed) => {
      const state = cluster(nodes);
      const planner = new RecordingPlanner(state);
      const ctx = testContext(seed);
      for (const [i, spec] of jobs.entries()) await schedule(state, planner, buildJob(spec, `job${i}`), ctx);

      for (const node of state.nodes()) {
        const allocs = state.allocsByNode(node.ID);
        const used = nodeUsage(allocs);
        const cap = nodeCapacity(node);
        assert.ok(used.cpu <= cap.cpu && used.memoryMB <= cap.memoryMB && used.diskMB <= cap.diskMB, `${node.ID} over-committed: ${JSON.stringify(used)} > ${JSON.stringify(cap)}`);
        assert.equal(portCollision(node, allocs), null, `port collision on ${node.ID}`);
      }
      for (const a of state.allocMap.values()) {
        const node = state.nodeById(a.NodeID)!;
        assert.ok(eligibleFor(a.Job, node), `${a.Name} placed on ${a.NodeID}, which it may not run on`);
        if (a.DesiredStatus === 'evict') {
          const by = state.allocMap.get(a.DesiredDescription.replace('Preempted by alloc ID ', ''));
          assert.ok(by !== undefined, `evicted ${a.ID} names its preemptor`);
          assert.ok(by.Job.Priority - a.Job.Priority >= PREEMPTION_PRIORITY_DELTA, `priority ${a.Job.Priority} preempted by ${by.Job.Priority}`);
          assert.equal(by.Job.Type, 'system');
        }
      }
      for (const [i] of jobs.entries()) {
        const live = state.liveAllocs(`job${i}`);
        const job = state.jobById('default', `job${i}`)!;
        if (job.Constraints.some((c) => c.Operand === 'distinct_hosts')) assert.equal(new Set(live.map((a) => a.NodeID)).size, live.length, 'distinct_hosts');
        if (job.Type === 'system') assert.equal(new Set(live.map((a) => a.NodeID)).size, live.length, 'one system allocation per node');
      }
    }),
    { seed: SEED, numRuns: 80 },
  );
});

void test('property: a service or batch job on an empty cluster is placed in full whenever capacity allows', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(nodeArb, { minLength: 1, maxLength: 14 }), jobArb(['service', 'batch']), fc.nat(1000), async (nodes, spec, seed) => {
      const state = cluster(nodes);
      const job = buildJob(spec, 'fill');
      const room = state.nodes().reduce((sum, n) => sum + (eligibleFor(job, n) ? roomOn(job, n) : 0), 0);
      const ev = await schedule(state, new RecordingPlanner(state), job, testContext(seed));
      const placed = state.liveAllocs('fill').length;
      assert.equal(placed, Math.min(spec.count, room));
      assert.equal(ev.FailedTGAllocs === null, placed === spec.count, 'a failure is reported exactly when something was not placed');
    }),
    { seed: SEED + 1, numRuns: 80 },
  );
});

void test('property: a system job runs on exactly the feasible nodes with room, preempting lower priorities where it must', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(nodeArb, { minLength: 1, maxLength: 14 }),
      jobArb(['service']),
      jobArb(['system']),
      fc.boolean(),
      fc.nat(1000),
      async (nodes, filler, sys, outranks, seed) => {
        const state = cluster(nodes);
        const planner = new RecordingPlanner(state);
        // Load the cluster first with a service job, then the system job either outranks it by the
        // preemption delta or does not.
        const low = buildJob({ ...filler, priority: 20, count: 12, distinctHosts: false, staticPort: false }, 'filler');
        const ctx = testContext(seed);
        await schedule(state, planner, low, ctx);
        const system = buildJob({ ...sys, priority: outranks ? 20 + PREEMPTION_PRIORITY_DELTA : 20 + PREEMPTION_PRIORITY_DELTA - 1, staticPort: false }, 'daemon');
        const before = new Map(state.nodes().map((n) => [n.ID, nodeUsage(state.allocsByNode(n.ID))]));
        await schedule(state, planner, system, ctx);

        const t = system.TaskGroups[0]!.Tasks[0]!.Resources;
        const disk = system.TaskGroups[0]!.EphemeralDisk?.SizeMB ?? 0;
        const expected = state
          .nodes()
          .filter((n) => {
            if (!eligibleFor(system, n)) return false;
            const cap = nodeCapacity(n);
            // With preemption everything the filler holds can be evicted; without, only free room counts.
            const used = outranks ? { cpu: 0, memoryMB: 0, diskMB: 0 } : before.get(n.ID)!;
            return cap.cpu - used.cpu >= t.CPU && cap.memoryMB - used.memoryMB >= t.MemoryMB && cap.diskMB - used.diskMB >= disk;
          })
          .map((n) => n.ID)
          .sort();
        assert.deepEqual(state.liveAllocs('daemon').map((a) => a.NodeID).sort(), expected);
        if (!outranks) assert.equal(state.liveAllocs('filler').length, state.allocsByJob('default', 'filler').length, 'nothing preempted');
      },
    ),
    { seed: SEED + 2, numRuns: 80 },
  );
});
