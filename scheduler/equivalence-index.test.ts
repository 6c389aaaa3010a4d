import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Job } from '../structs/job.js';
import { EquivalenceIndex } from './equivalence-index.js';
import { GenericScheduler } from './generic-scheduler.js';
import { testEval, testGroup, testJob, testNode, testTask } from './testing/fixtures.js';
import { MemState, RecordingPlanner, testContext } from './testing/harness.js';

void test('property: each group is represented by its first member, whatever moves between groups', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 40 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 4 })), { maxLength: 60 }), (initial, moves) => {
      const key = [...initial];
      const idx = new EquivalenceIndex(key.length, (pos) => String(key[pos]));
      key.forEach((_, pos) => idx.add(pos));
      for (const [p, k] of moves) {
        const pos = p % key.length;
        key[pos] = k;
        idx.update(pos);
      }
      const seen: Array<[number, number]> = [];
      idx.forEachGroup((rep, size) => seen.push([rep, size]));
      const expected = new Map<number, [number, number]>();
      key.forEach((k, pos) => {
        const e = expected.get(k);
        if (e === undefined) expected.set(k, [pos, 1]);
        else e[1]++;
      });
      assert.deepEqual(
        seen.sort((a, b) => a[0] - b[0]),
        [...expected.values()].sort((a, b) => a[0] - b[0]),
      );
    }),
    { seed: 77, numRuns: 300 },
  );
});

/**
 * Scoring one node per equivalence group must choose exactly what scoring every node would.
 * A constraint on a unique attribute that every node passes turns the grouping off without
 * changing any score, so the two runs must agree placement for placement.
 */
void test('property: spread and affinity placements are the same with and without node grouping', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ cpu: fc.integer({ min: 1, max: 6 }), rack: fc.integer({ min: 0, max: 3 }), dc: fc.integer({ min: 0, max: 1 }) }), { minLength: 1, maxLength: 30 }),
      fc.integer({ min: 0, max: 15 }),
      fc.integer({ min: 1, max: 10 }),
      fc.integer({ min: 1, max: 30 }),
      fc.boolean(),
      fc.boolean(),
      fc.nat(1000),
      async (nodes, preload, first, more, withAffinity, worstFit, seed) => {
        const run = async (grouped: boolean) => {
          const state = new MemState();
          // Worst fit spreads the jobs out, so nodes of equal usage but different owners are common.
          if (worstFit) state.algorithm = 'spread';
          nodes.forEach((n, i) => state.putNode(testNode(`n${i}`, { Meta: { rack: `r${n.rack}` }, Datacenter: `dc${n.dc}` }, n.cpu * 1000, 8192)));
          const ctx = testContext(seed);
          const planner = new RecordingPlanner(state);
          const small = [testTask({ Resources: { CPU: 300, Cores: 0, MemoryMB: 256, MemoryMaxMB: 0, DiskMB: 0, Networks: [], Devices: [] } })];
          const spreadJob = (n: number, modifyIndex: number): Job =>
            testJob({
              ID: 'spread',
              JobModifyIndex: modifyIndex,
              Constraints: grouped ? [] : [{ LTarget: '${node.unique.name}', RTarget: '', Operand: 'is_set' }],
              Spreads: [{ Attribute: '${meta.rack}', Weight: 70, SpreadTarget: [] }],
              Affinities: withAffinity ? [{ LTarget: '${node.datacenter}', RTarget: 'dc1', Operand: '=', Weight: 40 }] : [],
              TaskGroups: [testGroup({ Count: n, Tasks: small })],
            });
          const evaluate = async (job: Job) => {
            state.putJob(job);
            await new GenericScheduler(state, planner, ctx).process(testEval(job, { ID: `e-${job.ID}-${job.JobModifyIndex}` }));
          };
          // Some of the job's allocations exist already; another job holds one allocation on other
          // nodes: the same usage as a node holding one of the job's own, which only the count of
          // the group's allocations tells apart. Then the job scales up.
          await evaluate(spreadJob(first, 10));
          await evaluate(testJob({ ID: 'other', Constraints: [{ LTarget: '', RTarget: '', Operand: 'distinct_hosts' }], TaskGroups: [testGroup({ Count: preload, Tasks: small })] }));
          await evaluate(spreadJob(first + more, 20));
          const failed = planner.evals.at(-1)!.FailedTGAllocs?.['web'];
          return {
            placed: state
              .liveAllocs('spread')
              .map((a) => `${a.Name}@${a.NodeID}:${a.Metrics!.NodesEvaluated}`)
              .sort(),
            failed: failed === undefined ? null : [failed.NodesEvaluated, failed.NodesExhausted, failed.DimensionExhausted],
          };
        };
        assert.deepEqual(await run(true), await run(false));
      },
    ),
    { seed: 78, numRuns: 100 },
  );
});
