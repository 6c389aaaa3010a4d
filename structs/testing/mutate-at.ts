/**
 * For fuzz tests: a copy of a JSON-like value with the value at one path replaced. The path is
 * a list of choices, each picking a key or element modulo their count, so any list of numbers
 * a generator produces names some path. With `addKey`, the object reached gets that key added
 * instead (as an own property, even "__proto__", as JSON.parse would make it).
 */
export function mutateAt(value: unknown, choices: readonly number[], replacement: unknown, addKey?: string): unknown {
  if (addKey !== undefined && (choices.length === 0 || typeof value !== 'object' || value === null || Array.isArray(value))) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return replacement;
    const copy = { ...value };
    Object.defineProperty(copy, addKey, { value: replacement, enumerable: true, writable: true, configurable: true });
    return copy;
  }
  if (choices.length === 0 || typeof value !== 'object' || value === null) return replacement;
  const [c, ...rest] = choices as [number, ...number[]];
  if (Array.isArray(value)) {
    if (value.length === 0) return replacement;
    const i = c % value.length;
    const copy: unknown[] = [...(value as unknown[])];
    copy[i] = mutateAt(value[i], rest, replacement, addKey);
    return copy;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return replacement;
  const k = keys[c % keys.length]!;
  return { ...value, [k]: mutateAt((value as Record<string, unknown>)[k], rest, replacement, addKey) };
}
