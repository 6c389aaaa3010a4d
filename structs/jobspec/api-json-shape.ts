/**
 * The shape of a job in Nomad's API JSON, used to check a request body before it is
 * trusted: every known field must have the right JSON type (Go's decoder would refuse
 * `"Count": "3"` just the same), and unknown fields of Job, TaskGroup and Task are refused
 * so that a typo does not silently become a default. Fields Nomad has and yurt does not
 * implement are accepted only while empty (null, "", 0, false, [] or {}), since Nomad's own
 * clients send them that way; a real value there is refused as unsupported.
 *
 * Field names match case-insensitively when there is no exact match, as in Go's
 * encoding/json, which Nomad's HTTP API uses.
 */
import type { FieldError } from '../errors.js';
import { describe } from './body-reader.js';

export type Shape =
  | 'string'
  | 'int'
  | 'number'
  | 'bool'
  /** Integer nanoseconds. */
  | 'duration'
  /** Free-form JSON data (driver config values). */
  | 'any'
  | { list: Shape }
  | { map: Shape }
  | { object: Record<string, Shape>; strict?: boolean; unsupported?: readonly string[] };

const constraint: Shape = { object: { LTarget: 'string', RTarget: 'string', Operand: 'string' } };
const affinity: Shape = { object: { LTarget: 'string', RTarget: 'string', Operand: 'string', Weight: 'int' } };
const spread: Shape = {
  object: { Attribute: 'string', Weight: 'int', SpreadTarget: { list: { object: { Value: 'string', Percent: 'int' } } } },
};
const port: Shape = { object: { Label: 'string', Value: 'int', To: 'int', HostNetwork: 'string' } };
const network: Shape = {
  object: {
    Mode: 'string',
    Device: 'string',
    CIDR: 'string',
    IP: 'string',
    MBits: 'int',
    ReservedPorts: { list: port },
    DynamicPorts: { list: port },
  },
};
const device: Shape = { object: { Name: 'string', Count: 'int', Constraints: { list: constraint }, Affinities: { list: affinity } } };
const resources: Shape = {
  object: {
    CPU: 'int',
    Cores: 'int',
    MemoryMB: 'int',
    MemoryMaxMB: 'int',
    DiskMB: 'int',
    Networks: { list: network },
    Devices: { list: device },
  },
};
const restart: Shape = { object: { Attempts: 'int', Interval: 'duration', Delay: 'duration', Mode: 'string', RenderTemplates: 'bool' } };
const reschedule: Shape = {
  object: { Attempts: 'int', Interval: 'duration', Delay: 'duration', DelayFunction: 'string', MaxDelay: 'duration', Unlimited: 'bool' },
};
const update: Shape = {
  object: {
    Stagger: 'duration',
    MaxParallel: 'int',
    HealthCheck: 'string',
    MinHealthyTime: 'duration',
    HealthyDeadline: 'duration',
    ProgressDeadline: 'duration',
    AutoRevert: 'bool',
    AutoPromote: 'bool',
    Canary: 'int',
  },
};
const migrate: Shape = { object: { MaxParallel: 'int', HealthCheck: 'string', MinHealthyTime: 'duration', HealthyDeadline: 'duration' } };
const check: Shape = {
  object: {
    Name: 'string',
    Type: 'string',
    Command: 'string',
    Args: { list: 'string' },
    Path: 'string',
    Protocol: 'string',
    PortLabel: 'string',
    Interval: 'duration',
    Timeout: 'duration',
  },
};
const service: Shape = { object: { Name: 'string', PortLabel: 'string', Provider: 'string', Tags: { list: 'string' }, Checks: { list: check } } };
const stringMap: Shape = { map: 'string' };

const task: Shape = {
  strict: true,
  object: {
    Name: 'string',
    Driver: 'string',
    User: 'string',
    Config: { map: 'any' },
    Env: stringMap,
    Services: { list: service },
    Constraints: { list: constraint },
    Affinities: { list: affinity },
    Resources: resources,
    RestartPolicy: restart,
    Meta: stringMap,
    KillTimeout: 'duration',
    KillSignal: 'string',
    LogConfig: { object: { MaxFiles: 'int', MaxFileSizeMB: 'int', Disabled: 'bool' } },
    Artifacts: { list: { object: { GetterSource: 'string', GetterOptions: stringMap, GetterMode: 'string', RelativeDest: 'string' } } },
    Templates: {
      list: {
        object: {
          SourcePath: 'string',
          DestPath: 'string',
          EmbeddedTmpl: 'string',
          ChangeMode: 'string',
          ChangeSignal: 'string',
          Splay: 'duration',
          Perms: 'string',
          LeftDelim: 'string',
          RightDelim: 'string',
          Envvars: 'bool',
        },
      },
    },
    Leader: 'bool',
    ShutdownDelay: 'duration',
    Lifecycle: { object: { Hook: 'string', Sidecar: 'bool' } },
    VolumeMounts: { list: { object: { Volume: 'string', Destination: 'string', ReadOnly: 'bool', PropagationMode: 'string' } } },
  },
  unsupported: ['Vault', 'Consul', 'DispatchPayload', 'CSIPluginConfig', 'Kind', 'ScalingPolicies', 'Identity', 'Identities', 'Actions', 'Schedule'],
};

