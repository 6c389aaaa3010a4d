/**
 * drivers/docker: the Docker task driver. The client builds it with createDockerDriver and
 * uses it through the Driver interface, plus removeOrphans (after recovering its tasks) and
 * close (on shutdown). Of the project it imports structs/ and drivers/process/signals.ts only.
 */
import { DockerDriver, type DockerDriverOptions } from './docker-driver.js';

export { DockerDriver } from './docker-driver.js';
export type { DockerDriverOptions, DockerTaskState, RemovedOrphan } from './docker-driver.js';
export type { HostCpu } from './container-options.js';

export function createDockerDriver(opts: DockerDriverOptions = {}): DockerDriver {
  return new DockerDriver(opts);
}
