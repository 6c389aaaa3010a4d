// Plays an agent that starts a task and then dies: prints the task handle and exits without
// stopping anything. argv[2]: the TaskConfig as JSON; argv[3]: the driver name.
import type { TaskConfig } from '../../driver.js';
import { builtinDriver, builtinDrivers } from '../../registry.js';

const cfg = JSON.parse(process.argv[2] ?? '{}') as TaskConfig;
const driver = builtinDriver(builtinDrivers({ rawExecEnabled: true }), process.argv[3] ?? 'raw_exec');
if (driver === undefined) throw new Error('no such driver');
const handle = await driver.start(cfg);
process.stdout.write(`${JSON.stringify(handle)}\n`, () => process.exit(0));
