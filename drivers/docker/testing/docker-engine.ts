/**
 * Whether the driver tests can reach a Docker engine. On a developer machine without one
 * they are skipped with the reason; in CI (process.env.CI set) a missing engine fails them,
 * since CI installs and starts dockerd itself (.ci/run).
 */
import { stat } from 'node:fs/promises';
import type { TestContext } from 'node:test';
import Dockerode from 'dockerode';

/** The engine the tests use; YURT_TEST_DOCKER_SOCKET points them at another one. */
export const TEST_SOCKET = process.env['YURT_TEST_DOCKER_SOCKET'] ?? '/var/run/docker.sock';

let probe: Promise<string | null> | null = null;

/** Null when the engine answers, else why not. */
export function engineProblem(socketPath = TEST_SOCKET): Promise<string | null> {
  probe ??= (async () => {
    const st = await stat(socketPath).catch(() => null);
    if (st === null) return `${socketPath} does not exist`;
    try {
      let timer: NodeJS.Timeout | undefined;
      const silent = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no answer in 3 s')), 3000)));
      await Promise.race([new Dockerode({ socketPath }).ping(), silent]).finally(() => clearTimeout(timer));
      return null;
    } catch (e) {
      return `${socketPath} does not answer: ${(e as Error).message}`;
    }
  })();
  return probe;
}

/**
 * True when the test can go on. Otherwise skips it (developer machine) or throws (CI).
 * Use as `if (!(await needDocker(t))) return;`.
 */
export async function needDocker(t: TestContext): Promise<boolean> {
  const problem = await engineProblem();
  if (problem === null) return true;
  if (process.env['CI'] !== undefined && process.env['CI'] !== '') {
    throw new Error(`no docker daemon in CI (${problem}): .ci/run must install and start dockerd`);
  }
  t.skip(`no docker daemon: ${problem}`);
  return false;
}
