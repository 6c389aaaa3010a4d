/**
 * A client that crashes (SIGKILL) and restarts on the same data dir reattaches to the tasks it
 * was running instead of starting them again, and learns how tasks that ended while it was
 * down exited.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Allocation, AllocListStub } from '../structs/alloc.js';
import type { Job } from '../structs/job.js';
import { eventually, startAgent, type AgentProcess } from './testing/agent-process.js';

const HCL = `
job "recover" {
  type = "service"
  group "svc" {
    task "sleeper" {
      driver = "exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "echo started; exec sleep 600"]
      }
      resources {
        memory = 32
      }
    }
  }
}

`;

const BATCH = `
job "finisher" {
  type = "batch"
  group "b" {
    restart {
      attempts = 0
      mode     = "fail"
    }
    task "late" {
      driver = "exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "sleep 2; exit 3"]
      }
      resources {
        memory = 32
      }
    }
  }
}
`;

async function submit(agent: AgentProcess, hcl: string): Promise<void> {
  const parsed = await fetch(`${agent.http}/v1/jobs/parse`, { method: 'POST', body: JSON.stringify({ JobHCL: hcl }) });
  assert.equal(parsed.status, 200, await parsed.clone().text());
  const job = (await parsed.json()) as Job;
  const r = await fetch(`${agent.http}/v1/jobs`, { method: 'POST', body: JSON.stringify({ Job: job }) });
  assert.equal(r.status, 200);
}

async function allocOf(agent: AgentProcess, job: string, status: string): Promise<AllocListStub> {
  return eventually(async () => {
    const list = (await (await fetch(`${agent.http}/v1/job/${job}/allocations`)).json()) as AllocListStub[];
    return list.find((a) => a.ClientStatus === status);
  }, 30_000, `${job} allocation ${status}`);
}

/**
 * A dev agent on a data dir of its own that the test may kill and start again (`restart`
 * returns the new process); whichever runs last is stopped at the end, and its output is
 * shown when the test fails.
 */
async function withRestartableAgent(fn: (a: { dataDir: string; first: AgentProcess; restart: () => Promise<AgentProcess> }) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'yurt-recover-'));
  let agent = await startAgent(['-dev', '-data-dir', dataDir]);
  try {
    await fn({ dataDir, first: agent, restart: async () => (agent = await startAgent(['-dev', '-data-dir', dataDir])) });
  } catch (e) {
    process.stderr.write(`agent output:\n${agent.output()}\n`);
    throw e;
  } finally {
    await agent.stop('SIGINT');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

void test('after a client crash, running tasks are reattached and finished ones report their exit', { timeout: 120_000 }, async () => {
  await withRestartableAgent(async ({ dataDir, first, restart }) => {
    let agent = first;
    await submit(agent, HCL);
    const running = await allocOf(agent, 'recover', 'running');
    await submit(agent, BATCH);
    await allocOf(agent, 'finisher', 'running');

    assert.equal(await agent.stop('SIGKILL'), null, 'the agent was killed');
    // The batch task ends (exit 3) while no agent is watching.
    await new Promise((r) => setTimeout(r, 3000));

    agent = await restart();
    const failed = await allocOf(agent, 'finisher', 'failed');
    const full = (await (await fetch(`${agent.http}/v1/allocation/${failed.ID}`)).json()) as Allocation;
    const terminated = full.TaskStates['late']!.Events.find((e) => e.Type === 'Terminated');
    assert.equal(terminated?.ExitCode, 3, 'the exit code recorded while the agent was down is reported');

    const after = (await (await fetch(`${agent.http}/v1/allocation/${running.ID}`)).json()) as Allocation;
    assert.equal(after.ClientStatus, 'running');
    const sleeper = after.TaskStates['sleeper']!;
    assert.equal(sleeper.Restarts, 0);
    assert.equal(sleeper.Events.filter((e) => e.Type === 'Started').length, 1, 'the task was not started again');
    const log = readFileSync(join(dataDir, 'client', 'alloc', running.ID, 'alloc', 'logs', 'sleeper.stdout.0'), 'utf8');
    assert.equal(log, 'started\n');
    const allocs = (await (await fetch(`${agent.http}/v1/job/recover/allocations`)).json()) as AllocListStub[];
    assert.equal(allocs.length, 1, 'no replacement allocation was made');

    // The reattached task can still be stopped.
    const del = await fetch(`${agent.http}/v1/job/recover`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    await allocOf(agent, 'recover', 'complete');
  });
});

const STUBBORN = `
job "stubborn" {
  type = "service"
  group "g" {
    task "t" {
      # raw_exec: the pid the task writes is the host's (exec runs it in a pid namespace).
      driver       = "raw_exec"
      kill_timeout = "6s"
      config {
        command = "/bin/sh"
        args    = ["-c", "trap '' INT TERM; echo $$ > $NOMAD_ALLOC_DIR/pid; while true; do sleep 1; done"]
      }
      resources {
        memory = 32
      }
    }
  }
}
`;

void test('an agent killed while stopping an allocation finishes the stop after its restart, and the server hears of it', { timeout: 120_000 }, async () => {
  await withRestartableAgent(async ({ dataDir, first, restart }) => {
    let agent = first;
    await submit(agent, STUBBORN);
    const running = await allocOf(agent, 'stubborn', 'running');
    const pidFile = join(dataDir, 'client', 'alloc', running.ID, 'alloc', 'pid');
    const pid = Number(await eventually(async () => (existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() || undefined : undefined), 10_000, 'the task wrote its pid'));
    // The stop begins: the task ignores its kill signal, so the client is still waiting on it...
    assert.equal((await fetch(`${agent.http}/v1/job/stubborn`, { method: 'DELETE' })).status, 200);
    await new Promise((r) => setTimeout(r, 1500));
    // ...when the agent dies.
    assert.equal(await agent.stop('SIGKILL'), null, 'the agent was killed');
    assert.doesNotThrow(() => process.kill(pid, 0), 'the task outlived the agent');

    agent = await restart();
    const done = await allocOf(agent, 'stubborn', 'complete');
    assert.equal(done.ID, running.ID);
    await eventually(async () => {
      try {
        process.kill(pid, 0);
        return undefined;
      } catch {
        return true;
      }
    }, 20_000, 'the task process is gone');
  });
});
