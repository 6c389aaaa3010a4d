/**
 * Downloading a task's module (`config.artifact`) with its checksum verified before the
 * file is put where the task looks for it. The download streams to a temporary file next
 * to the destination while it is hashed, and is renamed into place only when the digest
 * matches, so a task never sees a partial or tampered module. A destination that already
 * holds the expected bytes (a restarted task) is not downloaded again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { YurtError } from '../../structs/errors.js';
import type { Checksum, WasiArtifact } from './wasi-config.js';

export interface ArtifactLimits {
  /** Whole download, headers to last byte. */
  timeoutMs: number;
  maxBytes: number;
}

export const DEFAULT_ARTIFACT_LIMITS: ArtifactLimits = { timeoutMs: 120_000, maxBytes: 512 * 1024 * 1024 };

export type FetchOutcome = 'present' | 'downloaded';

/** The URL without user info, for messages and logs. */
function shown(source: string): string {
  try {
    const u = new URL(source);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return source;
  }
}

async function fileDigest(path: string, algorithm: Checksum['algorithm']): Promise<string | null> {
  const hash = createHash(algorithm);
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch {
    return null;
  }
  return hash.digest('hex');
}

/** Make `dest` hold the artifact's bytes; throws a YurtError saying what went wrong. */
export async function fetchArtifact(
  artifact: WasiArtifact,
  dest: string,
  limits: ArtifactLimits = DEFAULT_ARTIFACT_LIMITS,
): Promise<FetchOutcome> {
  const { algorithm, hex } = artifact.checksum;
  if ((await fileDigest(dest, algorithm)) === hex) return 'present';
  const url = shown(artifact.source);
  await mkdir(dirname(dest), { recursive: true });
  const tmp = `${dest}.download-${randomBytes(4).toString('hex')}`;
  const signal = AbortSignal.timeout(limits.timeoutMs);
  try {
    let res: Response;
    try {
      res = await fetch(url, { redirect: 'follow', signal, headers: basicAuth(artifact.source) });
    } catch (e) {
      throw new YurtError('unavailable', `artifact ${url}: download failed: ${describe(e, limits)}`, { cause: e });
    }
    if (!res.ok || res.body === null) {
      await res.body?.cancel().catch(() => undefined);
      // 4xx: the job names something that is not there; 5xx: the server may recover.
      const code = res.status >= 400 && res.status < 500 ? 'invalid_argument' : 'unavailable';
      throw new YurtError(code, `artifact ${url}: HTTP ${res.status} ${res.statusText}`.trimEnd());
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > limits.maxBytes) {
      await res.body.cancel().catch(() => undefined);
      throw new YurtError('invalid_argument', `artifact ${url}: ${declared} bytes is more than the limit of ${limits.maxBytes}`);
    }
    const hash = createHash(algorithm);
    const file = await open(tmp, 'wx', 0o644);
    let size = 0;
    try {
      const reader = res.body.getReader();
      for (;;) {
        const chunk = await reader.read().catch((e: unknown) => {
          throw new YurtError('unavailable', `artifact ${url}: download failed: ${describe(e, limits)}`, { cause: e });
        });
        if (chunk.done) break;
        const bytes = chunk.value as Uint8Array;
        size += bytes.length;
        if (size > limits.maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw new YurtError('invalid_argument', `artifact ${url}: more than the limit of ${limits.maxBytes} bytes`);
        }
        hash.update(bytes);
        await file.write(bytes);
      }
      await file.sync();
    } finally {
      await file.close();
    }
    const got = hash.digest('hex');
    if (got !== hex) {
      throw new YurtError(
        'invalid_argument',
        `artifact ${url}: checksum mismatch: expected ${algorithm}:${hex}, downloaded ${size} bytes with ${algorithm}:${got}`,
      );
    }
    await rename(tmp, dest);
    return 'downloaded';
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/**
 * `https://user:pass@host/...` (go-getter accepts credentials in the URL): fetch refuses such
 * URLs, so they travel as a Basic authorization header instead, and never appear in messages.
 */
function basicAuth(source: string): Record<string, string> {
  const u = new URL(source);
  if (u.username === '' && u.password === '') return {};
  const pair = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
  return { authorization: `Basic ${Buffer.from(pair).toString('base64')}` };
}

function describe(e: unknown, limits: ArtifactLimits): string {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) {
    return `no complete response within ${limits.timeoutMs} ms`;
  }
  const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
  return `${e instanceof Error ? e.message : String(e)}${cause}`;
}
