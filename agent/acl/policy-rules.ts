/**
 * Parsing an ACL policy's rules (HCL, as Nomad's acl.Parse reads them) into the rules the
 * ACL compiler merges. HCL syntax is checked by the project's HCL2 parser (hcl2json); the
 * structure is then walked with source positions so every mistake is reported as
 * `file:line,col`.
 *
 * Rule blocks (https://developer.hashicorp.com/nomad/docs/other-specifications/acl-policy):
 *   namespace "<name or glob>" { policy = "...", capabilities = [...] }
 *   node / agent / operator { policy = "deny|read|write" }
 * `quota`, `plugin`, `host_volume "<glob>"` and `node_pool "<glob>"` rules, and `variables`
 * inside a namespace rule, are accepted and checked (so Nomad policy files load) but grant
 * nothing here: yurt has no API they would open.
 */
import type { FieldError } from '../../structs/errors.js';
import { ValidationError, YurtError } from '../../structs/errors.js';
import { scanHCL, ScanError } from '../../structs/jobspec/hcl-source.js';
import type { SrcPos } from '../../structs/jobspec/hcl-source.js';
import { buildTree } from '../../structs/jobspec/hcl-tree.js';
import type { HclBlock, HclBody, TreeProblem } from '../../structs/jobspec/hcl-tree.js';
import { hclToJSON } from '../../structs/jobspec/hcl2json.js';
import {
  COARSE_POLICIES,
  expandNamespacePolicy,
  isNamespaceCapability,
  NAMESPACE_POLICIES,
  POLICY_LIST,
  type Level,
  type NamespaceCapability,
} from './capabilities.js';

export interface NamespaceRule {
  /** A namespace name, or a glob with `*` wildcards. */
  pattern: string;
  /** The policy's expansion plus the explicit capabilities. */
  capabilities: NamespaceCapability[];
}

export interface PolicyRules {
  namespaces: NamespaceRule[];
  node?: Level;
  agent?: Level;
  operator?: Level;
}

/** Nomad's validNamespace for rule labels: a name or a glob. */
const NAMESPACE_PATTERN = /^[a-zA-Z0-9*-]{1,128}$/;

/**
 * Parse and check policy rules. Throws YurtError('parse_error') for HCL syntax errors and
 * ValidationError listing every rule problem with its position.
 */
export async function parsePolicyRules(rules: string, filename = 'policy.hcl'): Promise<PolicyRules> {
  if (rules.trim() === '') throw new ValidationError(`ACL policy ${filename}`, [{ path: 'Rules', message: 'a policy needs at least one rule' }]);
  const json = await hclToJSON(filename, rules);
  let scanned;
  try {
    scanned = scanHCL(rules);
  } catch (e) {
    if (e instanceof ScanError) throw new YurtError('internal', `${filename}: could not scan rules HCL accepted: ${e.message}`, { cause: e });
    throw e;
  }
  const problems: TreeProblem[] = [];
  const root = buildTree(scanned, json, problems);
  const errors: FieldError[] = problems.map((p) => ({ path: 'Rules', message: p.message, pos: at(filename, p.pos) }));
  const out = new RulesReader(filename, errors).read(root);
  if (errors.length > 0) throw new ValidationError(`ACL policy ${filename}`, errors);
  return out;
}

function at(filename: string, pos: SrcPos): string {
  return `${filename}:${pos.line},${pos.col}`;
}

class RulesReader {
  constructor(
    private readonly filename: string,
    private readonly errors: FieldError[],
  ) {}

  read(root: HclBody): PolicyRules {
    const out: PolicyRules = { namespaces: [] };
    for (const a of root.attrs) this.error(a.pos, a.name, `unexpected argument "${a.name}"; rules are blocks such as namespace "default" { policy = "read" }`);
    for (const b of root.blocks) {
      switch (b.type) {
        case 'namespace': {
          const rule = this.namespaceRule(b);
          if (rule) out.namespaces.push(rule);
          break;
        }
        case 'node':
        case 'agent':
        case 'operator': {
          const level = this.coarseRule(b, COARSE_POLICIES, 0);
          if (level !== undefined) {
            if (out[b.type] !== undefined) this.error(b.pos, b.type, `only one ${b.type} rule is allowed`);
            out[b.type] = level;
          }
          break;
        }
        case 'quota':
          this.coarseRule(b, COARSE_POLICIES, 0);
          break;
        case 'plugin':
          this.coarseRule(b, [...COARSE_POLICIES, POLICY_LIST], 0);
          break;
        case 'host_volume':
        case 'node_pool':
          this.coarseRule(b, COARSE_POLICIES, 1, true);
          break;
        default:
          this.error(b.pos, b.type, `unsupported rule "${b.type}"; expected namespace, node, agent, operator, quota, plugin, host_volume or node_pool`);
      }
    }
    if (out.namespaces.length === 0 && out.node === undefined && out.agent === undefined && out.operator === undefined && root.blocks.length === 0 && this.errors.length === 0) {
      this.errors.push({ path: 'Rules', message: 'a policy needs at least one rule', pos: this.filename });
    }
    return out;
  }

