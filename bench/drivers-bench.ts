/**
 * Driver start latency: for a trivial task, the time from `start()` to running (each driver's
 * start resolves once the task runs) and from `start()` to its exit, median of N, per driver.
 * The reference is `docker run --rm` of the same image through the docker CLI, measured in
 * the same run.
 */
import { execFile } from 'node:child_process';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import type { Driver, TaskConfig } from '../drivers/driver.js';
import { createDockerDriver } from '../drivers/docker/index.js';
import { importBusyboxImage, removeImages } from '../drivers/docker/testing/busybox-image.js';
import { dockerTaskFixture } from '../drivers/docker/testing/docker-task-fixture.js';
import { ExecDriver } from '../drivers/exec/exec-driver.js';
import { taskFixture } from '../drivers/process/task-config-fixture.js';
import { createWasiDriver, type WasiDriver } from '../drivers/wasi/index.js';

const run = promisify(execFile);
const N = Number(process.env['BENCH_N'] ?? 50);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const round = (x: number): number => Math.round(x * 100) / 100;

interface Sample {
  startMs: number;
  exitMs: number;
}

async function timeTask(driver: Driver, cfg: TaskConfig): Promise<Sample> {
  const t0 = performance.now();
  await driver.start(cfg);
  const t1 = performance.now();
  const exit = await driver.wait(cfg.id);
  const t2 = performance.now();
  await driver.destroy(cfg.id);
  if (exit.exitCode !== 0) throw new Error(`${driver.name} task exited ${exit.exitCode}`);
  return { startMs: t1 - t0, exitMs: t2 - t0 };
}

async function benchExec(): Promise<Sample[]> {
  const driver = new ExecDriver({});
  const fp = await driver.fingerprint();
  if (!fp.detected) throw new Error(`exec driver unavailable: ${fp.healthDescription}`);
  const out: Sample[] = [];
  for (let i = 0; i < N; i++) {
    const f = await taskFixture({ driver: 'exec', config: { command: '/bin/true' } });
    out.push(await timeTask(driver, f.cfg));
    await f.cleanup();
  }
  return out;
}

async function benchWasi(): Promise<{ cold: Sample[]; cached: Sample[]; burst: Sample[] }> {
  const module = join(import.meta.dirname, '..', 'drivers', 'wasi', 'testdata', 'probe.wasm');
  const one = async (driver: Driver): Promise<Sample> => {
    const f = await taskFixture({ driver: 'wasi', config: { module: 'probe.wasm', args: [] } });
    await copyFile(module, join(f.dir, 'probe.wasm'));
    const s = await timeTask(driver, f.cfg);
    await f.cleanup();
    return s;
  };
  const cold: Sample[] = [];
  // Cold: a fresh driver each time (no warm runner, nothing compiled).
  for (let i = 0; i < Math.min(N, 15); i++) {
    const d = createWasiDriver({ warmRunners: 0 }) as WasiDriver;
    cold.push(await one(d));
    await d.close();
  }
  const warm = createWasiDriver({}) as WasiDriver;
  await one(warm);
  // Cached: the module is compiled in a warm runner. Starts are spaced so the pool (2 runners)
  // refills between them, as on a node that is not starting dozens of wasm tasks per second.
  const cached: Sample[] = [];
  for (let i = 0; i < N; i++) {
    await new Promise((r) => setTimeout(r, 250));
    cached.push(await one(warm));
  }
  // Back to back, the pool empties and each start waits for a new runner process.
  const burst: Sample[] = [];
  for (let i = 0; i < Math.min(N, 15); i++) burst.push(await one(warm));
  await warm.close();
  return { cold, cached, burst };
}

async function benchDocker(image: string): Promise<{ driver: Sample[]; cliMs: number[] }> {
  const driver = createDockerDriver({});
  const samples: Sample[] = [];
  const cliMs: number[] = [];
  for (let i = 0; i < N; i++) {
    const f = await dockerTaskFixture({ config: { image, command: '/bin/true', network_mode: 'none' } });
    samples.push(await timeTask(driver, f.cfg));
    await f.cleanup();
    const t0 = performance.now();
    await run('docker', ['run', '--rm', '--network', 'none', image, '/bin/true']);
    cliMs.push(performance.now() - t0);
  }
  await (driver as { close?: () => Promise<void> }).close?.();
  return { driver: samples, cliMs };
}

export async function runDriversBench(): Promise<Record<string, number>> {
  const exec = await benchExec();
  const wasi = await benchWasi();
  const docker = new Dockerode();
  const image = `yurt-bench-busybox:${process.pid}`;
  await importBusyboxImage(docker, image);
  let dockerRes: { driver: Sample[]; cliMs: number[] };
  try {
    dockerRes = await benchDocker(image);
  } finally {
    await removeImages(docker, [image]);
  }
  return {
    runs: N,
    exec_start_p50_ms: round(median(exec.map((s) => s.startMs))),
    exec_run_to_exit_p50_ms: round(median(exec.map((s) => s.exitMs))),
    wasi_cold_p50_ms: round(median(wasi.cold.map((s) => s.startMs))),
    wasi_cached_p50_ms: round(median(wasi.cached.map((s) => s.startMs))),
    wasi_cached_run_to_exit_p50_ms: round(median(wasi.cached.map((s) => s.exitMs))),
    wasi_back_to_back_p50_ms: round(median(wasi.burst.map((s) => s.startMs))),
    docker_start_p50_ms: round(median(dockerRes.driver.map((s) => s.startMs))),
    docker_run_to_exit_p50_ms: round(median(dockerRes.driver.map((s) => s.exitMs))),
    docker_cli_p50_ms: round(median(dockerRes.cliMs)),
  };
}
