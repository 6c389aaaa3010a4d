/**
 * The drivers built into the client. Every built-in is returned whether or not it works on
 * this host: the client fingerprints each one (and keys them by `driver.name`); only
 * detected, healthy drivers are offered to the scheduler.
 */
import type { Driver } from './driver.js';
import { createDockerDriver, type DockerDriverOptions } from './docker/index.js';
import { ExecDriver, type ExecDriverOptions } from './exec/exec-driver.js';
import type { SupervisedDriverOptions } from './process/supervised-driver.js';
import { RawExecDriver } from './raw-exec/raw-exec-driver.js';
import { createWasiDriver, type WasiDriverOptions } from './wasi/index.js';

export interface BuiltinDriverOptions {
  /** raw_exec is off unless enabled (Nomad's default; the dev-mode client enables it). */
  rawExecEnabled?: boolean;
  exec?: ExecDriverOptions;
  /** Supervision settings shared by raw_exec and exec (recovery poll interval, kill grace). */
  supervision?: SupervisedDriverOptions;
  docker?: DockerDriverOptions;
  wasi?: WasiDriverOptions;
}

export function builtinDrivers(opts: BuiltinDriverOptions = {}): Driver[] {
  return [
    new RawExecDriver({ ...opts.supervision, enabled: opts.rawExecEnabled ?? false }),
    new ExecDriver({ ...opts.supervision, ...opts.exec }),
    createDockerDriver(opts.docker),
    createWasiDriver(opts.wasi),
  ];
}

/** The driver called `name`, if built in. */
export function builtinDriver(drivers: Driver[], name: string): Driver | undefined {
  return drivers.find((d) => d.name === name);
}

/** Let go of a driver's background resources (engine connections, warm runners) without stopping tasks. */
export async function closeDriver(d: Driver): Promise<void> {
  const closable = d as Driver & { close?: () => Promise<void> };
  if (typeof closable.close === 'function') await closable.close();
}
