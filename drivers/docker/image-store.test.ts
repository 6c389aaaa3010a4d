import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Dockerode from 'dockerode';
import { YurtError } from '../../structs/errors.js';
import { ImageStore, imageTag, type ImageRequest } from './image-store.js';
import { importBusyboxImage, removeImages } from './testing/busybox-image.js';
import { engineProblem, needDocker, TEST_SOCKET } from './testing/docker-engine.js';

const RUN = `${process.pid}-${Date.now().toString(36)}`;
const PINNED = `yurt-test-pinned:${RUN}`;
const LATEST = `yurt-test-latest-${RUN}`;
const docker = new Dockerode({ socketPath: TEST_SOCKET });

const request = (image: string, over: Partial<ImageRequest> = {}): ImageRequest => ({
  image, forcePull: false, pullTimeoutMs: 20_000, load: null, taskDir: '/nonexistent', ...over,
});

before(async () => {
  if ((await engineProblem()) !== null) return;
  await importBusyboxImage(docker, PINNED);
  await importBusyboxImage(docker, `${LATEST}:latest`);
});

after(async () => {
  if ((await engineProblem()) === null) await removeImages(docker, [PINNED, `${LATEST}:latest`]);
});

void describe('image references', () => {
  void it('reads the tag, defaulting to latest, ignoring registry ports', () => {
    assert.equal(imageTag('redis:7'), '7');
    assert.equal(imageTag('redis'), 'latest');
    assert.equal(imageTag('localhost:5000/team/app'), 'latest');
    assert.equal(imageTag('localhost:5000/team/app:v2'), 'v2');
    assert.equal(imageTag('redis@sha256:abcd'), null);
  });
});

void describe('image store (real engine)', () => {
  void it('uses an image already on the host without pulling', async (t) => {
    if (!(await needDocker(t))) return;
    const r = await new ImageStore(docker).ensure(request(PINNED));
    assert.equal(r.source, 'local');
    assert.match(r.imageId, /^sha256:/);
  });

  void it('tries to pull a "latest" image, and runs the local copy when the registry is out of reach', async (t) => {
    if (!(await needDocker(t))) return;
    const r = await new ImageStore(docker).ensure(request(LATEST));
    assert.equal(r.source, 'local-after-failed-pull');
    assert.match(r.pullError ?? '', new RegExp(`pulling it failed`));
  });

  void it('force_pull fails when the pull fails, even with a local copy', async (t) => {
    if (!(await needDocker(t))) return;
    await assert.rejects(
      new ImageStore(docker).ensure(request(PINNED, { forcePull: true })),
      (e: unknown) => e instanceof YurtError && e.code === 'unavailable' && e.message.includes(`"${PINNED}"`),
    );
  });
});
