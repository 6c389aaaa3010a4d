/**
 * Runs the deterministic simulator over many seeds. Each seed is a different cluster size,
 * fault profile and schedule; the invariants are checked after every event.
 *
 *   RAFT_SIM_SEEDS=5000 npm test -- consensus/sim     more seeds (default 300)
 *   RAFT_SIM_SEED=1234 npm test -- consensus/sim      replay one seed, printing its trace
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SimResult } from './simulator.js';
import { Simulator } from './simulator.js';

const replay = process.env['RAFT_SIM_SEED'];
const seeds = Number(process.env['RAFT_SIM_SEEDS'] ?? 300);

function runSeed(seed: number, trace: string[]): SimResult {
  return new Simulator({ seed, trace: (l) => trace.push(l) }).run();
}

void describe('deterministic simulation', () => {
  if (replay !== undefined) {
    void it(`replays seed ${replay}`, () => {
      const trace: string[] = [];
      try {
        const r = runSeed(Number(replay), trace);
        process.stdout.write(`${trace.join('\n')}\n${JSON.stringify(r)}\n`);
      } catch (e) {
        process.stdout.write(`${trace.join('\n')}\n`);
        throw e;
      }
    });
    return;
  }

  void it(`${seeds} seeds: Election Safety, Log Matching, Leader Completeness, State Machine Safety, linearizable reads, liveness after healing`, () => {
    const total = { elections: 0, acknowledgedWrites: 0, servedReads: 0, snapshotsSent: 0, configChanges: 0, crashes: 0, events: 0 };
    for (let seed = 1; seed <= seeds; seed++) {
      const trace: string[] = [];
      let r: SimResult;
      try {
        r = runSeed(seed, trace);
      } catch (e) {
        const tail = trace.slice(-25).join('\n  ');
        throw new Error(
          `seed ${seed} failed: ${(e as Error).message}\n  last events:\n  ${tail}\n  replay: RAFT_SIM_SEED=${seed} npm test -- consensus/sim`,
          { cause: e },
        );
      }
      for (const k of Object.keys(total) as Array<keyof typeof total>) total[k] += r[k];
    }
    // The runs must actually exercise what they claim to check.
    assert.ok(total.elections > seeds * 2, `elections: ${total.elections}`);
    assert.ok(total.crashes > seeds, `crashes: ${total.crashes}`);
    assert.ok(total.acknowledgedWrites > seeds * 10, `acknowledged writes: ${total.acknowledgedWrites}`);
    assert.ok(total.servedReads > seeds * 10, `served reads: ${total.servedReads}`);
    assert.ok(total.snapshotsSent > seeds / 2, `snapshots sent: ${total.snapshotsSent}`);
    assert.ok(total.configChanges > seeds / 2, `membership changes: ${total.configChanges}`);
  });

  void it('is deterministic: a seed replays exactly', () => {
    const a: string[] = [];
    const b: string[] = [];
    assert.deepEqual(runSeed(42, a), runSeed(42, b));
    assert.deepEqual(a, b);
    assert.ok(a.length > 5);
  });
});
