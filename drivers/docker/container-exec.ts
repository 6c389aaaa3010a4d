/**
 * `alloc exec` into a docker task: Docker's exec API (POST /containers/:id/exec, then a
 * hijacked /exec/:id/start). Without a TTY the engine multiplexes stdout and stderr on the
 * one connection with 8-byte frame headers; dockerode's demuxStream splits them. With a TTY
 * (`alloc exec -t`) the engine makes the terminal, the stream is the terminal's one raw
 * stream, and resizes go to the exec's resize endpoint. The exit code comes from inspecting
 * the exec once its stream has ended.
 */
import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import type { ExecOptions, ExecResult } from '../driver.js';
import { engineError } from './docker-errors.js';

export async function execInContainer(docker: Dockerode, container: Dockerode.Container, opts: ExecOptions): Promise<ExecResult> {
  let exec: Dockerode.Exec;
  try {
    // The container's environment already is the task's (it was created with it).
    exec = await container.exec({ Cmd: opts.command, AttachStdin: opts.stdin !== null, AttachStdout: true, AttachStderr: true, Tty: opts.tty !== undefined });
  } catch (e) {
    throw engineError(`creating an exec in container ${container.id}`, e);
  }
  let stream: Duplex;
  try {
    stream = await exec.start({ hijack: true, stdin: opts.stdin !== null, Tty: opts.tty !== undefined });
  } catch (e) {
    throw engineError(`starting an exec in container ${container.id}`, e);
  }
  const onAbort = () => stream.destroy();
  opts.signal?.addEventListener('abort', onAbort);
  const tty = opts.tty;
  if (tty === undefined) {
    docker.modem.demuxStream(stream, opts.stdout, opts.stderr);
  } else {
    stream.pipe(opts.stdout, { end: false });
    const resize = (h: number, w: number) => void exec.resize({ h, w }).catch(() => undefined);
    resize(tty.rows, tty.cols);
    tty.onResize(resize);
  }
  if (opts.stdin !== null) {
    stream.on('error', () => undefined);
    // pipe() ends the connection's write side when stdin ends: the engine then closes the command's stdin.
    opts.stdin.pipe(stream);
  }
  try {
    await new Promise<void>((resolve) => {
      stream.once('end', () => resolve());
      stream.once('close', () => resolve());
      stream.once('error', () => resolve());
    });
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    if (opts.stdin !== null) opts.stdin.unpipe(stream);
  }
  try {
    // The stream can end a moment before the engine records the exit code.
    for (let i = 0; i < 50; i++) {
      const info = await exec.inspect();
      if (!info.Running && info.ExitCode !== null) return { exitCode: info.ExitCode };
      await new Promise((r) => setTimeout(r, 20));
    }
    return { exitCode: -1 };
  } catch (e) {
    throw engineError(`inspecting an exec in container ${container.id}`, e);
  }
}
