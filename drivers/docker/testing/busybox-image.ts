/**
 * Test images for the docker driver, built offline: a root filesystem holding Debian's
 * static busybox (package busybox-static) and a symlink per applet, imported into the
 * engine (`docker import`, well under a second). No registry is involved.
 */
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';
import { tarArchive, type TarEntry } from './rootfs-tar.js';

export const BUSYBOX_PATH = '/bin/busybox';

/** Fails with the package to install when busybox is missing or not static. */
export async function busyboxRootfs(busybox = BUSYBOX_PATH): Promise<Buffer> {
  const st = await stat(busybox).catch(() => null);
  if (st === null) throw new Error(`${busybox} not found: install Debian's busybox-static package`);
  const data = await readFile(busybox);
  // A dynamically linked busybox would not run in an image without a libc.
  if (hasInterpreter(data)) throw new Error(`${busybox} is dynamically linked: install busybox-static instead of busybox`);
  const { stdout } = await promisify(execFile)(busybox, ['--list']);
  const applets = stdout.split('\n').filter((a) => /^[\w.[-]+$/.test(a) && a !== 'busybox');
  const entries: TarEntry[] = [
    { type: 'dir', path: 'bin' },
    { type: 'dir', path: 'etc' },
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'file', path: 'bin/busybox', data, mode: 0o755 },
    { type: 'file', path: 'etc/passwd', data: Buffer.from('root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n') },
    { type: 'file', path: 'etc/group', data: Buffer.from('root:x:0:\nnogroup:x:65534:\n') },
    ...applets.map((a): TarEntry => ({ type: 'symlink', path: `bin/${a}`, target: 'busybox' })),
  ];
  return tarArchive(entries);
}

/** Whether a 64-bit ELF executable names a dynamic loader (has a PT_INTERP program header). */
function hasInterpreter(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) return false;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  const PT_INTERP = 3;
  for (let i = 0; i < phnum; i++) {
    if (elf.readUInt32LE(phoff + i * phentsize) === PT_INTERP) return true;
  }
  return false;
}

/** Import a busybox image as `ref` ("repo:tag"); resolves once the engine has it. */
export async function importBusyboxImage(docker: Dockerode, ref: string): Promise<void> {
  const colon = ref.lastIndexOf(':');
  const [repo, tag] = colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
  const rootfs = await busyboxRootfs();
  const stream = await docker.importImage(Readable.from([rootfs]), { repo, tag });
  let body = '';
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (c: Buffer) => (body += c.toString()));
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  if (body.includes('"error"')) throw new Error(`docker import of ${ref} failed: ${body}`);
}

/** Remove test images; missing ones are fine. */
export async function removeImages(docker: Dockerode, refs: string[]): Promise<void> {
  for (const ref of refs) await docker.getImage(ref).remove({ force: true }).catch(() => undefined);
}
