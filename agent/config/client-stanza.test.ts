/**
 * The client stanza's GC and drain_on_shutdown settings: decoded from HCL with Nomad's names,
 * defaults when absent, and bad values reported with file, line and column.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ValidationError, YurtError } from '../../structs/errors.js';
import { defaultAgentConfig } from './agent-config.js';
import { loadConfigFiles } from './config-files.js';
import { resolveAgentConfig } from './resolve-config.js';
import { driverOptionsFromConfig } from '../client/client-options-from-config.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yurt-client-stanza-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const f = join(dir, name);
  await writeFile(f, text);
  return f;
}

void describe('client stanza: gc and drain_on_shutdown', () => {
  void it('decodes gc_max_allocs, gc_disk_usage_threshold and drain_on_shutdown', async () => {
    const f = await file(
      'ok.hcl',
      `client {
  gc_max_allocs           = 200
  gc_disk_usage_threshold = 92.5
  drain_on_shutdown {
    deadline           = "5m"
    force              = true
    ignore_system_jobs = true
  }
}
`,
    );
    const c = await loadConfigFiles([f]);
    assert.equal(c.client?.gcMaxAllocs, 200);
    assert.equal(c.client?.gcDiskUsageThreshold, 92.5);
    assert.deepEqual(c.client?.drainOnShutdown, { enabled: true, deadlineMs: 300_000, force: true, ignoreSystemJobs: true });
  });

  void it('an empty drain_on_shutdown block turns it on with Nomad\'s defaults', async () => {
    const c = await loadConfigFiles([await file('empty.hcl', 'client {\n  drain_on_shutdown {}\n}\n')]);
    assert.deepEqual(c.client?.drainOnShutdown, { enabled: true });
    const d = defaultAgentConfig({ hostname: 'h', cpuCount: 1 }).client;
    assert.deepEqual(d.drainOnShutdown, { enabled: false, deadlineMs: 3_600_000, force: false, ignoreSystemJobs: false });
    assert.equal(d.gcMaxAllocs, 50);
    assert.equal(d.gcDiskUsageThreshold, 80);
  });

  void it('reports bad values with file, line and column', async () => {
    const f = await file(
      'bad.hcl',
      `client {
  gc_max_allocs           = 0
  gc_disk_usage_threshold = 150
  drain_on_shutdown {
    deadline = "soon"
    forse    = true
  }
}
`,
    );
    await assert.rejects(loadConfigFiles([f]), (e: unknown) => {
      assert.ok(e instanceof ValidationError);
      const text = e.errors.map((x) => `${x.pos ?? ''}: ${x.path}: ${x.message}`).join('\n');
      assert.match(text, new RegExp(`${f}:2,3: client.gc_max_allocs: must be >= 1, got 0`));
      assert.match(text, new RegExp(`${f}:3,3: client.gc_disk_usage_threshold: must be a percentage between 0 and 100, got 150`));
      assert.match(text, new RegExp(`${f}:5,5: client.drain_on_shutdown.deadline: expected a duration`));
      assert.match(text, /client\.drain_on_shutdown\.forse: unknown key in drain_on_shutdown block \(did you mean "force"\?\)/);
      return true;
    });
  });
});

void describe('client stanza: chroot_env', () => {
  void it("decodes Nomad's chroot_env map, reaching the exec driver in place of the default set", async () => {
    const f = await file('chroot.hcl', 'client {\n  chroot_env = {\n    "/bin" = "/bin"\n    "/usr" = "/usr"\n    "/opt/conda" = "/opt/conda"\n  }\n}\n');
    const c = await loadConfigFiles([f]);
    assert.deepEqual(c.client?.chrootEnv, { '/bin': '/bin', '/usr': '/usr', '/opt/conda': '/opt/conda' });
    assert.deepEqual(defaultAgentConfig({ hostname: 'h', cpuCount: 1 }).client.chrootEnv, {}, 'unset: the exec driver keeps its default set');
    // ...and on to the exec driver the client builds.
    const where = { nodeId: 'n1', dataDir: dir };
    const resolved = await resolveAgentConfig(['-client', '-config', f, '-data-dir', dir], { hostname: 'h', cpuCount: 1 });
    assert.deepEqual(driverOptionsFromConfig(resolved, where).exec, { chrootEnv: { '/bin': '/bin', '/usr': '/usr', '/opt/conda': '/opt/conda' } });
    const plain = await resolveAgentConfig(['-client', '-data-dir', dir], { hostname: 'h', cpuCount: 1 });
    assert.equal(driverOptionsFromConfig(plain, where).exec, undefined);
  });

  void it('reports a relative path with the file, the line of chroot_env and the key', async () => {
    const f = await file('chroot-bad.hcl', 'client {\n  chroot_env = {\n    "/bin" = "/bin"\n    "opt" = "/opt"\n  }\n}\n');
    await assert.rejects(loadConfigFiles([f]), (e: unknown) => {
      assert.ok(e instanceof ValidationError);
      const text = e.errors.map((x) => `${x.pos ?? ''}: ${x.path}: ${x.message}`).join('\n');
      assert.match(text, new RegExp(`${f}:2,3: client.chroot_env.opt: both the host path and the path in the task must be absolute, got "opt" = "/opt"`));
      return true;
    });
  });
});

void describe('client stanza: HCL1 habits', () => {
  void it("a block of quoted keys, as Nomad's HCL1 agent files write it, fails with the HCL2 form to use instead", async () => {
    const f = await file('hcl1.hcl', 'client {\n  chroot_env {\n    "/bin" = "/bin"\n  }\n}\n');
    await assert.rejects(loadConfigFiles([f]), (e: unknown) => {
      assert.ok(e instanceof YurtError && e.code === 'parse_error');
      assert.match(e.message, new RegExp(`^${f}:3,5`));
      assert.match(e.message, /is a map here: `chroot_env = \{ "\/bin" = "\/bin" \}`/);
      return true;
    });
  });
});
