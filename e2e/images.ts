/**
 * The images the suite runs, all built on this host (no registry is reachable):
 * - the yurt image and its Docker-in-Docker client variant, by deploy/docker/build-image.sh
 *   from this checkout's sources;
 * - the task image the nested containers run: Debian's static busybox (httpd, sh, sleep)
 *   imported from a rootfs. Its tag is not `latest`, which the docker driver always pulls.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runOk } from './process-run.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

export interface Images {
  yurt: string;
  dind: string;
  task: string;
}

export const TASK_IMAGE = 'yurt-e2e-busybox:1';

/** What goes into the images: a change to any of these files makes a new image. */
const IMAGE_INPUTS = ['agent', 'api', 'cli', 'consensus', 'drivers', 'scheduler', 'structs', 'bin', 'deploy/docker', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];

/**
 * The images for this checkout, tagged with a digest of their inputs (tracked and untracked,
 * not ignored files), so that a second run on unchanged sources reuses them instead of
 * compiling again (minutes on a loaded 2-core machine).
 */
export async function e2eImages(): Promise<Images> {
  const files = (await runOk('git', ['ls-files', '-co', '--exclude-standard', '--', ...IMAGE_INPUTS], { cwd: REPO })).stdout.split('\n').filter(Boolean).sort();
  const hash = createHash('sha256');
  for (const f of files) {
    hash.update(`${f}\0`);
    hash.update(await readFile(join(REPO, f)).catch(() => Buffer.from('(deleted)')));
  }
  const tag = `src-${hash.digest('hex').slice(0, 12)}`;
  return { yurt: `yurt-e2e:${tag}`, dind: `yurt-e2e-dind:${tag}`, task: TASK_IMAGE };
}

export async function buildYurtImages(images: Images, log: (s: string) => void): Promise<void> {
  const r = await runOk('bash', [join(REPO, 'deploy/docker/build-image.sh'), '--tag', images.yurt, '--base-tag', 'yurt-e2e-base:latest', '--dind-tag', images.dind], {
    timeoutMs: 600_000,
  });
  for (const line of r.stdout.trim().split('\n')) log(`  ${line}`);
  // Images of older sources are not needed any more.
  for (const repo of ['yurt-e2e', 'yurt-e2e-dind']) {
    const tags = (await runOk('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', repo])).stdout.split('\n').filter(Boolean);
    const stale = tags.filter((t) => t !== images.yurt && t !== images.dind);
    if (stale.length > 0) await runOk('docker', ['rmi', ...stale]).catch(() => undefined);
  }
}

export async function buildTaskImage(tag: string, busybox = '/bin/busybox'): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'yurt-e2e-img-'));
  try {
    const root = join(dir, 'root');
    await mkdir(join(root, 'bin'), { recursive: true });
    await mkdir(join(root, 'www'));
    await mkdir(join(root, 'tmp'));
    await copyFile(busybox, join(root, 'bin/busybox'));
    const applets = (await runOk(busybox, ['--list'])).stdout.split('\n').filter((a) => a && a !== 'busybox');
    await Promise.all(applets.map((a) => symlink('busybox', join(root, 'bin', a))));
    await writeFile(join(root, 'www/index.html'), 'yurt e2e\n');
    await runOk('sh', ['-c', `tar -C "$1" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - "$2"`, 'import', root, tag], { timeoutMs: 60_000 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
