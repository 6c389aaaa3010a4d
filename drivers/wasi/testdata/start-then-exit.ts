// Plays an agent that starts a wasi task and then dies: prints the task handle and exits
// without stopping anything. argv[2]: the TaskConfig as JSON; argv[3]: the cache dir.
import type { TaskConfig } from '../../driver.js';
import { createWasiDriver } from '../index.js';

const cfg = JSON.parse(process.argv[2] ?? '{}') as TaskConfig;
const driver = createWasiDriver({ cacheDir: process.argv[3], warmRunners: 0 });
const handle = await driver.start(cfg);
process.stdout.write(`${JSON.stringify(handle)}\n`, () => process.exit(0));
