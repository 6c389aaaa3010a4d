/**
 * The Docker engine as the suite uses it: the `docker` CLI on the host, one call per action,
 * so that every step of a scenario is a command a person could type to reproduce it.
 */
import { run, runOk, type RunResult } from './process-run.js';

const DOCKER_TIMEOUT_MS = 90_000;

export function docker(args: readonly string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<RunResult> {
  return runOk('docker', args, { timeoutMs: opts.timeoutMs ?? DOCKER_TIMEOUT_MS, input: opts.input });
}

export function dockerTry(args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
  return run('docker', args, { timeoutMs: opts.timeoutMs ?? DOCKER_TIMEOUT_MS });
}

export async function engineAnswers(): Promise<boolean> {
  return (await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 20_000 })).code === 0;
}

/** `docker inspect` State.Status: created, running, paused, restarting, exited, dead; '' when gone. */
export async function containerState(name: string): Promise<string> {
  const r = await dockerTry(['inspect', '-f', '{{.State.Status}}', name]);
  return r.code === 0 ? r.stdout.trim() : '';
}

/** `docker save IMAGE | docker exec -i CONTAINER docker load`: an image into a DinD engine. */
export async function loadImageInto(container: string, image: string): Promise<void> {
  // A shell pipe: the tarball streams between the two commands without passing through Node.
  await runOk('sh', ['-c', 'docker save "$1" | docker exec -i "$2" docker load', 'load', image, container], { timeoutMs: 120_000 });
}

/** The tail of a container's output (stdout and stderr interleaved as docker logs gives them). */
export async function containerLogTail(name: string, lines: number): Promise<string> {
  const r = await dockerTry(['logs', '--tail', String(lines), name], { timeoutMs: 20_000 });
  return `${r.stdout}${r.stderr}`.trimEnd();
}
