/**
 * Task log rotation per the task's `logs { max_files, max_file_size }` (Nomad's LogConfig).
 *
 * Copy-truncate, not rename: every driver (the process supervisor, the docker log follower,
 * the wasi runner) opens `<task>.<stream>.0` once in append mode and writes to that descriptor
 * until the task exits; none reopens on a signal. A renamed file would keep receiving the
 * output. So when `.0` grows past max_file_size its content is copied to the next archive
 * index and `.0` is truncated in place; O_APPEND writers then continue at offset 0.
 *
 * Layout: `.0` is always the live file; archives are `.1`, `.2`, ... in the order written
 * (higher = newer), and only the newest `max_files - 1` archives are kept, so the files on disk
 * never exceed max_files. Reading a task's whole log: archives by ascending index, then `.0`.
 * The price of copy-truncate: output written between the last read and the truncate can be
 * lost. Bytes that arrive during the (asynchronous) copy are appended to the archive first,
 * and that final read and the truncate run synchronously, back to back, so the window is
 * microseconds: with asynchronous calls it was an event-loop turn or more, and a loaded host
 * lost whole lines of output in it.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { copyFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogConfig } from '../../structs/job.js';

const MiB = 1024 * 1024;

export interface RotatedLog {
  logsDir: string;
  /** File name prefix: `<task>.<stream>`. */
  base: string;
  config: LogConfig;
}

/** Archive indexes present for `base`, ascending (the live `.0` excluded). */
export async function archiveIndexes(logsDir: string, base: string): Promise<number[]> {
  const names = await readdir(logsDir).catch(() => [] as string[]);
  const out: number[] = [];
  for (const n of names) {
    if (!n.startsWith(`${base}.`)) continue;
    const rest = n.slice(base.length + 1);
    if (!/^\d+$/.test(rest)) continue;
    const i = Number(rest);
    if (i > 0) out.push(i);
  }
  return out.sort((a, b) => a - b);
}

/** Rotates `<base>.0` when it is over the limit; true when it did. */
export async function rotateIfNeeded(log: RotatedLog): Promise<boolean> {
  const live = join(log.logsDir, `${log.base}.0`);
  const limit = Math.max(1, log.config.MaxFileSizeMB) * MiB;
  const size = await stat(live).then(
    (s) => s.size,
    () => 0,
  );
  if (size <= limit) return false;
  const existing = await archiveIndexes(log.logsDir, log.base);
  const next = (existing.at(-1) ?? 0) + 1;
  const archive = join(log.logsDir, `${log.base}.${next}`);
  await copyFile(live, archive);
  appendTailAndTruncate(live, archive, size);
  const keep = Math.max(0, log.config.MaxFiles - 1);
  const all = [...existing, next];
  await Promise.all(all.slice(0, Math.max(0, all.length - keep)).map((i) => rm(join(log.logsDir, `${log.base}.${i}`), { force: true })));
  return true;
}

/**
 * Output written while the copy ran goes to the archive too, then the live file is emptied:
 * synchronously, so nothing runs in between (see the header).
 */
function appendTailAndTruncate(live: string, archive: string, copiedAtLeast: number): void {
  const src = openSync(live, 'r+');
  const dst = openSync(archive, 'a');
  try {
    const copied = fstatSync(dst).size;
    const now = fstatSync(src).size;
    if (now > copied && copied >= copiedAtLeast) {
      const buf = Buffer.alloc(now - copied);
      const bytesRead = readSync(src, buf, 0, buf.length, copied);
      writeSync(dst, buf, 0, bytesRead);
    }
    ftruncateSync(src, 0);
  } finally {
    closeSync(src);
    closeSync(dst);
  }
}

/** Checks a set of task logs on an interval (an allocation's, while it runs). */
export class LogRotator {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly logs: RotatedLog[],
    private readonly onError: (err: unknown, log: RotatedLog) => void,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.checkNow());
    }, this.intervalMs);
    this.timer.unref();
  }

  async checkNow(): Promise<void> {
    for (const log of this.logs) await rotateIfNeeded(log).catch((err: unknown) => this.onError(err, log));
  }

  /** Stops checking; a last check runs so a task's final burst is rotated too. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    await this.checkNow();
  }
}
