/**
 * Getting a task's image onto the engine: from the engine's own store, from an image
 * tarball in the task dir (`load`), or by pulling. A pull is bounded by image_pull_timeout:
 * the request is aborted (the engine cancels the pull when its client goes away) and the
 * task fails with a clear error instead of hanging on a registry that does not answer.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type Dockerode from 'dockerode';
import { formatDuration } from '../../structs/duration.js';
import { YurtError } from '../../structs/errors.js';
import { engineError, engineMessage, isNotFound } from './docker-errors.js';

export interface ImageRequest {
  image: string;
  forcePull: boolean;
  pullTimeoutMs: number;
  /** Tarball path relative to the task dir, or null. */
  load: string | null;
  taskDir: string;
}

/** What ensureImage did, for the task's events. */
export interface ImageResult {
  imageId: string;
  source: 'local' | 'loaded' | 'pulled' | 'local-after-failed-pull';
  /** Why a pull failed when the local copy was used instead. */
  pullError?: string;
}

/** The tag of an image reference: "redis:7" → "7", "redis" → "latest", digests → null. */
export function imageTag(ref: string): string | null {
  if (ref.includes('@')) return null;
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > lastSlash ? ref.slice(colon + 1) : 'latest';
}

export class ImageStore {
  /** Pulls in flight by reference, so tasks starting together share one pull. */
  private readonly pulls = new Map<string, Promise<void>>();

  constructor(private readonly docker: Dockerode) {}

  /**
   * Nomad's rules: `load` first when given; otherwise an image already on the host is used
   * unless force_pull is set or the tag is "latest" (which is always pulled to stay current).
   * Where a "latest" pull fails but a copy is on the host, that copy runs: hosts here often
   * have no registry at all, and an older image beats a task that cannot start. force_pull
   * is the job author insisting on the registry's current image, so its failure fails the task.
   */
  async ensure(req: ImageRequest): Promise<ImageResult> {
    if (req.load !== null) {
      await this.load(req);
      const id = await this.localId(req.image);
      if (id === null) {
        throw new YurtError('invalid_argument', `image tarball "${req.load}" was loaded but does not contain image "${req.image}"`);
      }
      return { imageId: id, source: 'loaded' };
    }
    const isLatest = imageTag(req.image) === 'latest';
    const local = await this.localId(req.image);
    if (local !== null && !req.forcePull && !isLatest) return { imageId: local, source: 'local' };
    try {
      await this.pull(req.image, req.pullTimeoutMs);
    } catch (e) {
      if (local !== null && !req.forcePull) return { imageId: local, source: 'local-after-failed-pull', pullError: (e as Error).message };
      throw e;
    }
    const id = await this.localId(req.image);
    if (id === null) throw new YurtError('internal', `image "${req.image}" was pulled but the engine does not list it`);
    return { imageId: id, source: 'pulled' };
  }

  /** The image's ID when the engine has it, else null. */
  async localId(ref: string): Promise<string | null> {
    try {
      const info = await this.docker.getImage(ref).inspect();
      return info.Id;
    } catch (e) {
      if (isNotFound(e)) return null;
      throw engineError(`inspecting image "${ref}"`, e);
    }
  }

  private async load(req: ImageRequest): Promise<void> {
    const path = resolve(req.taskDir, req.load ?? '');
    const st = await stat(path).catch(() => null);
    if (st === null || !st.isFile()) {
      throw new YurtError('invalid_argument', `image tarball "${req.load}" (${path}) does not exist in the task dir`);
    }
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.docker.loadImage(createReadStream(path), { quiet: true });
    } catch (e) {
      throw engineError(`loading image tarball "${req.load}"`, e);
    }
    // The engine reports a bad tarball inside the 200 response, as {"errorDetail": ...}.
    const messages = await readJsonLines(stream);
    const failed = messages.find((m) => typeof m['error'] === 'string');
    if (failed !== undefined) throw new YurtError('invalid_argument', `loading image tarball "${req.load}": ${String(failed['error'])}`);
  }

  private pull(ref: string, timeoutMs: number): Promise<void> {
    let p = this.pulls.get(ref);
    if (p === undefined) {
      p = this.pullOnce(ref, timeoutMs).finally(() => this.pulls.delete(ref));
      this.pulls.set(ref, p);
    }
    return p;
  }

  private async pullOnce(ref: string, timeoutMs: number): Promise<void> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    const timedOut = () =>
      new YurtError('timeout', `pulling image "${ref}" did not finish within ${formatDuration(timeoutMs * 1e6)} (image_pull_timeout)`);
    try {
      let stream: NodeJS.ReadableStream;
      try {
        stream = await this.docker.pull(ref, { abortSignal: abort.signal });
      } catch (e) {
        if (abort.signal.aborted) throw timedOut();
        throw new YurtError('unavailable', `image "${ref}" is not on this host and pulling it failed: ${engineMessage(e)}`, { cause: e });
      }
      let messages: Record<string, unknown>[];
      try {
        messages = await readJsonLines(stream);
      } catch (e) {
        if (abort.signal.aborted) throw timedOut();
        throw new YurtError('unavailable', `pulling image "${ref}" failed: ${(e as Error).message}`, { cause: e });
      }
      const failed = messages.find((m) => typeof m['error'] === 'string');
      if (failed !== undefined) {
        throw new YurtError('unavailable', `image "${ref}" is not on this host and pulling it failed: ${String(failed['error'])}`);
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The engine's progress streams: one JSON object per line. Resolves at the end of the stream. */
function readJsonLines(stream: NodeJS.ReadableStream): Promise<Record<string, unknown>[]> {
  return new Promise((resolvePromise, reject) => {
    let buf = '';
    const out: Record<string, unknown>[] = [];
    const take = (line: string) => {
      if (line.trim() === '') return;
      try {
        const v: unknown = JSON.parse(line);
        if (typeof v === 'object' && v !== null) out.push(v as Record<string, unknown>);
      } catch {
        out.push({ raw: line });
      }
    };
    stream.on('data', (chunk: Buffer | string) => {
      buf += chunk.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      lines.forEach(take);
    });
    stream.on('end', () => {
      take(buf);
      resolvePromise(out);
    });
    stream.on('error', reject);
  });
}
