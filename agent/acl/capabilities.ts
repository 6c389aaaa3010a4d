/**
 * The vocabulary of ACL rules, as Nomad's acl package defines it
 * (https://developer.hashicorp.com/nomad/docs/other-specifications/acl-policy): the
 * dispositions a rule's `policy` may take, the fine-grained namespace capabilities, and what
 * each namespace disposition expands to.
 */

export const POLICY_DENY = 'deny';
export const POLICY_READ = 'read';
export const POLICY_WRITE = 'write';
export const POLICY_SCALE = 'scale';
export const POLICY_LIST = 'list';

/** A coarse disposition for node, agent and operator rules. */
export type Level = 'deny' | 'read' | 'write';

export const NAMESPACE_CAPABILITIES = [
  'deny',
  'list-jobs',
  'parse-job',
  'read-job',
  'submit-job',
  'dispatch-job',
  'read-logs',
  'read-fs',
  'alloc-exec',
  'alloc-node-exec',
  'alloc-lifecycle',
  'csi-register-plugin',
  'csi-write-volume',
  'csi-read-volume',
  'csi-list-volume',
  'csi-mount-volume',
  'list-scaling-policies',
  'read-scaling-policy',
  'read-job-scaling',
  'scale-job',
  'submit-recommendation',
  'sentinel-override',
  'host-volume-create',
  'host-volume-register',
  'host-volume-read',
  'host-volume-write',
  'host-volume-delete',
] as const;

export type NamespaceCapability = (typeof NAMESPACE_CAPABILITIES)[number];

const NAMESPACE_CAPABILITY_SET: ReadonlySet<string> = new Set(NAMESPACE_CAPABILITIES);

export function isNamespaceCapability(s: string): s is NamespaceCapability {
  return NAMESPACE_CAPABILITY_SET.has(s);
}

/** The dispositions a namespace rule may use. */
export const NAMESPACE_POLICIES = [POLICY_DENY, POLICY_READ, POLICY_WRITE, POLICY_SCALE] as const;
/** The dispositions node, agent, operator (and quota, plugin, node_pool) rules may use. */
export const COARSE_POLICIES = [POLICY_DENY, POLICY_READ, POLICY_WRITE] as const;

const READ_CAPABILITIES: NamespaceCapability[] = [
  'list-jobs',
  'parse-job',
  'read-job',
  'csi-list-volume',
  'csi-read-volume',
  'read-job-scaling',
  'list-scaling-policies',
  'read-scaling-policy',
  'host-volume-read',
];

/**
 * Nomad's expandNamespacePolicy: `policy = "read"` grants listing and reading, `write` adds
 * submitting, logs, file system, exec and lifecycle, `scale` only the scaling capabilities.
 */
export function expandNamespacePolicy(policy: string): NamespaceCapability[] {
  switch (policy) {
    case POLICY_DENY:
      return ['deny'];
    case POLICY_READ:
      return [...READ_CAPABILITIES];
    case POLICY_WRITE:
      return [
        ...READ_CAPABILITIES,
        'scale-job',
        'submit-job',
        'dispatch-job',
        'read-logs',
        'read-fs',
        'alloc-exec',
        'alloc-lifecycle',
        'csi-mount-volume',
        'csi-write-volume',
        'submit-recommendation',
        'host-volume-create',
        'host-volume-register',
        'host-volume-write',
        'host-volume-delete',
      ];
    case POLICY_SCALE:
      return ['list-scaling-policies', 'read-scaling-policy', 'read-job-scaling', 'scale-job'];
    default:
      return [];
  }
}

/** Merge two coarse dispositions: deny always wins, otherwise the more privileged one. */
export function mergeLevel(a: Level | undefined, b: Level): Level {
  if (a === undefined) return b;
  if (a === 'deny' || b === 'deny') return 'deny';
  return a === 'write' || b === 'write' ? 'write' : 'read';
}

/** Whether `have` grants `want` (write implies read; deny grants nothing). */
export function levelAllows(have: Level | undefined, want: 'read' | 'write'): boolean {
  if (have === undefined || have === 'deny') return false;
  return want === 'read' ? true : have === 'write';
}
