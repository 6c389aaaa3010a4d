/** A node's value for a `${...}` target, memoized: spread scoring asks for it on every placement. */
import type { Node } from '../structs/node.js';
import { resolveTarget } from './constraint-check.js';

export class TargetValues {
  private readonly cache = new Map<string, Map<string, string | undefined>>();

  get(target: string, node: Node): string | undefined {
    let byNode = this.cache.get(target);
    if (byNode === undefined) this.cache.set(target, (byNode = new Map<string, string | undefined>()));
    if (byNode.has(node.ID)) return byNode.get(node.ID);
    const v = resolveTarget(target, node);
    byNode.set(node.ID, v);
    return v;
  }
}
