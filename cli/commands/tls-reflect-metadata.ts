/**
 * The part of the `reflect-metadata` API that @peculiar/x509 needs. The library resolves its
 * algorithm providers through tsyringe, which refuses to load unless `Reflect.getMetadata`
 * exists; it only stores and reads a few keys, so a WeakMap-backed stand-in is enough and
 * spares a dependency. Installed once, before the library is first imported (see
 * tls-certificates.ts, which imports it dynamically for that reason).
 */

type MetadataTarget = object;

const store = new WeakMap<MetadataTarget, Map<unknown, unknown>>();

interface ReflectMetadata {
  defineMetadata?: (key: unknown, value: unknown, target: MetadataTarget) => void;
  getOwnMetadata?: (key: unknown, target: MetadataTarget) => unknown;
  getMetadata?: (key: unknown, target: MetadataTarget) => unknown;
}

export function installReflectMetadata(): void {
  const r = Reflect as unknown as ReflectMetadata;
  // A real polyfill loaded by someone else wins: it is a superset of this one.
  if (typeof r.getMetadata === 'function') return;
  r.defineMetadata = (key, value, target) => {
    let m = store.get(target);
    if (m === undefined) store.set(target, (m = new Map()));
    m.set(key, value);
  };
  r.getOwnMetadata = (key, target) => store.get(target)?.get(key);
  // Metadata is inherited along the prototype chain, as in reflect-metadata.
  r.getMetadata = (key, target) => {
    for (let o: MetadataTarget | null = target; o !== null; o = Object.getPrototypeOf(o) as MetadataTarget | null) {
      const m = store.get(o);
      if (m?.has(key) === true) return m.get(key);
    }
    return undefined;
  };
}
