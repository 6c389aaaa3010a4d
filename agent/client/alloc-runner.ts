/**
 * Runs one allocation on this client: builds its directories, runs a TaskRunner per task,
 * derives the allocation's client status from its tasks (Nomad's rules: any failed task fails
 * the allocation, all dead and none failed completes it), stops the rest when one fails, and
 * stops everything when the server sets the desired status to stop.
 */
import type { Logger } from 'pino';
import type { AllocClientStatus, Allocation, AllocClientUpdate, TaskState } from '../../structs/alloc.js';
import type { Driver, TaskHandle } from '../../drivers/driver.js';
import { AllocDir } from './alloc-dir.js';
import type { LocalAllocState } from './client-state.js';
import { TaskRunner, taskEvent } from './task-runner.js';
import { TaskEventType } from '../../structs/alloc.js';

export interface AllocRunnerDeps {
  allocsRoot: string;
  drivers: Map<string, Driver>;
  logger: Logger;
  node: { region: string; datacenter: string; nodeId: string; nodeName: string };
  onUpdate: (u: AllocClientUpdate) => void;
  /** Saves the runner's state durably (task handles must be on disk before a task counts as started). */
  persist: (s: LocalAllocState) => Promise<void>;
}

export class AllocRunner {
  readonly dir: AllocDir;
  private alloc: Allocation;
  private runners: TaskRunner[] = [];
  private status: AllocClientStatus = 'pending';
  private description = '';
  private stopping = false;
  private done: Promise<void> = Promise.resolve();
  private handles: Record<string, TaskHandle> = {};
  private persistChain: Promise<void> = Promise.resolve();

  /** @param restore state saved before an agent restart, to reattach to running tasks. */
  constructor(
    alloc: Allocation,
    private readonly deps: AllocRunnerDeps,
    private readonly restore?: LocalAllocState,
  ) {
    this.alloc = alloc;
    this.dir = new AllocDir(deps.allocsRoot, alloc.ID);
    if (restore) this.handles = { ...restore.handles };
  }

  get id(): string {
    return this.alloc.ID;
  }

  clientStatus(): AllocClientStatus {
    return this.status;
  }

  run(): void {
    this.done = this.runAll();
  }

  wait(): Promise<void> {
    return this.done;
  }

  private async runAll(): Promise<void> {
    const tg = this.alloc.Job.TaskGroups.find((g) => g.Name === this.alloc.TaskGroup);
    if (!tg) {
      this.status = 'failed';
      this.description = `task group ${this.alloc.TaskGroup} not found in job`;
      this.report();
      return;
    }
    try {
      await this.dir.build(tg.Tasks.map((t) => t.Name));
    } catch (err) {
      this.status = 'failed';
      this.description = `failed to build alloc dir: ${err instanceof Error ? err.message : String(err)}`;
      this.report();
      return;
    }
    const index = /\[(\d+)\]$/.exec(this.alloc.Name)?.[1] ?? '0';
    this.runners = tg.Tasks.map(
      (task) =>
        new TaskRunner({
          alloc: this.alloc,
          task,
          driver: this.deps.drivers.get(task.Driver),
          allocDir: this.dir,
          env: {
            ...task.Env,
            NOMAD_ALLOC_DIR: this.dir.sharedDir,
            NOMAD_TASK_DIR: `${this.dir.taskDir(task.Name)}/local`,
            NOMAD_SECRETS_DIR: `${this.dir.taskDir(task.Name)}/secrets`,
            NOMAD_ALLOC_ID: this.alloc.ID,
            NOMAD_ALLOC_NAME: this.alloc.Name,
            NOMAD_ALLOC_INDEX: index,
            NOMAD_JOB_ID: this.alloc.JobID,
            NOMAD_JOB_NAME: this.alloc.Job.Name,
            NOMAD_GROUP_NAME: this.alloc.TaskGroup,
            NOMAD_TASK_NAME: task.Name,
            NOMAD_NAMESPACE: this.alloc.Namespace,
            NOMAD_REGION: this.deps.node.region,
            NOMAD_DC: this.deps.node.datacenter,
            NOMAD_CPU_LIMIT: String(task.Resources.CPU),
            NOMAD_MEMORY_LIMIT: String(task.Resources.MemoryMB),
          },
          logger: this.deps.logger.child({ alloc_id: this.alloc.ID, task: task.Name }),
          onChange: () => this.onTaskChange(),
          onHandle: (h) => {
            if (h) this.handles[task.Name] = h;
            else delete this.handles[task.Name];
            return this.persist();
          },
          ...(this.restore?.taskStates[task.Name]
            ? { restore: { state: this.restore.taskStates[task.Name]!, handle: this.restore.handles[task.Name] ?? null } }
            : {}),
        }),
    );
    await Promise.all(this.runners.map((r) => r.run()));
    this.onTaskChange();
  }

  /** The server changed the allocation; a stop request stops every task. */
  update(alloc: Allocation): void {
    this.alloc = { ...alloc, TaskStates: this.alloc.TaskStates };
    if (alloc.DesiredStatus !== 'run') void this.stop(alloc.DesiredDescription || 'alloc stopped by server');
  }

  async stop(reason: string): Promise<void> {
    if (this.stopping) return this.done;
    this.stopping = true;
    await Promise.all(this.runners.map((r) => r.kill(reason)));
    await this.done;
  }

  private onTaskChange(): void {
    const next = this.deriveStatus();
    const failedTask = this.runners.find((r) => r.isDead() && r.state.Failed);
    if (failedTask && !this.stopping) {
      // One task failing fails the group: stop its siblings (Nomad: "Sibling Task Failed").
      this.stopping = true;
      for (const r of this.runners) {
        if (!r.isDead()) {
          r.state.Events.push(taskEvent(TaskEventType.TaskSiblingFailed, { DisplayMessage: `Task's sibling "${failedTask.name}" failed` }));
          void r.kill(`Task's sibling "${failedTask.name}" failed`);
        }
      }
    }
    this.status = next.status;
    this.description = next.description;
    this.report();
    void this.persist();
  }

  /** Writes are chained so they land in order; a failed write is logged, not fatal. */
  private persist(): Promise<void> {
    const snapshot: LocalAllocState = { alloc: this.alloc, taskStates: this.taskStates(), handles: { ...this.handles } };
    this.persistChain = this.persistChain
      .then(() => this.deps.persist(snapshot))
      .catch((err: unknown) => this.deps.logger.error({ err, alloc_id: this.alloc.ID }, 'could not save allocation state'));
    return this.persistChain;
  }

  private deriveStatus(): { status: AllocClientStatus; description: string } {
    if (this.runners.length === 0) return { status: this.status, description: this.description };
    const states = this.runners.map((r) => r.state);
    if (states.every((s) => s.State === 'dead')) {
      return states.some((s) => s.Failed) ? { status: 'failed', description: 'Failed tasks' } : { status: 'complete', description: 'All tasks have completed' };
    }
    if (states.some((s) => s.State === 'running')) return { status: 'running', description: 'Tasks are running' };
    return { status: 'pending', description: 'No tasks have started' };
  }

  taskStates(): Record<string, TaskState> {
    const out: Record<string, TaskState> = {};
    for (const r of this.runners) out[r.name] = structuredClone(r.state);
    return out;
  }

  private report(): void {
    this.deps.onUpdate({
      ID: this.alloc.ID,
      ClientStatus: this.status,
      ClientDescription: this.description,
      TaskStates: this.taskStates(),
      ModifyTime: Date.now() * 1e6,
    });
  }
}
