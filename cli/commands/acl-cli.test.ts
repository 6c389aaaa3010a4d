/**
 * The `acl` and `namespace` commands against a real `yurt agent` process (server only, ACLs
 * enabled by its config file), run in-process with captured output.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { runCli } from '../run-cli.js';
import { captureIo } from '../testdata/capture-io.js';

const BIN = fileURLToPath(new URL('../../bin/yurt.js', import.meta.url));
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

let proc: ChildProcess;
let address = '';
let dir = '';
let mgmtSecret = '';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function yurt(env: Record<string, string>, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo({ env: { YURT_ADDR: address, ...env }, cwd: dir, nowMs: Date.now() });
  const code = await runCli(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

const asMgmt = (): Record<string, string> => ({ YURT_TOKEN: mgmtSecret });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'yurt-acl-cli-'));
  writeFileSync(join(dir, 'agent.hcl'), 'acl {\n  enabled = true\n}\n');
  const http = await freePort();
  const rpc = await freePort();
  address = `http://127.0.0.1:${http}`;
  proc = spawn(
    process.execPath,
    [BIN, 'agent', '-server', '-bootstrap-expect', '1', '-data-dir', join(dir, 'data'), '-config', join(dir, 'agent.hcl'), '-bind', '127.0.0.1', '-http-port', String(http), '-rpc-port', String(rpc)],
    { env: { ...process.env, YURT_FROM_SOURCE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`agent exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`agent did not elect itself leader:\n${output}`);
    const leader = await fetch(`${address}/v1/status/leader`).then((r) => (r.ok ? r.text() : ''), () => '');
    if (leader.length > 2) break;
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(async () => {
  if (proc.exitCode === null) {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

void test('acl bootstrap prints the management token once; a second bootstrap fails', async () => {
  const r = await yurt({}, 'acl', 'bootstrap');
  assert.equal(r.err, '');
  assert.equal(r.code, 0);
  assert.match(
    r.out,
    new RegExp(
      `^Accessor ID  = ${UUID}\nSecret ID    = (${UUID})\nName         = Bootstrap Token\nType         = management\nGlobal       = true\nCreate Time  = \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} \\+0000 UTC\nExpiry Time  = <none>\nCreate Index = \\d+\nModify Index = \\d+\nPolicies     = n/a\n$`,
    ),
  );
  mgmtSecret = /Secret ID    = (\S+)/.exec(r.out)![1]!;
  const again = await yurt({}, 'acl', 'bootstrap');
  assert.equal(again.code, 1);
  assert.match(again.err, /^Error bootstrapping: ACL bootstrap already done \(reset index: \d+\)\n$/);
});

void test('acl policy apply | list | info | delete, with rule errors by file and line', async () => {
  writeFileSync(join(dir, 'readonly.hcl'), 'namespace "default" {\n  policy = "read"\n}\n');
  writeFileSync(join(dir, 'bad.hcl'), 'namespace "default" {\n  policy = "root"\n}\n');
  const denied = await yurt({}, 'acl', 'policy', 'apply', 'readonly', 'readonly.hcl');
  assert.equal(denied.code, 1);
  assert.equal(denied.err, 'Error writing ACL policy: Permission denied\n');

  const ok = await yurt(asMgmt(), 'acl', 'policy', 'apply', '-description', 'Read the default namespace', 'readonly', 'readonly.hcl');
  assert.equal(ok.err, '');
  assert.equal(ok.out, 'Successfully wrote "readonly" ACL policy!\n');
  const bad = await yurt(asMgmt(), 'acl', 'policy', 'apply', 'broken', 'bad.hcl');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /broken\.hcl:2,3: namespace "default"\.policy: invalid policy "root"/);

  const list = await yurt(asMgmt(), 'acl', 'policy', 'list');
  assert.equal(list.out, 'Name      Description\nreadonly  Read the default namespace\n');
  const info = await yurt(asMgmt(), 'acl', 'policy', 'info', 'readonly');
  assert.match(info.out, /^Name        = readonly\nDescription = Read the default namespace\nCreateIndex = \d+\nModifyIndex = \d+\n\nRules:\n\nnamespace "default" \{\n  policy = "read"\n\}\n$/);
  const json = await yurt(asMgmt(), 'acl', 'policy', 'info', '-json', 'readonly');
  assert.equal((JSON.parse(json.out) as { Rules: string }).Rules, 'namespace "default" {\n  policy = "read"\n}\n');

  writeFileSync(join(dir, 'tmp.hcl'), 'node {\n  policy = "read"\n}\n');
  await yurt(asMgmt(), 'acl', 'policy', 'apply', 'tmp', 'tmp.hcl');
  const del = await yurt(asMgmt(), 'acl', 'policy', 'delete', 'tmp');
  assert.equal(del.out, 'Successfully deleted "tmp" ACL policy!\n');
  const gone = await yurt(asMgmt(), 'acl', 'policy', 'info', 'tmp');
  assert.equal(gone.code, 1);
  assert.match(gone.err, /ACL policy not found/);
});

void test('acl token create | list | info | self | update | delete; -token and NOMAD_TOKEN', async () => {
  const created = await yurt(asMgmt(), 'acl', 'token', 'create', '-name', 'alice', '-policy', 'readonly', '-ttl', '1h');
  assert.equal(created.err, '');
  assert.match(created.out, /Name         = alice\nType         = client\nGlobal       = false\n/);
  assert.match(created.out, /Expiry Time  = \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \+0000 UTC\n/);
  assert.match(created.out, /Policies     = \[readonly\]\n$/);
  const accessor = /Accessor ID  = (\S+)/.exec(created.out)![1]!;
  const secret = /Secret ID    = (\S+)/.exec(created.out)![1]!;

  const list = await yurt(asMgmt(), 'acl', 'token', 'list');
  const lines = list.out.trimEnd().split('\n');
  assert.match(lines[0]!, /^Name\s+Type\s+Global\s+Accessor ID\s+Expired$/);
  assert.ok(lines.some((l) => new RegExp(`^alice\\s+client\\s+false\\s+${accessor}\\s+false$`).test(l)), list.out);
  assert.ok(lines.some((l) => /^Bootstrap Token\s+management\s+true\s+\S+\s+false$/.test(l)), list.out);
  assert.ok(!list.out.includes(secret), 'the list shows no secrets');

  // NOMAD_TOKEN is read when YURT_TOKEN is unset, and -token beats both.
  const self = await yurt({ NOMAD_TOKEN: secret }, 'acl', 'token', 'self');
  assert.match(self.out, new RegExp(`^Accessor ID  = ${accessor}\n`));
  const flag = await yurt({ YURT_TOKEN: secret }, 'acl', 'token', 'self', '-token', mgmtSecret);
  assert.match(flag.out, /Name         = Bootstrap Token/);
  const info = await yurt({ YURT_TOKEN: secret }, 'acl', 'token', 'info', accessor);
  assert.match(info.out, /Name         = alice/);
  const notMine = await yurt({ YURT_TOKEN: secret }, 'acl', 'token', 'list');
  assert.equal(notMine.code, 1);
  assert.equal(notMine.err, 'Error listing tokens: Permission denied\n');

  const updated = await yurt(asMgmt(), 'acl', 'token', 'update', '-name', 'alice2', accessor);
  assert.match(updated.out, /Name         = alice2\n[\s\S]*Policies     = \[readonly\]/);
  const noPolicy = await yurt(asMgmt(), 'acl', 'token', 'create', '-name', 'x', '-policy', 'nope');
  assert.equal(noPolicy.code, 1);
  assert.match(noPolicy.err, /ACL policy not found: nope/);

  const del = await yurt(asMgmt(), 'acl', 'token', 'delete', accessor);
  assert.equal(del.out, `Token ${accessor} successfully deleted\n`);
  const revoked = await yurt({ YURT_TOKEN: secret }, 'acl', 'token', 'self');
  assert.equal(revoked.code, 1);
  assert.equal(revoked.err, 'Error fetching self token: ACL token not found\n');
});

void test('namespace apply | list | status | delete', async () => {
  const applied = await yurt(asMgmt(), 'namespace', 'apply', '-description', 'QA instances', 'web-qa');
  assert.equal(applied.err, '');
  assert.equal(applied.out, 'Successfully applied namespace "web-qa"!\n');
  writeFileSync(join(dir, 'ops.hcl'), 'name        = "ops"\ndescription = "Operations"\nmeta {\n  owner = "ops-team"\n}\n');
  assert.equal((await yurt(asMgmt(), 'namespace', 'apply', 'ops.hcl')).out, 'Successfully applied namespace "ops"!\n');
  // Re-applying by name keeps what the command line leaves out.
  await yurt(asMgmt(), 'namespace', 'apply', 'ops');

  const list = await yurt(asMgmt(), 'namespace', 'list');
  assert.equal(list.out, 'Name     Description\ndefault  Default shared namespace\nops      Operations\nweb-qa   QA instances\n');
  const status = await yurt(asMgmt(), 'namespace', 'status', 'ops');
  assert.equal(status.out, 'Name        = ops\nDescription = Operations\nQuota       = <none>\n\nMetadata\nowner = ops-team\n');

  // A token sees only the namespaces it has a capability in.
  const reader = await yurt(asMgmt(), 'acl', 'token', 'create', '-name', 'reader', '-policy', 'readonly');
  const secret = /Secret ID    = (\S+)/.exec(reader.out)![1]!;
  assert.equal((await yurt({ YURT_TOKEN: secret }, 'namespace', 'list')).out, 'Name     Description\ndefault  Default shared namespace\n');
  const denied = await yurt({ YURT_TOKEN: secret }, 'namespace', 'apply', 'mine');
  assert.equal(denied.code, 1);

  const bad = await yurt(asMgmt(), 'namespace', 'apply', 'no_underscores');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /Name: invalid name "no_underscores"/);
  const dflt = await yurt(asMgmt(), 'namespace', 'delete', 'default');
  assert.equal(dflt.code, 1);
  assert.match(dflt.err, /default namespace can not be deleted/);
  assert.equal((await yurt(asMgmt(), 'namespace', 'delete', 'web-qa')).out, 'Successfully deleted namespace "web-qa"!\n');
  const gone = await yurt(asMgmt(), 'namespace', 'status', 'web-qa');
  assert.equal(gone.code, 1);
  assert.match(gone.err, /namespace not found/);
});
