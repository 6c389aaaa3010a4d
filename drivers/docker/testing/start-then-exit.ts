/**
 * A stand-in for an agent that starts one docker task and dies: prints the task handle as
 * JSON on stdout and exits, leaving the container running with nobody following it.
 * argv: <TaskConfig JSON> <DockerDriverOptions JSON> [text to see in the task's stdout first]
 */
import { readFile } from 'node:fs/promises';
import type { TaskConfig } from '../../driver.js';
import { createDockerDriver, type DockerDriverOptions } from '../index.js';

const [cfgJson = '', optsJson = '{}', waitFor = ''] = process.argv.slice(2);
const cfg = JSON.parse(cfgJson) as TaskConfig;
const driver = createDockerDriver(JSON.parse(optsJson) as DockerDriverOptions);
const handle = await driver.start(cfg);
const deadline = Date.now() + 10_000;
while (waitFor !== '' && !(await readFile(cfg.stdoutPath, 'utf8').catch(() => '')).includes(waitFor)) {
  if (Date.now() > deadline) throw new Error(`task never printed ${JSON.stringify(waitFor)}`);
  await new Promise((r) => setTimeout(r, 20));
}
process.stdout.write(JSON.stringify(handle), () => process.exit(0));