  private namespaceRule(b: HclBlock): NamespaceRule | undefined {
    const where = `namespace ${JSON.stringify(b.labels[0] ?? '')}`;
    if (b.labels.length !== 1) {
      this.error(b.pos, 'namespace', 'a namespace rule needs exactly one label: the namespace name or a glob');
      return undefined;
    }
    const pattern = b.labels[0]!;
    if (!NAMESPACE_PATTERN.test(pattern)) this.error(b.pos, where, `invalid namespace name ${JSON.stringify(pattern)}: letters, digits, dashes and * only`);
    const caps = new Set<NamespaceCapability>();
    let sawPolicy = false;
    for (const a of b.body.attrs) {
      if (a.name === 'policy') {
        sawPolicy = true;
        if (typeof a.value !== 'string' || !(NAMESPACE_POLICIES as readonly string[]).includes(a.value)) {
          this.error(a.pos, `${where}.policy`, `invalid policy ${JSON.stringify(a.value)}: must be one of ${NAMESPACE_POLICIES.join(', ')}`);
          continue;
        }
        for (const c of expandNamespacePolicy(a.value)) caps.add(c);
      } else if (a.name === 'capabilities') {
        sawPolicy = true;
        if (!Array.isArray(a.value)) {
          this.error(a.pos, `${where}.capabilities`, 'must be a list of strings');
          continue;
        }
        for (const c of a.value as unknown[]) {
          if (typeof c === 'string' && isNamespaceCapability(c)) caps.add(c);
          else this.error(a.pos, `${where}.capabilities`, `invalid namespace capability ${JSON.stringify(c)}`);
        }
      } else {
        this.error(a.pos, `${where}.${a.name}`, `unexpected argument "${a.name}"; expected policy or capabilities`);
      }
    }
    for (const inner of b.body.blocks) {
      if (inner.type !== 'variables') this.error(inner.pos, `${where}.${inner.type}`, `unexpected block "${inner.type}"; only variables is allowed here`);
    }
    if (!sawPolicy && b.body.blocks.length === 0) this.error(b.pos, where, 'a namespace rule needs a policy or capabilities');
    return { pattern, capabilities: [...caps] };
  }

  /** A rule with only `policy = "..."`; `labels` is how many labels its block takes. */
  private coarseRule(b: HclBlock, allowed: readonly string[], labels: number, capabilitiesAllowed = false): Level | undefined {
    if (b.labels.length !== labels) {
      this.error(b.pos, b.type, labels === 0 ? `a ${b.type} rule takes no label` : `a ${b.type} rule needs exactly one label`);
      return undefined;
    }
    let level: Level | undefined;
    for (const a of b.body.attrs) {
      if (a.name === 'policy') {
        if (typeof a.value !== 'string' || !allowed.includes(a.value)) {
          this.error(a.pos, `${b.type}.policy`, `invalid policy ${JSON.stringify(a.value)}: must be one of ${allowed.join(', ')}`);
          continue;
        }
        if (a.value === 'deny' || a.value === 'read' || a.value === 'write') level = a.value;
      } else if (a.name === 'capabilities' && capabilitiesAllowed) {
        if (!Array.isArray(a.value) || !(a.value as unknown[]).every((c) => typeof c === 'string')) this.error(a.pos, `${b.type}.capabilities`, 'must be a list of strings');
      } else {
        this.error(a.pos, `${b.type}.${a.name}`, `unexpected argument "${a.name}"; expected policy`);
      }
    }
    for (const inner of b.body.blocks) this.error(inner.pos, `${b.type}.${inner.type}`, `unexpected block "${inner.type}"`);
    if (level === undefined && !b.body.attrs.some((a) => a.name === 'policy')) this.error(b.pos, b.type, `a ${b.type} rule needs a policy`);
    return level;
  }

  private error(pos: SrcPos, path: string, message: string): void {
    this.errors.push({ path, message, pos: at(this.filename, pos) });
  }
}
