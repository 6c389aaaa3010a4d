/**
 * Three real server processes form a cluster from nothing (bootstrap_expect = 3, retry_join),
 * with a separate client agent. A job submitted to a follower is forwarded and placed; the
 * leader is killed with SIGKILL; the survivors elect a new leader, keep every job, and keep
 * scheduling; the killed server comes back as a follower with the state it missed; a server
 * that leaves gracefully (leave_on_terminate) shrinks the configuration instead of failing.
 * Snapshots are taken every few entries, so the restarted server catches up by snapshot: the
 * state store's snapshot and restore are exercised through Raft's InstallSnapshot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AllocListStub } from '../structs/alloc.js';
import type { Job } from '../structs/job.js';
import { eventually, freePort, startAgent, type AgentProcess } from './testing/agent-process.js';

const jobHcl = (name: string): string => `
job "${name}" {
  type = "service"
  group "g" {
    task "t" {
      driver = "exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "exec sleep 600"]
      }
      resources {
        memory = 32
      }
    }
  }
}
`;

interface ServerProc {
  name: string;
  rpc: number;
  http: number;
  dataDir: string;
  agent: AgentProcess | null;
}

interface RaftConfig {
  Servers: Array<{ ID: string; Node: string; Address: string; Leader: boolean; Voter: boolean }>;
}

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

async function submit(http: string, name: string): Promise<void> {
  const parsed = await fetch(`${http}/v1/jobs/parse`, { method: 'POST', body: JSON.stringify({ JobHCL: jobHcl(name) }) });
  assert.equal(parsed.status, 200, await parsed.clone().text());
  const job = (await parsed.json()) as Job;
  const r = await fetch(`${http}/v1/jobs`, { method: 'POST', body: JSON.stringify({ Job: job }) });
  assert.equal(r.status, 200, await r.clone().text());
}

async function running(http: string, job: string): Promise<AllocListStub[] | undefined> {
  const allocs = await getJson<AllocListStub[]>(`${http}/v1/job/${job}/allocations`);
  return allocs.length === 1 && allocs[0]?.ClientStatus === 'running' ? allocs : undefined;
}

async function leaderOf(servers: ServerProc[]): Promise<ServerProc | undefined> {
  const live = servers.filter((s) => s.agent !== null);
  const answers = await Promise.all(live.map((s) => getJson<string>(`http://127.0.0.1:${s.http}/v1/status/leader`).catch(() => '')));
  const first = answers[0];
  // Every live server must name the same leader, and it must be one of them.
  if (first === undefined || first === '' || answers.some((a) => a !== first)) return undefined;
  return live.find((s) => first === `127.0.0.1:${s.rpc}`);
}

void test('three servers: form, forward, survive the leader being killed, rejoin, leave', { timeout: 240_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'yurt-cluster-'));
  const leaveConfig = join(root, 'leave.hcl');
  // Snapshots every few entries, few kept behind: a server that was down catches up by snapshot.
  writeFileSync(leaveConfig, 'leave_on_terminate = true\nserver {\n  raft_snapshot_threshold = 8\n  raft_trailing_logs = 4\n}\n');
  const servers: ServerProc[] = [];
  for (const name of ['s1', 's2', 's3']) servers.push({ name, rpc: await freePort(), http: await freePort(), dataDir: join(root, name), agent: null });
  const join3 = servers.flatMap((s) => ['-retry-join', `127.0.0.1:${s.rpc}`]);
  const start = async (s: ServerProc): Promise<void> => {
    s.agent = await startAgent(['-server', '-bootstrap-expect', '3', '-node', s.name, '-data-dir', s.dataDir, '-config', leaveConfig, ...join3], {
      httpPort: s.http,
      rpcPort: s.rpc,
    });
  };
  let client: AgentProcess | null = null;
  try {
    await Promise.all(servers.map(start));
    const leader = await eventually(() => leaderOf(servers), 30_000, 'one leader agreed on by all three servers');
    // Names come from each server's own answer, refreshed every few seconds.
    const peers = await eventually(async () => {
      const c = await getJson<RaftConfig>(`http://127.0.0.1:${servers[0]!.http}/v1/operator/raft/configuration`);
      return c.Servers.map((p) => p.Node).sort().join(',') === 's1.global,s2.global,s3.global' ? c : undefined;
    }, 15_000, 'every server named in the raft configuration');
    assert.ok(peers.Servers.every((p) => p.Voter));

    client = await startAgent(['-client', '-node', 'c1', '-data-dir', join(root, 'c1'), '-servers', servers.map((s) => `127.0.0.1:${s.rpc}`).join(',')]);
    const follower = servers.find((s) => s !== leader)!;
    const followerHttp = `http://127.0.0.1:${follower.http}`;
    await eventually(async () => ((await getJson<unknown[]>(`${followerHttp}/v1/nodes`)).length === 1 ? true : undefined), 30_000, 'the client node registered');

    // A write to a follower is forwarded to the leader, and the job is placed.
    await submit(followerHttp, 'before');
    await eventually(() => running(followerHttp, 'before'), 30_000, 'job "before" running');

    // Followers' workers plan too (the leader runs only a quarter of its own).
    for (let i = 0; i < 4; i++) await submit(followerHttp, `spread${i}`);
    for (let i = 0; i < 4; i++) await eventually(() => running(followerHttp, `spread${i}`), 30_000, `job spread${i} running`);
    const invocations = await Promise.all(
      servers.filter((s) => s !== leader).map(async (s) => {
        const m = await getJson<{ Samples: Array<{ Name: string; Value: number }> }>(`http://127.0.0.1:${s.http}/v1/metrics`);
        return m.Samples.filter((x) => x.Name === 'yurt_nomad_worker_invoke_scheduler_seconds_count').reduce((n, x) => n + x.Value, 0);
      }),
    );
    assert.ok(invocations.some((n) => n > 0), `follower workers scheduled nothing (${invocations.join(', ')})`);

    // The leader dies without a word.
    await leader.agent!.stop('SIGKILL');
    leader.agent = null;
    const next = await eventually(() => leaderOf(servers), 30_000, 'a new leader among the survivors');
    assert.notEqual(next, leader);
    const nextHttp = `http://127.0.0.1:${next.http}`;
    assert.ok(await running(nextHttp, 'before'), 'the job placed before the failover is intact');
    // Scheduling goes on under the new leader.
    const survivor = servers.find((s) => s.agent !== null && s !== next)!;
    await submit(`http://127.0.0.1:${survivor.http}`, 'after');
    await eventually(() => running(nextHttp, 'after'), 30_000, 'job "after" placed by the new leader');

    // More writes while it is down, so the log it needs is compacted away.
    for (let i = 0; i < 3; i++) await submit(`http://127.0.0.1:${survivor.http}`, `while-down${i}`);
    // The killed server restarts on its data dir and catches up as a follower.
    await start(leader);
    const restartedHttp = `http://127.0.0.1:${leader.http}`;
    await eventually(() => running(restartedHttp, 'after'), 30_000, 'the restarted server has the state it missed');
    await eventually(async () => ((await getJson<unknown[]>(`${restartedHttp}/v1/jobs`)).length === 9 ? true : undefined), 30_000, 'all nine jobs on the restarted server');
    assert.match(leader.agent!.output(), /installed a snapshot|restored the state machine from a snapshot/, 'the restarted server caught up by snapshot');
    assert.equal(await leaderOf(servers), next, 'the restarted server did not take over');
    const members = await getJson<{ Members: Array<{ Name: string; Status: string }> }>(`${restartedHttp}/v1/agent/members`);
    assert.deepEqual(members.Members.map((m) => m.Name).sort(), ['s1.global', 's2.global', 's3.global']);

    // A graceful leave (SIGTERM with leave_on_terminate) removes the server from Raft.
    const leaving = servers.find((s) => s !== next && s.agent !== null)!;
    assert.equal(await leaving.agent!.stop('SIGTERM'), 0);
    leaving.agent = null;
    const after = await getJson<RaftConfig>(`${nextHttp}/v1/operator/raft/configuration`);
    assert.deepEqual(after.Servers.map((p) => p.Node).sort(), servers.filter((s) => s.agent !== null).map((s) => `${s.name}.global`).sort());
    // Two servers of two: still a quorum, still scheduling.
    await submit(nextHttp, 'two');
    // Only that it runs: under load a leave can cost the client a missed heartbeat, and a lost
    // allocation replaced is still the cluster scheduling.
    await eventually(async () => ((await getJson<AllocListStub[]>(`${nextHttp}/v1/job/two/allocations`)).some((a) => a.DesiredStatus === 'run' && a.ClientStatus === 'running') ? true : undefined), 60_000, 'job "two" placed by a two-server cluster');
  } catch (e) {
    for (const s of servers) if (s.agent) process.stderr.write(`---- ${s.name}\n${s.agent.output().slice(-4000)}\n`);
    if (client) process.stderr.write(`---- c1\n${client.output().slice(-3000)}\n`);
    // What the servers and the client think of the last job, to tell a scheduling failure from a client one.
    for (const s of servers) {
      if (!s.agent) continue;
      const http = `http://127.0.0.1:${s.http}`;
      const dump = async (path: string): Promise<string> => JSON.stringify(await getJson<unknown>(`${http}${path}`).catch((err: unknown) => String(err))).slice(0, 3000);
      process.stderr.write(`---- ${s.name} evaluations of "two": ${await dump('/v1/job/two/evaluations')}\n`);
      process.stderr.write(`---- ${s.name} allocations of "two": ${await dump('/v1/job/two/allocations')}\n`);
    }
    if (client) process.stderr.write(`---- c1 allocations: ${JSON.stringify(await getJson<unknown>(`${client.http}/v1/allocations`).catch((err: unknown) => String(err))).slice(0, 3000)}\n`);
    throw e;
  } finally {
    // Stop the tasks (a client agent leaves them running when it exits, by design).
    const live = servers.find((s) => s.agent !== null);
    if (live && client) {
      const http = `http://127.0.0.1:${live.http}`;
      for (const job of ['before', 'after', 'two', 'spread0', 'spread1', 'spread2', 'spread3', 'while-down0', 'while-down1', 'while-down2']) await fetch(`${http}/v1/job/${job}?purge=true`, { method: 'DELETE' }).catch(() => undefined);
      const clientHttp = client.http;
      await eventually(
        async () => ((await getJson<AllocListStub[]>(`${clientHttp}/v1/allocations`)).every((a) => a.ClientStatus !== 'running') ? true : undefined),
        20_000,
        'tasks stopped',
      ).catch(() => undefined);
    }
    if (client) await client.stop('SIGINT');
    await Promise.all(servers.map((s) => (s.agent ? s.agent.stop('SIGINT') : Promise.resolve(null))));
    rmSync(root, { recursive: true, force: true });
  }
});
