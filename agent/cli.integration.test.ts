/**
 * The `yurt` CLI against a real dev agent, as a user runs it: init, run (monitored), status,
 * logs, plan, eval, revert, node status -self, server members, operator raft list-peers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAgent } from './testing/agent-process.js';

const BIN = fileURLToPath(new URL('../bin/yurt.js', import.meta.url));

const JOB = (greeting: string) => `
job "hello" {
  type = "batch"
  group "say" {
    task "echo" {
      driver = "exec"
      config {
        command = "/bin/echo"
        args    = ["${greeting}"]
      }
      resources {
        memory = 32
      }
    }
  }
}
`;

void test('the CLI drives a real agent end to end', { timeout: 180_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'yurt-cli-'));
  const work = mkdtempSync(join(tmpdir(), 'yurt-cli-work-'));
  const agent = await startAgent(['-dev', '-data-dir', dataDir]);
  const yurt = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: work, encoding: 'utf8', env: { ...process.env, YURT_FROM_SOURCE: '1', YURT_ADDR: agent.http }, timeout: 60_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  try {
    let r = yurt('job', 'init');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /example\.hcl/);

    writeFileSync(join(work, 'hello.hcl'), JOB('hello'));
    r = yurt('job', 'run', 'hello.hcl');
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /Monitoring evaluation "[0-9a-f]{8}"/);
    assert.match(r.out, /Allocation "([0-9a-f]{8})" created: node "[0-9a-f]{8}", group "say"/);
    assert.match(r.out, /Evaluation "[0-9a-f]{8}" finished with status "complete"/);
    const allocId = /Allocation "([0-9a-f]{8})" created/.exec(r.out)![1]!;

    r = yurt('alloc', 'logs', allocId);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'hello\n');

    r = yurt('job', 'status');
    assert.match(r.out, /^ID\s+Type\s+Priority\s+Status\s+Submit Date$/m);
    assert.match(r.out, /^hello\s+batch\s+50\s+dead\s+/m);
    r = yurt('job', 'status', 'hello');
    assert.match(r.out, /^Task Group\s+Queued\s+Starting\s+Running\s+Failed\s+Complete\s+Lost\s+Unknown$/m);
    assert.match(r.out, /^say\s+0\s+0\s+0\s+0\s+1\s+0\s+0$/m);

    // A changed batch job whose run already completed: plan shows the diff, and exits 0 because,
    // as in Nomad, a completed batch allocation is not run again.
    writeFileSync(join(work, 'hello2.hcl'), JOB('hello again'));
    r = yurt('job', 'plan', 'hello2.hcl');
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /\+\/- Job: "hello"/);
    assert.match(r.out, /Config\.args\[0\]: "hello" => "hello again"/);
    // A new job: plan exits 1 (allocations would be created) and commits nothing.
    writeFileSync(join(work, 'other.hcl'), JOB('x').replace('job "hello"', 'job "other"'));
    r = yurt('job', 'plan', 'other.hcl');
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /\+ Job: "other"/);
    assert.equal(yurt('job', 'status', 'other').code, 1, 'plan did not register the job');
    r = yurt('job', 'run', 'hello2.hcl');
    assert.equal(r.code, 0, r.out + r.err);
    r = yurt('job', 'history', 'hello');
    assert.match(r.out, /Version\s+= 1/);

    // Revert to version 0 registers it again as version 2.
    r = yurt('job', 'revert', '-detach', 'hello', '0');
    assert.equal(r.code, 0, r.out + r.err);
    r = yurt('job', 'inspect', 'hello');
    const inspected = JSON.parse(r.out) as { Job: { Version: number; TaskGroups: Array<{ Tasks: Array<{ Config: { args: string[] } }> }> } };
    assert.equal(inspected.Job.Version, 2);
    assert.deepEqual(inspected.Job.TaskGroups[0]!.Tasks[0]!.Config.args, ['hello']);

    r = yurt('job', 'eval', '-detach', 'hello');
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /Created eval ID: "[0-9a-f]{8}(-[0-9a-f-]+)?"/i);

    r = yurt('node', 'status', '-self');
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /Status\s+= ready/);

    r = yurt('server', 'members');
    assert.match(r.out, /^Name\s+Address\s+Port\s+Status\s+Leader\s+Raft Version\s+Build\s+Datacenter\s+Region$/m);
    assert.match(r.out, /alive\s+true\s+3/);
    r = yurt('operator', 'raft', 'list-peers');
    assert.match(r.out, /^Node\s+ID\s+Address\s+State\s+Voter\s+RaftProtocol$/m);
    assert.match(r.out, /leader\s+true\s+3/);

    // Errors are clear and exit non-zero.
    r = yurt('job', 'status', 'nope');
    assert.equal(r.code, 1);
    assert.match(r.err + r.out, /No job\(s\) with prefix or id "nope" found/);
  } catch (e) {
    process.stderr.write(`agent output:\n${agent.output()}\n`);
    throw e;
  } finally {
    await agent.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
});
