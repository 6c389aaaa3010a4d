// Measures what a wasi task start costs, for README.md: a fresh runner process, a worker
// thread (the alternative not taken), and starts from the warm pool with the module
// compiled ahead ("primed") or not, for a small and a large generated module.
//   node --import tsx drivers/wasi/testdata/start-latency.ts [path/to/runner.js]
// With a runner.js argument (from `npm run build`), runners start without tsx, as in production.
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { taskFixture } from '../../process/task-config-fixture.js';
import { encodeName, encodeUleb } from '../wasm-sections.js';
import { WasiDriver, type WasiDriverOptions } from '../wasi-driver.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A WASI command with `n` functions of ~`k` instructions each (never called): big to compile. */
function bigModule(n: number, k: number): Uint8Array {
  const section = (id: number, body: number[]) => [id, ...encodeUleb(body.length), ...body];
  const vec = (items: number[][]) => [...encodeUleb(items.length), ...items.flat()];
  const types = vec([[0x60, 0, 0], [0x60, 1, 0x7f, 1, 0x7f]]);
  const funcs = vec([[0], ...Array.from({ length: n }, () => [1])]);
  const memory = vec([[0x00, 1]]);
  const exports = vec([[...encodeName('memory'), 2, 0], [...encodeName('_start'), 0, 0]]);
  const body: number[] = [];
  for (let i = 0; i < k; i++) body.push(0x20, 0, 0x41, ...encodeUleb(i & 0x3f), 0x6a, 0x21, 0);
  body.push(0x20, 0, 0x0b);
  const fn = [0, ...body];
  const code = vec([[...encodeUleb(2), 0, 0x0b], ...Array.from({ length: n }, () => [...encodeUleb(fn.length), ...fn])]);
  return Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...section(1, types), ...section(3, funcs), ...section(5, memory), ...section(7, exports), ...section(10, code)]);
}

async function workerStart(module: string): Promise<number> {
  const src = `
    const { WASI } = require('node:wasi'); const { readFileSync } = require('node:fs');
    const { workerData, parentPort } = require('node:worker_threads');
    const wasi = new WASI({ version: 'preview1', args: [], env: {}, returnOnExit: true });
    const m = new WebAssembly.Module(readFileSync(workerData));
    const inst = new WebAssembly.Instance(m, wasi.getImportObject());
    parentPort.postMessage('started'); wasi.start(inst);`;
  const t0 = performance.now();
  const w = new Worker(src, { eval: true, workerData: module });
  await new Promise((r) => w.once('message', r));
  const ms = performance.now() - t0;
  await w.terminate();
  return ms;
}

async function starts(opts: WasiDriverOptions, module: string | ((i: number) => Promise<string>), runs: number, pauseMs: number) {
  const dir = await mkdtemp(join(tmpdir(), 'yurt-wasi-bench-'));
  const d = new WasiDriver({ ...opts, cacheDir: join(dir, 'cache') });
  await d.fingerprint();
  await sleep(1500);
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const f = await taskFixture({ driver: 'wasi', config: { module: 'm.wasm', args: ['exit', '0'] } });
    await copyFile(typeof module === 'string' ? module : await module(i), join(f.dir, 'm.wasm'));
    const t0 = performance.now();
    await d.start(f.cfg);
    ms.push(performance.now() - t0);
    await d.wait(f.cfg.id);
    await f.cleanup();
    await sleep(pauseMs);
  }
  const stats = d.cacheStats();
  await d.close();
  await rm(dir, { recursive: true, force: true });
  return { median: median(ms).toFixed(1), min: Math.min(...ms).toFixed(1), max: Math.max(...ms).toFixed(1), ...stats };
}

const runnerJs = process.argv[2];
const command = runnerJs === undefined ? undefined : { execPath: process.execPath, args: ['--no-warnings', runnerJs], script: runnerJs };
const probe = new URL('./probe.wasm', import.meta.url).pathname;
const bigPath = join(tmpdir(), 'yurt-wasi-bench-big.wasm');
const big = bigModule(20_000, 40);
await writeFile(bigPath, big);
console.log(`runner: ${runnerJs ?? 'runner.ts through tsx'}; big module ${(big.length / 1e6).toFixed(1)} MB`);

const w: number[] = [];
for (let i = 0; i < 10; i++) w.push(await workerStart(probe));
console.log(`worker_thread per task (probe.wasm): median ${median(w).toFixed(1)} ms`);
console.log('fresh process per task (warmRunners 0), probe.wasm:', await starts({ warmRunners: 0, runnerCommand: command }, probe, 10, 100));
console.log('warm pool, probe.wasm:', await starts({ warmRunners: 2, runnerCommand: command }, probe, 20, 400));
console.log('fresh process per task, big module:', await starts({ warmRunners: 0, runnerCommand: command }, bigPath, 6, 100));
console.log('warm pool, big module:', await starts({ warmRunners: 2, runnerCommand: command }, bigPath, 10, 800));
// A custom section with a counter makes each start a module never seen before (a compile miss).
const variantPath = join(tmpdir(), 'yurt-wasi-bench-variant.wasm');
const variant = async (i: number) => {
  const p = variantPath;
  const custom = [...encodeName('v'), i & 0xff, (i >> 8) & 0xff, 0, 0];
  await writeFile(p, Uint8Array.from([...big, 0, ...encodeUleb(custom.length), ...custom]));
  return p;
};
console.log('warm pool, big module never seen before:', await starts({ warmRunners: 2, runnerCommand: command }, variant, 6, 800));
const c: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  await (globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<unknown> } }).WebAssembly.compile(big);
  c.push(performance.now() - t0);
}
console.log(`in-process WebAssembly.compile of the big module: median ${median(c).toFixed(1)} ms`);
await rm(bigPath, { force: true });
await rm(variantPath, { force: true });