const group: Shape = {
  strict: true,
  object: {
    Name: 'string',
    Count: 'int',
    Constraints: { list: constraint },
    Affinities: { list: affinity },
    Spreads: { list: spread },
    Tasks: { list: task },
    RestartPolicy: restart,
    ReschedulePolicy: reschedule,
    EphemeralDisk: { object: { Sticky: 'bool', SizeMB: 'int', Migrate: 'bool' } },
    Update: update,
    Migrate: migrate,
    Networks: { list: network },
    Services: { list: service },
    Volumes: { map: { object: { Name: 'string', Type: 'string', Source: 'string', ReadOnly: 'bool' } } },
    Meta: stringMap,
    ShutdownDelay: 'duration',
    StopAfterClientDisconnect: 'duration',
    MaxClientDisconnect: 'duration',
  },
  unsupported: ['Scaling', 'Consul', 'Disconnect', 'PreventRescheduleOnLost'],
};

export const JOB_SHAPE: Shape = {
  strict: true,
  object: {
    Region: 'string',
    Namespace: 'string',
    ID: 'string',
    ParentID: 'string',
    Name: 'string',
    Type: 'string',
    Priority: 'int',
    AllAtOnce: 'bool',
    Datacenters: { list: 'string' },
    NodePool: 'string',
    Constraints: { list: constraint },
    Affinities: { list: affinity },
    Spreads: { list: spread },
    TaskGroups: { list: group },
    Update: update,
    Periodic: { object: { Enabled: 'bool', Spec: 'string', SpecType: 'string', ProhibitOverlap: 'bool', TimeZone: 'string' } },
    ParameterizedJob: { object: { Payload: 'string', MetaRequired: { list: 'string' }, MetaOptional: { list: 'string' } } },
    // Nomad's job-level blocks, folded into the groups by canonicalization.
    Reschedule: reschedule,
    Migrate: migrate,
    Meta: stringMap,
    Stop: 'bool',
    Status: 'string',
    StatusDescription: 'string',
    Stable: 'bool',
    Version: 'int',
    SubmitTime: 'int',
    CreateIndex: 'int',
    ModifyIndex: 'int',
    JobModifyIndex: 'int',
  },
  unsupported: [
    'Multiregion',
    'ConsulToken',
    'ConsulNamespace',
    'VaultToken',
    'VaultNamespace',
    'NomadTokenID',
    'Dispatched',
    'DispatchIdempotencyToken',
    'Payload',
    'UI',
    'VersionTag',
  ],
};

/**
 * Check `value` against `shape`, reporting problems into `errors`. Returns the value with
 * nulls and ignored fields removed, or undefined where it was absent or unusable.
 */
export function checkShape(value: unknown, shape: Shape, path: string, errors: FieldError[]): unknown {
  if (value === null || value === undefined) return undefined;
  const fail = (expected: string): undefined => {
    errors.push({ path: path === '' ? 'Job' : path, message: `must be ${expected}, got ${jsonType(value)}` });
    return undefined;
  };
  if (typeof shape === 'string') {
    switch (shape) {
      case 'any':
        return value;
      case 'string':
        return typeof value === 'string' ? value : fail('a string');
      case 'bool':
        return typeof value === 'boolean' ? value : fail('a boolean');
      case 'number':
        return typeof value === 'number' && Number.isFinite(value) ? value : fail('a number');
      case 'int':
        return typeof value === 'number' && Number.isInteger(value) ? value : fail('an integer');
      case 'duration':
        return typeof value === 'number' && Number.isInteger(value) ? value : fail('an integer number of nanoseconds');
    }
  }
  if ('list' in shape) {
    if (!Array.isArray(value)) return fail('a list');
    return (value as unknown[]).map((item, i) => {
      if (item === null) errors.push({ path: `${path}[${i}]`, message: 'must not be null' });
      return checkShape(item, shape.list, `${path}[${i}]`, errors);
    });
  }
  if (typeof value !== 'object' || Array.isArray(value)) return fail('an object');
  const entries = Object.entries(value as Record<string, unknown>);
  if ('map' in shape) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const checked = checkShape(v, shape.map, `${path}[${JSON.stringify(k)}]`, errors);
      // defineProperty: a user's "__proto__" key is data, not the object's prototype.
      if (checked !== undefined) Object.defineProperty(out, k, { value: checked, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  const names = Object.keys(shape.object);
  for (const [k, v] of entries) {
    const name = Object.hasOwn(shape.object, k) ? k : names.find((n) => n.toLowerCase() === k.toLowerCase());
    const fieldPath = path === '' ? (name ?? k) : `${path}.${name ?? k}`;
    if (name !== undefined) {
      const fieldShape = shape.object[name];
      const checked = fieldShape === undefined ? undefined : checkShape(v, fieldShape, fieldPath, errors);
      if (checked !== undefined) out[name] = checked;
    } else if (shape.strict === true) {
      const nomadName = shape.unsupported?.find((n) => n.toLowerCase() === k.toLowerCase());
      if (nomadName === undefined) errors.push({ path: fieldPath, message: `unknown field ${JSON.stringify(k)}` });
      else if (!isEmpty(v)) errors.push({ path: fieldPath, message: `${nomadName} is not supported by yurt; leave it out or empty` });
    }
  }
  return out;
}

function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.every(isEmpty);
  if (typeof v === 'object') return Object.values(v).every(isEmpty);
  return false;
}

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object' && v !== null) return 'an object';
  return `${typeof v} ${describe(v)}`;
}
