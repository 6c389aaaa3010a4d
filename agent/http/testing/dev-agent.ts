/**
 * Test support: one real dev agent process (server + client, raw_exec enabled) shared by a
 * test file, with helpers to submit HCL jobs through the API and find allocation directories.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AllocListStub } from '../../../structs/alloc.js';
import type { Job, JobRegisterResponse } from '../../../structs/job.js';
import { eventually, startAgent, type AgentProcess } from '../../testing/agent-process.js';
import { call } from './api-harness.js';

export interface DevAgent {
  agent: AgentProcess;
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startDevAgent(): Promise<DevAgent> {
  const dataDir = mkdtempSync(join(tmpdir(), 'yurt-api-'));
  const agent = await startAgent(['-dev', '-data-dir', dataDir]);
  await eventually(async () => {
    const r = await call(agent.http, 'GET', '/v1/nodes');
    return Array.isArray(r.json) && (r.json as Array<{ Status: string }>).some((n) => n.Status === 'ready') ? true : undefined;
  }, 30_000, 'dev node ready');
  return {
    agent,
    url: agent.http,
    dataDir,
    stop: async () => {
      await agent.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A raw_exec service job whose task sleeps; `count` instances of group "g", task "t". */
export function sleeperHcl(id: string, count = 1, meta: Record<string, string> = {}): string {
  const metaBlock = Object.entries(meta)
    .map(([k, v]) => `    ${k} = "${v}"`)
    .join('\n');
  return `job "${id}" {
  datacenters = ["dc1"]
  type = "service"
  meta {
${metaBlock}
  }
  group "g" {
    count = ${count}
    restart {
      attempts = 0
      mode = "fail"
    }
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args = ["-c", "echo started; exec sleep 600"]
      }
      resources {
        cpu = 20
        memory = 16
      }
    }
  }
}`;
}

export async function registerHcl(url: string, hcl: string): Promise<{ job: Job; reg: JobRegisterResponse }> {
  const parsed = await call(url, 'POST', '/v1/jobs/parse', { JobHCL: hcl });
  if (parsed.status !== 200) throw new Error(`parse: ${parsed.status} ${parsed.text}`);
  const job = parsed.json as Job;
  const r = await call(url, 'POST', '/v1/jobs', { Job: job });
  if (r.status !== 200) throw new Error(`register: ${r.status} ${r.text}`);
  return { job, reg: r.json as JobRegisterResponse };
}

export async function runningAllocs(url: string, jobId: string, n: number): Promise<AllocListStub[]> {
  return eventually(async () => {
    const r = await call(url, 'GET', `/v1/job/${jobId}/allocations`);
    const running = (r.json as AllocListStub[]).filter((a) => a.ClientStatus === 'running' && a.DesiredStatus === 'run');
    return running.length >= n ? running : undefined;
  }, 30_000, `${n} running allocation(s) of ${jobId}`);
}

/** The allocation's directory on the dev node (found by name under the agent's data dir). */
export function findAllocDir(dataDir: string, allocId: string): string {
  const walk = (dir: string, depth: number): string | null => {
    if (depth > 4) return null;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (!st.isDirectory()) continue;
      if (name === allocId) return p;
      const hit = walk(p, depth + 1);
      if (hit) return hit;
    }
    return null;
  };
  const found = walk(dataDir, 0);
  if (!found) throw new Error(`no directory for allocation ${allocId} under ${dataDir}`);
  return found;
}
