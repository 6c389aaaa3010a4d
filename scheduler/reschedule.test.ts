import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GenericScheduler } from './generic-scheduler.js';
import { nextDelay } from './reschedule.js';
import { MemState, RecordingPlanner, testContext } from './testing/harness.js';
import { testEval, testGroup, testJob, testNode } from './testing/fixtures.js';
import type { Allocation } from '../structs/alloc.js';
import type { Job, ReschedulePolicy } from '../structs/job.js';

const S = 1e9;
const ctx = testContext(11);
const NOW = ctx.now();

function failNow(state: MemState, a: Allocation): Allocation {
  const failed: Allocation = {
    ...a,
    ClientStatus: 'failed',
    TaskStates: { web: { State: 'dead', Failed: true, Restarts: 0, LastRestart: null, StartedAt: null, FinishedAt: new Date(NOW / 1e6).toISOString(), Events: [] } },
  };
  state.putAlloc(failed);
  return failed;
}

function setup(policy?: ReschedulePolicy, type: Job['Type'] = 'service') {
  const state = new MemState();
  state.putNode(testNode('a'));
  state.putNode(testNode('b'));
  const job = testJob({ ID: 'r', Type: type, TaskGroups: [testGroup(policy ? { ReschedulePolicy: policy } : {})] });
  state.putJob(job);
  return { state, planner: new RecordingPlanner(state), job };
}

async function run(state: MemState, planner: RecordingPlanner, job: Job, id: string) {
  await new GenericScheduler(state, planner, ctx).process(testEval(job, { ID: id }));
  return planner.evals.at(-1)!;
}

void test('a failed service allocation waits for its delay: a follow-up eval is created and the alloc points at it', async () => {
  const { state, planner, job } = setup();
  await run(state, planner, job, 'e1');
  const first = failNow(state, state.liveAllocs('r')[0]!);
  await run(state, planner, job, 'e2');
  assert.equal(state.liveAllocs('r').length, 0, 'not replaced before the 30 s default delay');
  const follow = planner.created.find((e) => e.TriggeredBy === 'alloc-failure')!;
  assert.ok(follow);
  assert.equal(follow.WaitUntil, NOW + 30 * S);
  assert.equal(follow.Status, 'pending');
  assert.equal(state.allocMap.get(first.ID)!.FollowupEvalID, follow.ID);

  // Another evaluation in between does not create a second follow-up.
  await run(state, planner, job, 'e3');
  assert.equal(planner.created.filter((e) => e.TriggeredBy === 'alloc-failure').length, 1);

  await run(state, planner, job, follow.ID);
  const [next] = state.liveAllocs('r');
  assert.ok(next);
  assert.equal(next.PreviousAllocation, first.ID);
  assert.notEqual(next.NodeID, first.NodeID, 'the node it failed on is penalized');
  assert.deepEqual(next.RescheduleTracker?.Events, [{ RescheduleTime: NOW, PrevAllocID: first.ID, PrevNodeID: first.NodeID, Delay: 30 * S }]);
  assert.equal(next.Metrics!.ScoreMetaData.find((m) => m.NodeID === first.NodeID)?.Scores['node-reschedule-penalty'], -1);
  const old = state.allocMap.get(first.ID)!;
  assert.equal(old.DesiredStatus, 'stop');
  assert.equal(old.DesiredDescription, 'alloc was rescheduled because it failed');
});

void test('a zero delay reschedules at once; attempts used up within the interval leave the failure alone', async () => {
  const policy: ReschedulePolicy = { Attempts: 1, Interval: 3600 * S, Delay: 0, DelayFunction: 'constant', MaxDelay: 0, Unlimited: false };
  const { state, planner, job } = setup(policy, 'batch');
  await run(state, planner, job, 'b1');
  failNow(state, state.liveAllocs('r')[0]!);
  await run(state, planner, job, 'b2');
  const second = state.liveAllocs('r')[0]!;
  assert.equal(second.RescheduleTracker?.Events.length, 1);
  failNow(state, second);
  await run(state, planner, job, 'b3');
  assert.equal(state.liveAllocs('r').length, 0, 'one attempt per hour: no second reschedule');
  assert.equal(planner.created.filter((e) => e.TriggeredBy === 'alloc-failure').length, 0);
  assert.equal(state.allocMap.get(second.ID)!.DesiredStatus, 'run', 'the failed allocation stays as it is');
});

void test('delay functions: exponential doubles up to max_delay, fibonacci adds the last two, constant stays', () => {
  const base = { Attempts: 0, Interval: 0, Delay: 5 * S, MaxDelay: 60 * S, Unlimited: true };
  const withEvents = (delays: number[], at = NOW - 1000 * S) =>
    ({ RescheduleTracker: { Events: delays.map((Delay, i) => ({ RescheduleTime: at + i, PrevAllocID: '', PrevNodeID: '', Delay })) } }) as unknown as Allocation;
  const exp: ReschedulePolicy = { ...base, DelayFunction: 'exponential' };
  assert.equal(nextDelay(withEvents([]), exp, NOW), 5 * S);
  assert.equal(nextDelay(withEvents([5 * S, 10 * S], NOW - S), exp, NOW), 20 * S);
  assert.equal(nextDelay(withEvents([40 * S], NOW - S), exp, NOW), 60 * S, 'capped at max_delay');
  assert.equal(nextDelay(withEvents([40 * S], NOW - 1000 * S), exp, NOW), 5 * S, 'ran longer than the cap: starts over');
  const fib: ReschedulePolicy = { ...base, DelayFunction: 'fibonacci' };
  assert.equal(nextDelay(withEvents([5 * S, 5 * S, 10 * S], NOW - S), fib, NOW), 15 * S);
  const constant: ReschedulePolicy = { ...base, DelayFunction: 'constant' };
  assert.equal(nextDelay(withEvents([5 * S, 5 * S], NOW - S), constant, NOW), 5 * S);
});
