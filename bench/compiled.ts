/**
 * Benchmarks measure what operators run: the agent ships as compiled JavaScript (dist/, loaded
 * by bin/yurt.js), not through the tsx loader the benchmarks themselves start under. The tsx
 * loader costs memory (some 25 MB of RSS) and time (B2 placed 7–10% fewer allocations per
 * second through it, in runs alternated with compiled ones). An entry point is compiled here
 * with esbuild (tsx's own compiler): the project's code bundled into one file, the packages
 * left external to load from node_modules as usual.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Compiles `bench/<name>.ts` and returns the path of the JavaScript to run. */
export async function compiledEntry(name: string): Promise<string> {
  const out = `${ROOT}node_modules/.cache/yurt-bench/${name}.mjs`;
  await promisify(execFile)(`${ROOT}node_modules/.bin/esbuild`, [
    `${ROOT}bench/${name}.ts`,
    '--bundle',
    '--platform=node',
    '--format=esm',
    '--target=node20',
    '--packages=external',
    `--outfile=${out}`,
  ]);
  return out;
}
