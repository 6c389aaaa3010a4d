/**
 * `npm run bench -- scheduler`: evaluation time of the schedulers against an in-memory cluster.
 *
 * B1 follows Nomad's own scheduler benchmark (hashicorp/nomad scheduler/benchmarks): nodes of
 * 4 cores x 3500 MHz and 32,000 MB, half of them eligible through a `set_contains_any` on
 * `meta.rack`, a service job whose tasks ask for 6,000 MHz / 6,000 MB, with and without a
 * `spread` block; the plan is not committed, so every repetition starts from the same cluster.
 * Then, on 10,000 nodes: a 1,000-allocation service job, a system job and a constrained job,
 * with placements per second and p50/p99 evaluation time. BENCH_QUICK=1 runs the small sizes only.
 */
import type { Evaluation } from '../../structs/eval.js';
import type { Job } from '../../structs/job.js';
import type { Node } from '../../structs/node.js';
import type { Plan } from '../../structs/plan.js';
import { GenericScheduler } from '../../scheduler/generic-scheduler.js';
import type { PlanSubmission, Planner, Scheduler, SchedulerContext, SchedulerState } from '../../scheduler/scheduler-api.js';
import { SystemScheduler } from '../../scheduler/system-scheduler.js';
import { testEval, testGroup, testJob, testNode, testTask } from '../../scheduler/testing/fixtures.js';
import { MemState, testContext } from '../../scheduler/testing/harness.js';

const RACKS = 10;
const QUICK = process.env['BENCH_QUICK'] === '1';
/** Repeat an evaluation at least this many times and for at least this long, for stable percentiles. */
const MIN_RUNS = 5;
const MIN_MS = 1500;
const MAX_RUNS = 200;

/** A planner that records placements but commits nothing (Nomad's benchmark does the same). */
class CountingPlanner implements Planner {
  placed = 0;
  failedGroups = 0;
  async submitPlan(plan: Plan): Promise<PlanSubmission> {
    for (const l of Object.values(plan.NodeAllocation)) this.placed += l.length;
    return { result: { NodeUpdate: plan.NodeUpdate, NodeAllocation: plan.NodeAllocation, RefreshIndex: 0, AllocIndex: 1 }, refreshedState: null };
  }
  async updateEval(ev: Evaluation): Promise<void> {
    this.failedGroups += Object.keys(ev.FailedTGAllocs ?? {}).length;
  }
  async createEval(): Promise<void> {}
}

