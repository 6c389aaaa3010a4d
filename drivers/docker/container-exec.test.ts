/**
 * `alloc exec` into a docker task against the real engine, with a locally built busybox
 * image. Without an engine the tests skip with the reason, or fail in CI (testing/docker-engine.ts).
 */
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import Dockerode from 'dockerode';
import { YurtError } from '../../structs/errors.js';
import { createDockerDriver, type DockerDriver } from './index.js';
import { importBusyboxImage, removeImages } from './testing/busybox-image.js';
import { engineProblem, needDocker, TEST_SOCKET } from './testing/docker-engine.js';
import { dockerTaskFixture, type DockerTaskFixture } from './testing/docker-task-fixture.js';

const RUN = `${process.pid}-${Date.now().toString(36)}`;
const OWNER = `docker-exec-test-${RUN}`;
const IMAGE = `yurt-test-exec-busybox:${RUN}`;
const docker = new Dockerode({ socketPath: TEST_SOCKET });
let driver: DockerDriver | null = null;
const fixtures: DockerTaskFixture[] = [];

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.setEncoding('utf8').on('data', (c: string) => (text += c));
  return { stream, text: () => text };
}

before(async () => {
  if ((await engineProblem()) === null) await importBusyboxImage(docker, IMAGE);
});

after(async () => {
  await driver?.close();
  if ((await engineProblem()) === null) {
    const leftovers = await docker.listContainers({ all: true, filters: { label: [`com.yurt.owner=${OWNER}`] } });
    for (const c of leftovers) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    await removeImages(docker, [IMAGE]);
  }
  for (const f of fixtures) await f.cleanup();
});

void describe('docker driver: exec', () => {
  void it('runs a command in the running container with separate streams, stdin and exit code', async (t) => {
    if (!(await needDocker(t))) return;
    driver = createDockerDriver({ socketPath: TEST_SOCKET, ownerId: OWNER, killGraceMs: 5000 });
    const f = await dockerTaskFixture({ config: { image: IMAGE, network_mode: 'none', command: '/bin/sleep', args: ['300'] }, env: { GREETING: 'from-docker' } });
    fixtures.push(f);
    const handle = await driver.start(f.cfg);
    try {
      assert.equal(driver.capabilities().exec, true);
      const out = collect();
      const err = collect();
      const r = await driver.exec(handle, {
        command: ['/bin/sh', '-c', 'echo hi; echo err >&2; echo "$GREETING"; exit 3'],
        stdin: null,
        stdout: out.stream,
        stderr: err.stream,
      });
      assert.equal(r.exitCode, 3);
      assert.equal(out.text(), 'hi\nfrom-docker\n');
      assert.equal(err.text(), 'err\n');

      const piped = collect();
      const c = await driver.exec(handle, { command: ['cat'], stdin: Readable.from([Buffer.from('one\ntwo\n')]), stdout: piped.stream, stderr: collect().stream });
      assert.equal(c.exitCode, 0);
      assert.equal(piped.text(), 'one\ntwo\n');

      // With a terminal: one stream, the user's size, then a resize the command sees.
      let resize: (rows: number, cols: number) => void = () => undefined;
      const term = collect();
      const pending = driver.exec(handle, {
        command: ['/bin/sh', '-c', 'test -t 1 && echo on-a-terminal; echo err >&2; sleep 0.3; stty size; sleep 1; stty size; exit 4'],
        stdin: null,
        stdout: term.stream,
        stderr: collect().stream,
        tty: { rows: 50, cols: 132, onResize: (l) => (resize = l) },
      });
      setTimeout(() => resize(40, 100), 700);
      const tr = await pending;
      assert.equal(tr.exitCode, 4);
      assert.equal(term.text(), 'on-a-terminal\r\nerr\r\n50 132\r\n40 100\r\n');
    } finally {
      await driver.stop(handle.taskId, 'SIGKILL', 0);
      await driver.destroy(handle.taskId);
    }
    await assert.rejects(
      driver.exec(handle, { command: ['true'], stdin: null, stdout: collect().stream, stderr: collect().stream }),
      (e: unknown) => e instanceof YurtError && e.code === 'not_found',
    );
  });
});
