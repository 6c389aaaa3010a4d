/**
 * The wasi task driver: WebAssembly (WASI preview 1) modules as tasks. See README.md.
 * The client builds it with `createWasiDriver(opts)` and talks to it through `Driver`.
 */
import type { Driver } from '../driver.js';
import { WasiDriver, type WasiDriverOptions } from './wasi-driver.js';

export { WasiDriver, type WasiCacheStats, type WasiDriverOptions } from './wasi-driver.js';
export { validateWasiConfig, type WasiTaskConfig } from './wasi-config.js';

export function createWasiDriver(opts: WasiDriverOptions = {}): Driver {
  return new WasiDriver(opts);
}
