/**
 * One agent per data directory. LMDB lets several processes open the same files, so two
 * agents started on one data dir (a unit restarted while the old process still shuts down,
 * a copy-pasted command) would both run Raft as the same server over the same log — which
 * breaks Raft's safety. The lock file holds the owner's pid; a lock whose process is gone is
 * taken over.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { YurtError } from '../structs/errors.js';

const LOCK_FILE = 'agent.lock';

export class DataDirLock {
  private constructor(private readonly path: string) {}

  static async acquire(dataDir: string): Promise<DataDirLock> {
    const path = join(dataDir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fh = await open(path, 'wx', 0o600);
        await fh.writeFile(`${process.pid}\n`);
        await fh.close();
        return new DataDirLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner) && (await looksLikeAgent(owner))) {
        throw new YurtError('conflict', `data dir ${dataDir} is in use by another yurt agent (pid ${owner}); stop it first, or give this agent its own -data-dir`);
      }
      // Left behind by a process that is gone (crash, kill -9): take it over.
      await rm(path, { force: true });
    }
    throw new YurtError('conflict', `could not lock data dir ${dataDir}`);
  }

  async release(): Promise<void> {
    await rm(this.path, { force: true });
  }
}

/** After a container restart the pid may belong to something else now (dockerd, a shell). */
async function looksLikeAgent(pid: number): Promise<boolean> {
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return /yurt|node/.test(cmdline);
  } catch {
    return true; // No /proc: trust the pid.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
