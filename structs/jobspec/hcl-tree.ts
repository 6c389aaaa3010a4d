/**
 * The parsed file as the decoders see it: bodies of attributes and blocks in source order,
 * each with its position, each attribute with the value hcl2json computed for it.
 *
 * Built by walking the structural scan (hcl-source.ts) and looking up each item in the
 * hcl2json output, which nests blocks as `type -> label -> label -> [body, body, ...]`.
 * The n-th block with a given type and labels in a body is element n of that array.
 */
import type { SrcBody, SrcPos } from './hcl-source.js';

export interface HclAttr {
  name: string;
  pos: SrcPos;
  /** As hcl2json produced it: expressions it could not evaluate are `${...}` strings. */
  value: unknown;
  objectCons: boolean;
}

export interface HclBlock {
  type: string;
  labels: string[];
  pos: SrcPos;
  body: HclBody;
}

export interface HclBody {
  attrs: HclAttr[];
  blocks: HclBlock[];
}

export interface TreeProblem {
  pos: SrcPos;
  message: string;
}

export function buildTree(src: SrcBody, json: unknown, problems: TreeProblem[]): HclBody {
  const obj = isRecord(json) ? json : {};
  const body: HclBody = { attrs: [], blocks: [] };
  const blockTypes = new Set(src.items.filter((i) => i.kind === 'block').map((i) => i.type));
  const seen = new Map<string, number>();

  for (const item of src.items) {
    if (item.kind === 'attr') {
      if (blockTypes.has(item.name)) {
        // hcl2json keeps only one of the two under the same key, so this cannot be decoded.
        problems.push({ pos: item.pos, message: `"${item.name}" is set both as an argument and as a block; use one form` });
        continue;
      }
      body.attrs.push({ name: item.name, pos: item.pos, value: obj[item.name], objectCons: item.objectCons });
      continue;
    }
    const key = [item.type, ...item.labels].join('\0');
    const index = seen.get(key) ?? 0;
    seen.set(key, index + 1);

    let node: unknown = obj[item.type];
    for (const label of item.labels) node = isRecord(node) ? node[label] : undefined;
    const blockJson = Array.isArray(node) ? (node as unknown[])[index] : undefined;
    if (!isRecord(blockJson)) {
      problems.push({ pos: item.pos, message: `could not read this ${item.type} block; all ${item.type} blocks in one body must have the same number of labels` });
      continue;
    }
    body.blocks.push({ type: item.type, labels: item.labels, pos: item.pos, body: buildTree(item.body, blockJson, problems) });
  }
  return body;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
