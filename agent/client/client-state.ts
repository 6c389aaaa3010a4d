/**
 * The client's own state, in LMDB under its data dir: for every allocation it runs, the
 * allocation as last received, each task's state and each running task's driver handle. After
 * an agent restart (or crash) the client reattaches to its tasks from here, before it even
 * reaches a server, so running work is neither lost nor started twice.
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import { mkdirSync } from 'node:fs';
import type { Allocation, TaskState } from '../../structs/alloc.js';
import type { TaskHandle } from '../../drivers/driver.js';
import { YurtError } from '../../structs/errors.js';

export interface LocalAllocState {
  alloc: Allocation;
  taskStates: Record<string, TaskState>;
  /** Handles of tasks started and not yet known to have exited. */
  handles: Record<string, TaskHandle>;
}

export class ClientStateDB {
  private closed = false;

  private constructor(
    private readonly env: RootDatabase,
    private readonly allocs: Database<LocalAllocState, string>,
  ) {}

  static open(dir: string): ClientStateDB {
    mkdirSync(dir, { recursive: true });
    const env = open({ path: dir, maxDbs: 4 });
    return new ClientStateDB(env, env.openDB({ name: 'allocs' }));
  }

  all(): LocalAllocState[] {
    return [...this.allocs.getRange()].map((e) => e.value);
  }

  get(allocId: string): LocalAllocState | undefined {
    return this.allocs.get(allocId);
  }

  /**
   * Resolves once committed; with `durable` (the default), once on disk: a handle must be
   * there before its task counts as started.
   */
  async put(s: LocalAllocState, durable = true): Promise<void> {
    this.assertOpen();
    await this.allocs.put(s.alloc.ID, s);
    if (durable) await this.env.flushed;
  }

  async remove(allocId: string): Promise<void> {
    this.assertOpen();
    await this.allocs.remove(allocId);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.env.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new YurtError('unavailable', 'the client state database is closed');
  }
}