function b1Nodes(n: number): Node[] {
  const out: Node[] = [];
  for (let i = 0; i < n; i++) {
    const node = testNode(`node-${String(i).padStart(6, '0')}`, { Meta: { rack: `r${i % RACKS}` }, Datacenter: `dc${i % 3}` }, 14_000, 32_000);
    node.NodeResources.Cpu.TotalCpuCores = 4;
    node.Attributes = { ...node.Attributes, 'unique.network.ip-address': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` };
    out.push(node);
  }
  return out;
}

function b1Job(count: number, spread: boolean): Job {
  const task = testTask({ Resources: { CPU: 6000, Cores: 0, MemoryMB: 6000, MemoryMaxMB: 0, DiskMB: 0, Networks: [], Devices: [] } });
  return testJob({
    ID: `b1-${count}-${spread ? 'spread' : 'plain'}`,
    Constraints: [{ LTarget: '${meta.rack}', RTarget: 'r0,r1,r2,r3,r4', Operand: 'set_contains_any' }],
    Spreads: spread ? [{ Attribute: '${node.datacenter}', Weight: 100, SpreadTarget: [] }] : [],
    TaskGroups: [testGroup({ Count: count, Tasks: [task], EphemeralDisk: { Sticky: false, SizeMB: 100, Migrate: false } })],
  });
}

function cluster(nodes: Node[]): MemState {
  const state = new MemState();
  for (const n of nodes) state.putNode(n);
  return state;
}

interface Timing {
  p50: number;
  /** Median CPU time (user + system) of one evaluation: robust when the machine is shared. */
  cpuP50: number;
  p99: number;
  runs: number;
  placedPerEval: number;
  placementsPerS: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function timeEvals(state: MemState, job: Job, make: (s: SchedulerState, p: Planner, c: SchedulerContext) => Scheduler): Promise<Timing> {
  state.putJob(job);
  const times: number[] = [];
  const cpu: number[] = [];
  let placed = 0;
  const began = performance.now();
  for (let i = 0; i < MAX_RUNS && (i < MIN_RUNS || performance.now() - began < MIN_MS); i++) {
    const planner = new CountingPlanner();
    const ctx = testContext(i + 1);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await make(state, planner, ctx).process(testEval(job, { ID: `bench-${i}` }));
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    placed = planner.placed;
  }
  // A benchmark that places nothing measures nothing: say so instead of reporting 0 ms.
  if (placed === 0) throw new Error(`benchmark job ${job.ID} placed no allocations`);
  const sorted = [...times].sort((a, b) => a - b);
  const total = times.reduce((s, t) => s + t, 0);
  const cpuSorted = [...cpu].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), cpuP50: percentile(cpuSorted, 50), p99: percentile(sorted, 99), runs: times.length, placedPerEval: placed, placementsPerS: (placed * times.length * 1000) / total };
}

const generic = (s: SchedulerState, p: Planner, c: SchedulerContext): Scheduler => new GenericScheduler(s, p, c);
const system = (s: SchedulerState, p: Planner, c: SchedulerContext): Scheduler => new SystemScheduler(s, p, c);
const r2 = (x: number): number => Math.round(x * 100) / 100;

export async function runSchedulerBench(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const sizes = QUICK ? [1000] : [1000, 5000, 10_000];
  for (const n of sizes) {
    const state = cluster(b1Nodes(n));
    const label = n >= 1000 ? `${n / 1000}k` : String(n);
    for (const count of [300, 1200]) {
      for (const spread of [false, true]) {
        const t = await timeEvals(state, b1Job(count, spread), generic);
        const key = `b1_${label}_${count}${spread ? '_spread' : ''}`;
        out[`${key}_ms`] = r2(t.p50);
        out[`${key}_cpu_ms`] = r2(t.cpuP50);
        out[`${key}_placed`] = t.placedPerEval;
        process.stderr.write(`    ${key}: p50 ${r2(t.p50)} ms (cpu ${r2(t.cpuP50)} ms), p99 ${r2(t.p99)} ms, ${t.placedPerEval} placed, ${t.runs} runs\n`);
      }
    }
  }

  // The three jobs of the brief on the largest cluster.
  const big = QUICK ? 1000 : 10_000;
  const state = cluster(b1Nodes(big));
  const small = testTask({ Resources: { CPU: 500, Cores: 0, MemoryMB: 512, MemoryMaxMB: 0, DiskMB: 0, Networks: [], Devices: [] } });
  const service = testJob({ ID: 'svc-1000', TaskGroups: [testGroup({ Count: 1000, Tasks: [small] })] });
  const sys = testJob({ ID: 'sys', Type: 'system', TaskGroups: [testGroup({ Name: 'agent', Tasks: [small] })] });
  const constrained = testJob({
    ID: 'constrained',
    Constraints: [
      { LTarget: '${meta.rack}', RTarget: 'r3', Operand: '=' },
      { LTarget: '${attr.kernel.name}', RTarget: 'linux', Operand: '=' },
      { LTarget: '${node.datacenter}', RTarget: 'dc[01]', Operand: 'regexp' },
    ],
    TaskGroups: [testGroup({ Count: 200, Tasks: [small] })],
  });
  for (const [key, job, make] of [
    ['service_1000', service, generic],
    ['system', sys, system],
    ['constrained_200', constrained, generic],
  ] as const) {
    const t = await timeEvals(state, job, make);
    out[`${key}_placements_per_s`] = Math.round(t.placementsPerS);
    out[`${key}_p50_ms`] = r2(t.p50);
    out[`${key}_p99_ms`] = r2(t.p99);
    out[`${key}_cpu_p50_ms`] = r2(t.cpuP50);
    out[`${key}_placed`] = t.placedPerEval;
    process.stderr.write(`    ${key} on ${big} nodes: ${t.placedPerEval} placed, p50 ${r2(t.p50)} ms, p99 ${r2(t.p99)} ms, ${Math.round(t.placementsPerS)} placements/s\n`);
  }
  out['nodes'] = big;
  out['rss_mb'] = Math.round(process.memoryUsage().rss / 2 ** 20);
  return out;
}
