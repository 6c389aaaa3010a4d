/**
 * Prepared modules, keyed by the SHA-256 of the module's bytes.
 *
 * Preparing a module (reading the memory declaration and rewriting a defined memory into an
 * import, see module-memory.ts) is done once per content: the result is written to
 * `<dir>/<sha256>.wasm`, which is what runner processes compile. The content hash is also
 * the key of the compiled-module cache held by warm runners (runner-pool.ts), so two tasks
 * that use the same bytes under different paths share both.
 *
 * A file is hashed again only when its identity changes (device, inode, size, mtime,
 * ctime), so starting the same module twice reads it once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { YurtError } from '../../structs/errors.js';
import { prepareModuleBytes, type MemoryImport } from './module-memory.js';

export interface PreparedModule {
  /** SHA-256 (hex) of the original module bytes. */
  hash: string;
  /** The prepared module file (what runners compile). */
  path: string;
  /** The memory the runner creates and passes in as an import, null when the module has none. */
  memory: MemoryImport | null;
  hasStartFunction: boolean;
  sizeBytes: number;
}

export interface ModuleCacheStats {
  /** Starts whose module was already prepared (same file, or same bytes elsewhere). */
  hits: number;
  misses: number;
  entries: number;
}

/** V8 refuses modules above 1 GiB anyway; reading stops well before memory runs out. */
export const MAX_MODULE_BYTES = 512 * 1024 * 1024;

export class ModuleCache {
  private readonly byHash = new Map<string, PreparedModule>();
  private readonly hashByIdentity = new Map<string, string>();
  private hits = 0;
  private misses = 0;

  constructor(
    readonly dir: string,
    private readonly maxEntries = 64,
  ) {}

  stats(): ModuleCacheStats {
    return { hits: this.hits, misses: this.misses, entries: this.byHash.size };
  }

  /** The prepared module with this content hash, if it is in the cache. */
  get(hash: string): PreparedModule | undefined {
    return this.byHash.get(hash);
  }

  async prepare(modulePath: string): Promise<PreparedModule> {
    const st = await stat(modulePath).catch((e: NodeJS.ErrnoException) => {
      throw new YurtError('invalid_argument', `module ${modulePath}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
    });
    if (!st.isFile()) throw new YurtError('invalid_argument', `module ${modulePath} is not a regular file`);
    if (st.size > MAX_MODULE_BYTES) {
      throw new YurtError('invalid_argument', `module ${modulePath} is ${st.size} bytes, more than the limit of ${MAX_MODULE_BYTES}`);
    }
    const identity = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    const known = this.hashByIdentity.get(identity);
    const cached = known === undefined ? undefined : this.byHash.get(known);
    if (cached !== undefined && (await exists(cached.path))) {
      this.touch(cached);
      this.hits++;
      return cached;
    }
    const bytes = await readFile(modulePath);
    const hash = createHash('sha256').update(bytes).digest('hex');
    this.hashByIdentity.set(identity, hash);
    const same = this.byHash.get(hash);
    if (same !== undefined && (await exists(same.path))) {
      this.touch(same);
      this.hits++;
      return same;
    }
    this.misses++;
    let prepared;
    try {
      prepared = prepareModuleBytes(bytes);
    } catch (e) {
      if (e instanceof YurtError) throw new YurtError(e.code, `module ${modulePath}: ${e.message}`, { cause: e });
      throw e;
    }
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const path = join(this.dir, `${hash}.wasm`);
    // Written under a temporary name and renamed: a runner never compiles half a file, and
    // two starts preparing the same module at once both end with the same complete file.
    const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(prepared.bytes);
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    const entry: PreparedModule = {
      hash,
      path,
      memory: prepared.memory,
      hasStartFunction: prepared.hasStartFunction,
      sizeBytes: bytes.length,
    };
    this.byHash.set(hash, entry);
    await this.evict();
    return entry;
  }

  /** Most recently used last, so the Map's first entry is the one to evict. */
  private touch(entry: PreparedModule): void {
    this.byHash.delete(entry.hash);
    this.byHash.set(entry.hash, entry);
  }

  private async evict(): Promise<void> {
    while (this.byHash.size > this.maxEntries) {
      const oldest = this.byHash.keys().next().value;
      if (oldest === undefined) return;
      const entry = this.byHash.get(oldest);
      this.byHash.delete(oldest);
      for (const [id, h] of this.hashByIdentity) if (h === oldest) this.hashByIdentity.delete(id);
      if (entry !== undefined) await unlink(entry.path).catch(() => undefined);
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
