/**
 * Copies a container's output into the task's stdout/stderr files, as the process drivers
 * write them (appending, so a restarted task continues the same files).
 *
 * Reads the engine's log API (`follow`) rather than attaching: the engine keeps the whole
 * output in its own log, so following from the start after `start` loses nothing, and a
 * recovered task can be followed from "now" after an agent restart. Without a TTY the
 * engine multiplexes both streams into frames: an 8-byte header (stream byte: 1 stdout,
 * 2 stderr; 3 zero bytes; big-endian payload length) followed by the payload.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type Dockerode from 'dockerode';

const HEADER_BYTES = 8;

/** Splits the engine's multiplexed log stream; keeps partial frames across chunks. */
export class LogDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly emit: (stream: 'stdout' | 'stderr', payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= HEADER_BYTES) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER_BYTES + size) break;
      const kind = this.pending[0];
      const payload = this.pending.subarray(HEADER_BYTES, HEADER_BYTES + size);
      // 0 (stdin echo) does not occur without a TTY; treat anything unknown as stdout.
      this.emit(kind === 2 ? 'stderr' : 'stdout', payload);
      this.pending = this.pending.subarray(HEADER_BYTES + size);
    }
  }
}

export class LogFollower {
  /** Resolves once the engine ended the stream (the container stopped) and the files are flushed. */
  readonly done: Promise<void>;
  private stream: (NodeJS.ReadableStream & { destroy?: () => void }) | null = null;

  private constructor(done: Promise<void>) {
    this.done = done;
  }

  /**
   * Follow `container`'s output into the two files. `sinceSec` (Unix seconds, fractional)
   * skips what was logged before; null copies everything from the container's start.
   */
  static async start(
    container: Dockerode.Container,
    stdoutPath: string,
    stderrPath: string,
    sinceSec: number | null,
  ): Promise<LogFollower> {
    await Promise.all([mkdir(dirname(stdoutPath), { recursive: true }), mkdir(dirname(stderrPath), { recursive: true })]);
    const out = createWriteStream(stdoutPath, { flags: 'a' });
    const err = createWriteStream(stderrPath, { flags: 'a' });
    let stream: NodeJS.ReadableStream;
    try {
      stream = await container.logs({
        follow: true,
        stdout: true,
        stderr: true,
        ...(sinceSec === null ? {} : { since: sinceSec.toFixed(6) }),
      });
    } catch (e) {
      out.end();
      err.end();
      throw e;
    }
    const demux = new LogDemuxer((kind, payload) => (kind === 'stderr' ? err : out).write(payload));
    const done = new Promise<void>((resolve) => {
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        let open = 2;
        const closed = () => {
          if (--open === 0) resolve();
        };
        out.end(closed);
        err.end(closed);
      };
      stream.on('data', (c: Buffer) => demux.push(c));
      stream.on('end', finish);
      stream.on('close', finish);
      // A broken connection to the engine ends the copy; what was written stays written.
      stream.on('error', finish);
    });
    const f = new LogFollower(done);
    f.stream = stream;
    return f;
  }

  /** Stop copying (the driver lets go of the task); the files are flushed and closed. */
  async stop(): Promise<void> {
    this.stream?.destroy?.();
    await this.done;
  }
}
