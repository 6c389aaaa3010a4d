/**
 * What a scenario is and the steps scenarios share: submit a job file through the CLI, wait for
 * its allocations, read them back, stop the job. A scenario starts from a healthy cluster
 * (the runner checks and repairs it first) and removes what it created, so each one runs
 * alone (`--only N`) as well as in the suite.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AllocListStub } from '../structs/alloc.js';
import type { ArtifactServer } from './artifact-server.js';
import type { Cluster } from './cluster.js';
import { isLive, shortAllocs } from './http-api.js';
import type { Images } from './images.js';
import { jobHcl, type JobSpec } from './jobs.js';
import { waitUntil } from './wait.js';

export interface ScenarioContext {
  cluster: Cluster;
  images: Images;
  artifacts: ArtifactServer;
  /** Host directory for job files. */
  workDir: string;
  log: (msg: string) => void;
  /** Cleanups registered by the scenario, run (last first) when it ends, pass or fail. */
  defer: (what: string, fn: () => Promise<unknown>) => void;
}

export interface Scenario {
  id: number;
  title: string;
  /** Servers the scenario needs (faults of a leader need followers to take over). */
  minServers?: number;
  run: (ctx: ScenarioContext) => Promise<void>;
}

/** Writes the job file and submits it with `yurt job run -detach`; stops it when the scenario ends. */
export async function runJob(ctx: ScenarioContext, spec: JobSpec, opts: { server?: string; keep?: boolean } = {}): Promise<string> {
  const file = join(ctx.workDir, `${spec.id}.hcl`);
  await writeFile(file, jobHcl(spec));
  return runJobFile(ctx, spec.id, file, opts);
}

export async function runJobFile(ctx: ScenarioContext, jobId: string, file: string, opts: { server?: string; keep?: boolean } = {}): Promise<string> {
  const r = await ctx.cluster.cliOk('job run', ['-detach', file], { server: opts.server });
  const evalId = /Evaluation ID: (\S+)/.exec(r.stdout)?.[1];
  if (!evalId) throw new Error(`\`yurt job run -detach\` printed no evaluation ID:\n${r.stdout}`);
  if (!opts.keep) ctx.defer(`stop job ${jobId}`, () => stopJob(ctx, jobId));
  return evalId;
}

export async function stopJob(ctx: ScenarioContext, jobId: string): Promise<void> {
  const r = await ctx.cluster.cli('job stop', ['-purge', '-detach', '-yes', jobId]);
  if (r.code !== 0 && !/not found/i.test(r.stdout + r.stderr)) throw new Error(`cannot stop ${jobId}: ${r.stdout}${r.stderr}`);
}

/** Waits until the job has `n` live allocations that are all running; returns them. */
export async function waitRunning(ctx: ScenarioContext, jobId: string, n: number, timeoutMs = 90_000): Promise<AllocListStub[]> {
  return waitUntil(
    `${n} running allocation(s) of ${jobId}`,
    async () => {
      const allocs = await ctx.cluster.api.jobAllocs(jobId);
      // A failed allocation will not turn into a running one: say why now, not at the timeout.
      const failed = allocs.find((a) => a.ClientStatus === 'failed');
      if (failed) throw new FailedAlloc(`allocation ${failed.ID} of ${jobId} failed: ${await describeJob(ctx, jobId)}`);
      const live = allocs.filter(isLive);
      return live.length === n && live.every((a) => a.ClientStatus === 'running') ? live : undefined;
    },
    { timeoutMs, intervalMs: 500, stopOn: (e) => e instanceof FailedAlloc },
    () => describeJob(ctx, jobId),
  );
}

class FailedAlloc extends Error {}

export async function describeJob(ctx: ScenarioContext, jobId: string): Promise<string> {
  const allocs = await ctx.cluster.api.jobAllocs(jobId);
  // The list stub may leave task events out: read the failed allocations in full.
  const failed = await Promise.all(allocs.filter((a) => a.ClientStatus === 'failed').slice(0, 3).map((a) => ctx.cluster.api.alloc(a.ID)));
  const failures = failed
    .map((a) => {
      const events = Object.values(a.TaskStates ?? {}).flatMap((t) => (t.Events ?? []).slice(-3).map((e) => `${e.Type}: ${e.DisplayMessage}`));
      return `\n    ${a.ID.slice(0, 8)} failed: ${events.join(' | ')}`;
    })
    .join('');
  return `allocations of ${jobId}: ${shortAllocs(allocs)}${failures}`;
}

/** The alloc's first task's host:port for a port label, from the allocation's shared ports. */
export async function allocPort(ctx: ScenarioContext, allocId: string, label: string): Promise<{ ip: string; port: number }> {
  const a = await ctx.cluster.api.alloc(allocId);
  const p = a.AllocatedResources.Shared.Ports?.find((x) => x.Label === label);
  if (!p) throw new Error(`allocation ${allocId} has no port "${label}": ${JSON.stringify(a.AllocatedResources.Shared)}`);
  return { ip: p.HostIP, port: p.Value };
}

/**
 * The CLI's `alloc logs` (stdout unless stderr). When it fails, the error also shows what the
 * task's log file on the client holds, to tell a broken logs path from a task that printed nothing.
 */
export async function allocLogs(ctx: ScenarioContext, alloc: Pick<AllocListStub, 'ID' | 'NodeName'>, stderr = false): Promise<string> {
  const r = await ctx.cluster.cli('alloc logs', [...(stderr ? ['-stderr'] : []), alloc.ID]);
  if (r.code === 0) return r.stdout;
  const file = await ctx.cluster.taskLogFile(alloc.NodeName, alloc.ID, 't', stderr ? 'stderr' : 'stdout').catch((e: unknown) => `(unreadable: ${String(e)})`);
  throw new Error(`\`${r.command}\` exited ${r.code}: ${(r.stdout + r.stderr).trim()}\n  (the task's ${stderr ? 'stderr' : 'stdout'} file on ${alloc.NodeName} holds: ${JSON.stringify(file.slice(0, 300))})`);
}

export function countBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
}
