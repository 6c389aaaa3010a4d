/**
 * `npm run bench -- <name>`: runs one benchmark (or all) and prints its figures; the LAST line
 * of output is one JSON object with every figure, for machines to read.
 */
import { runClientBench } from './client.js';
import { runDriversBench } from './drivers-bench.js';
import { runHeartbeatsBench } from './heartbeats/index.js';
import { runRaftBench } from './raft/index.js';
import { runSchedulerBench } from './scheduler/index.js';
import { runPlacementBench } from './placement-e2e.js';

const benches: Record<string, () => Promise<Record<string, number>>> = {
  client: runClientBench,
  drivers: runDriversBench,
  heartbeats: runHeartbeatsBench,
  raft: runRaftBench,
  // B1 (scheduler alone) then B2 (end to end through one server).
  scheduler: async () => ({ ...(await runSchedulerBench()), ...(process.env['BENCH_B2'] === '0' ? {} : await runPlacementBench()) }),
  placement: runPlacementBench,
};

async function main(): Promise<number> {
  const names = process.argv.slice(2);
  const chosen = names.length === 0 ? Object.keys(benches) : names;
  const unknown = chosen.filter((n) => !(n in benches));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; available: ${Object.keys(benches).join(', ')}\n`);
    return 2;
  }
  const all: Record<string, number> = {};
  for (const n of chosen) {
    process.stderr.write(`==> ${n}\n`);
    const r = await benches[n]!();
    for (const [k, v] of Object.entries(r)) process.stderr.write(`    ${k} = ${v}\n`);
    Object.assign(all, chosen.length > 1 ? Object.fromEntries(Object.entries(r).map(([k, v]) => [`${n}.${k}`, v])) : r);
  }
  process.stdout.write(`${JSON.stringify(all)}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
