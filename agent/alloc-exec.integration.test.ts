/**
 * `yurt alloc exec` against a real dev agent, as a user runs it: a raw_exec and an exec
 * service task, output on the right streams, the command's exit code as the CLI's, stdin
 * piped through, and the errors a user can run into (unknown allocation, task not running).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { get } from 'node:http';
import WebSocket from 'ws';
import { eventually, freePort, startAgent, type AgentProcess } from './testing/agent-process.js';

const BIN = fileURLToPath(new URL('../bin/yurt.js', import.meta.url));

const JOB = `
job "shell" {
  type = "service"
  group "g" {
    task "raw" {
      driver = "raw_exec"
      config {
        command = "/bin/sleep"
        args    = ["300"]
      }
      env {
        GREETING = "from-raw"
      }
      resources {
        memory = 32
      }
    }
    task "iso" {
      driver = "exec"
      config {
        command = "/bin/sleep"
        args    = ["300"]
      }
      env {
        GREETING = "from-exec"
      }
      resources {
        memory = 32
      }
    }
    task "done" {
      driver = "raw_exec"
      lifecycle {
        hook = "poststop"
      }
      config {
        command = "/bin/true"
      }
    }
  }
}
`;

void test('alloc exec runs commands in raw_exec and exec tasks', { timeout: 180_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'yurt-exec-'));
  const work = mkdtempSync(join(tmpdir(), 'yurt-exec-work-'));
  const agent = await startAgent(['-dev', '-data-dir', dataDir]);
  const yurt = (args: string[], input?: string) => {
    const r = spawnSync(process.execPath, [BIN, ...args], {
      cwd: work,
      encoding: 'utf8',
      input: input ?? '',
      env: { ...process.env, YURT_FROM_SOURCE: '1', YURT_ADDR: agent.http },
      timeout: 60_000,
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  try {
    writeFileSync(join(work, 'shell.hcl'), JOB);
    const run = yurt(['job', 'run', '-detach', 'shell.hcl']);
    assert.equal(run.code, 0, run.out + run.err);
    const allocId = await eventually(async () => {
      const res = await fetch(`${agent.http}/v1/job/shell/allocations`);
      const allocs = (await res.json()) as { ID: string; TaskStates?: Record<string, { State: string }> }[];
      const a = allocs[0];
      return a?.TaskStates?.['raw']?.State === 'running' && a.TaskStates['iso']?.State === 'running' ? a.ID : undefined;
    }, 60_000, "both tasks running");

    // Streams and exit code, for both drivers.
    for (const task of ['raw', 'iso']) {
      const r = yurt(['alloc', 'exec', '-task', task, allocId, '/bin/sh', '-c', 'echo hi; echo err >&2; echo "$GREETING"; exit 3']);
      assert.equal(r.code, 3, `${task}: ${r.out}${r.err}`);
      assert.equal(r.out, `hi\nfrom-${task === 'raw' ? 'raw' : 'exec'}\n`, task);
      assert.equal(r.err, 'err\n', task);
      // stdin is piped through and closed at its end.
      const c = yurt(['alloc', 'exec', '-task', task, allocId.slice(0, 8), 'cat'], 'line one\nline two\n');
      assert.equal(c.code, 0, c.err);
      assert.equal(c.out, 'line one\nline two\n');
      // -i=false: the command sees an empty stdin.
      const n = yurt(['alloc', 'exec', '-i=false', '-task', task, allocId, 'cat'], 'ignored\n');
      assert.equal(n.code, 0, n.err);
      assert.equal(n.out, '');
    }

    // The exec task's command runs as the task does: in its chroot (the task dir is /local
    // there), as its user ("nobody") and in its PID namespace (the task's sleep is pid 3).
    const iso = yurt(['alloc', 'exec', '-task', 'iso', allocId, '/bin/sh', '-c', 'test -d /local && id -u && cat /proc/3/cmdline | tr "\\0" " "']);
    assert.equal(iso.code, 0, iso.err);
    assert.match(iso.out, /^65534\n\/bin\/sleep 300 $/);
    // The raw_exec task's command runs in the task dir.
    const raw = yurt(['alloc', 'exec', '-task', 'raw', allocId, '/bin/sh', '-c', 'pwd']);
    assert.match(raw.out, new RegExp(`/${allocId}/raw\\n$`));

    // Errors a user can cause.
    const unknown = await upgradeStatus(`${agent.http}/v1/client/allocation/00000000-0000-0000-0000-000000000000/exec?command=${encodeURIComponent('["true"]')}`);
    assert.equal(unknown, 404);
    const noAlloc = yurt(['alloc', 'exec', '-task', 'raw', '00000000-0000-0000-0000-000000000000', 'true']);
    assert.notEqual(noAlloc.code, 0);
    const notRunning = yurt(['alloc', 'exec', '-task', 'done', allocId, 'true']);
    assert.equal(notRunning.code, 1);
    assert.match(notRunning.err, /task "done" is not running/);
    const noTask = yurt(['alloc', 'exec', allocId, 'true']);
    assert.equal(noTask.code, 1);
    assert.match(noTask.err, /has 3 tasks \(raw, iso, done\): name one with -task/);
    const badTask = yurt(['alloc', 'exec', '-task', 'nope', allocId, 'true']);
    assert.match(badTask.err, /task "nope" not found/);
    // ~. leaves a terminal session whose program would go on; -e none sends it as typed.
    const t0 = Date.now();
    const left = yurt(['alloc', 'exec', '-t', '-task', 'raw', allocId, '/bin/sleep', '60'], '~.');
    assert.equal(left.code, 1, left.out + left.err);
    assert.match(left.err, /closed \(escape sequence\)/);
    assert.ok(Date.now() - t0 < 30_000, 'the session ended long before its program would have');
    const plain = yurt(['alloc', 'exec', '-t', '-e', 'none', '-task', 'raw', allocId, '/bin/sh', '-c', 'read x; echo "got $x"'], '~.\n');
    assert.equal(plain.code, 0, plain.err);
    assert.match(plain.out, /got ~\.\r\n$/);

    // -job: one of the job's running allocations (here the only one).
    const byJob = yurt(['alloc', 'exec', '-job', '-task', 'raw', 'shell', '/bin/sh', '-c', 'echo $NOMAD_ALLOC_ID']);
    assert.equal(byJob.code, 0, byJob.err);
    assert.equal(byJob.out, `${allocId}\n`);
    const noJob = yurt(['alloc', 'exec', '-job', 'nosuch', 'true']);
    assert.equal(noJob.code, 1);
    assert.match(noJob.err, /job "nosuch" doesn't exist or it has no allocations/);
    // -t: the command runs on a terminal (24x80 when the CLI itself has none), for both
    // drivers; the terminal turns its newlines into CRLF and carries the exit code.
    for (const task of ['raw', 'iso']) {
      const tty = yurt(['alloc', 'exec', '-t', '-task', task, allocId, '/bin/sh', '-c', 'test -t 0 && test -t 1 && echo on-a-terminal; sleep 0.3; stty size; exit 5']);
      assert.equal(tty.code, 5, `${task}: ${tty.out}${tty.err}`);
      assert.equal(tty.out, 'on-a-terminal\r\n24 80\r\n', task);
      // An interactive shell, with job control on its terminal, hands the terminal back and
      // exits with its own status (in the exec task's PID namespace too).
      const shell = yurt(['alloc', 'exec', '-t', '-task', task, allocId, '/bin/sh', '-i'], 'echo inside-$((6*7))\nexit 6\n');
      assert.equal(shell.code, 6, `${task}: ${shell.out}${shell.err}`);
      assert.match(shell.out, /inside-42/, task);
      assert.doesNotMatch(shell.out, /Cannot set tty process group/, task);
    }
    const missing = yurt(['alloc', 'exec', '-task', 'raw', allocId, '/no/such/program']);
    assert.notEqual(missing.code, 0);

    // The raw websocket protocol, as Nomad's API clients speak it.
    const ws = new WebSocket(`${agent.http.replace('http', 'ws')}/v1/client/allocation/${allocId}/exec?task=raw&command=${encodeURIComponent('["/bin/sh","-c","read x; echo got $x; exit 7"]')}`);
    const frames: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => ws.send(JSON.stringify({ stdin: { data: Buffer.from('ping\n').toString('base64') } })));
      ws.on('message', (d: Buffer) => frames.push(JSON.parse(d.toString('utf8'))));
      ws.on('close', () => resolve());
      ws.on('error', reject);
    });
    assert.deepEqual(frames, [
      { stdout: { data: Buffer.from('got ping\n').toString('base64') } },
      { exited: true, result: { exit_code: 7 } },
    ]);

    // A terminal session over the raw protocol: the size from the first tty_size frame, then
    // a resize while the command runs, which it sees (stty reads the terminal's new size).
    const tws = new WebSocket(`${agent.http.replace('http', 'ws')}/v1/client/allocation/${allocId}/exec?task=raw&tty=true&command=${encodeURIComponent('["/bin/sh","-c","sleep 0.3; stty size; sleep 1.2; stty size"]')}`);
    let out = '';
    let exited: unknown = null;
    await new Promise<void>((resolve, reject) => {
      tws.on('open', () => {
        tws.send(JSON.stringify({ tty_size: { height: 50, width: 132 } }));
        setTimeout(() => tws.send(JSON.stringify({ tty_size: { height: 40, width: 100 } })), 800);
      });
      tws.on('message', (d: Buffer) => {
        const f = JSON.parse(d.toString('utf8')) as { stdout?: { data: string }; exited?: boolean; result?: unknown };
        if (f.stdout) out += Buffer.from(f.stdout.data, 'base64').toString('utf8');
        if (f.exited) exited = f.result;
      });
      tws.on('close', () => resolve());
      tws.on('error', reject);
    });
    assert.equal(out, '50 132\r\n40 100\r\n');
    assert.deepEqual(exited, { exit_code: 0 });
  } finally {
    await agent.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
});

void test('a server relays alloc exec to the client that runs the allocation', { timeout: 180_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'yurt-exec-relay-'));
  const agents: AgentProcess[] = [];
  try {
    const serverRpc = await freePort();
    const server = await startAgent(['-server', '-bootstrap-expect', '1', '-node', 's1', '-data-dir', join(root, 's1')], { rpcPort: serverRpc });
    agents.push(server);
    writeFileSync(join(root, 'client.hcl'), 'client {\n  options = {\n    "driver.raw_exec.enable" = "true"\n  }\n}\n');
    agents.push(await startAgent(['-client', '-node', 'c1', '-data-dir', join(root, 'c1'), '-servers', `127.0.0.1:${serverRpc}`, '-config', join(root, 'client.hcl')]));
    writeFileSync(join(root, 'relay.hcl'), JOB.replace('job "shell"', 'job "relay"').replace(/    task "iso" \{[\s\S]*?\n    \}\n    task "done"/, '    task "done"'));
    const yurt = (args: string[], input = '') => {
      const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', env: { ...process.env, YURT_FROM_SOURCE: '1', YURT_ADDR: server.http }, timeout: 60_000 });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    const run = yurt(['job', 'run', '-detach', join(root, 'relay.hcl')]);
    assert.equal(run.code, 0, run.out + run.err);
    const allocId = await eventually(async () => {
      const allocs = (await (await fetch(`${server.http}/v1/job/relay/allocations`)).json()) as { ID: string; TaskStates?: Record<string, { State: string }> }[];
      return allocs[0]?.TaskStates?.['raw']?.State === 'running' ? allocs[0].ID : undefined;
    }, 60_000, 'the raw task running on the client');
    // The server runs no client: it passes the websocket on to the client agent's HTTP address.
    const r = yurt(['alloc', 'exec', '-task', 'raw', allocId, '/bin/sh', '-c', 'cat; echo err >&2; exit 4'], 'through the server\n');
    assert.equal(r.code, 4, r.err);
    assert.equal(r.out, 'through the server\n');
    assert.equal(r.err, 'err\n');
    // The client's refusal reaches the user as it was given.
    const bad = yurt(['alloc', 'exec', '-task', 'nope', allocId, 'true']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /task "nope" not found/);
    const stop = yurt(['job', 'stop', '-detach', 'relay']);
    assert.equal(stop.code, 0, stop.err);
    await eventually(async () => {
      const allocs = (await (await fetch(`${server.http}/v1/job/relay/allocations`)).json()) as { ClientStatus: string }[];
      return allocs.every((a) => a.ClientStatus !== 'running') ? true : undefined;
    }, 60_000, 'the relay job stopped');
  } finally {
    for (const a of agents.reverse()) await a.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

/** The HTTP status a websocket upgrade request is refused with. */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      reject(new Error('the upgrade was accepted'));
    });
    req.on('error', reject);
  });
}
