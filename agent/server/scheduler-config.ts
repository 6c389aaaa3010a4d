/**
 * The cluster's scheduler configuration (Nomad's SchedulerConfiguration), kept in state and
 * changed only through Raft. Operators read and set it with
 * GET/PUT /v1/operator/scheduler/configuration.
 */
import { ValidationError, type FieldError } from '../../structs/errors.js';

export type SchedulerAlgorithm = 'binpack' | 'spread';

export interface PreemptionConfig {
  SystemSchedulerEnabled: boolean;
  SysBatchSchedulerEnabled: boolean;
  BatchSchedulerEnabled: boolean;
  ServiceSchedulerEnabled: boolean;
}

export interface SchedulerConfiguration {
  SchedulerAlgorithm: SchedulerAlgorithm;
  PreemptionConfig: PreemptionConfig;
  MemoryOversubscriptionEnabled: boolean;
  RejectJobRegistration: boolean;
  PauseEvalBroker: boolean;
  CreateIndex: number;
  ModifyIndex: number;
}

/** Nomad's defaults (nomad/structs/operator.go and the server's default_scheduler_config). */
export function defaultSchedulerConfig(): SchedulerConfiguration {
  return {
    SchedulerAlgorithm: 'binpack',
    PreemptionConfig: { SystemSchedulerEnabled: true, SysBatchSchedulerEnabled: false, BatchSchedulerEnabled: false, ServiceSchedulerEnabled: false },
    MemoryOversubscriptionEnabled: false,
    RejectJobRegistration: false,
    PauseEvalBroker: false,
    CreateIndex: 0,
    ModifyIndex: 0,
  };
}

const PREEMPTION_KEYS = ['SystemSchedulerEnabled', 'SysBatchSchedulerEnabled', 'BatchSchedulerEnabled', 'ServiceSchedulerEnabled'] as const;
const BOOL_KEYS = ['MemoryOversubscriptionEnabled', 'RejectJobRegistration', 'PauseEvalBroker'] as const;

/**
 * Read a PUT body. As in Nomad, the body is the whole configuration: fields left out take
 * their zero value (false, and the default algorithm when none is given).
 */
export function parseSchedulerConfig(body: unknown): Omit<SchedulerConfiguration, 'CreateIndex' | 'ModifyIndex'> {
  const errors: FieldError[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError('scheduler configuration', [{ path: '', message: 'must be a JSON object' }]);
  }
  const b = body as Record<string, unknown>;
  const algo = b['SchedulerAlgorithm'] ?? '';
  if (algo !== '' && algo !== 'binpack' && algo !== 'spread') {
    errors.push({ path: 'SchedulerAlgorithm', message: `invalid scheduler algorithm ${JSON.stringify(algo)}: must be "binpack" or "spread"` });
  }
  const bool = (obj: Record<string, unknown>, key: string, path: string): boolean => {
    const v = obj[key] ?? false;
    if (typeof v !== 'boolean') {
      errors.push({ path, message: 'must be a boolean' });
      return false;
    }
    return v;
  };
  const pRaw = b['PreemptionConfig'] ?? {};
  let preemption: PreemptionConfig = { SystemSchedulerEnabled: false, SysBatchSchedulerEnabled: false, BatchSchedulerEnabled: false, ServiceSchedulerEnabled: false };
  if (typeof pRaw !== 'object' || pRaw === null || Array.isArray(pRaw)) {
    errors.push({ path: 'PreemptionConfig', message: 'must be an object' });
  } else {
    const p = pRaw as Record<string, unknown>;
    preemption = Object.fromEntries(PREEMPTION_KEYS.map((k) => [k, bool(p, k, `PreemptionConfig.${k}`)])) as unknown as PreemptionConfig;
  }
  const flags = Object.fromEntries(BOOL_KEYS.map((k) => [k, bool(b, k, k)])) as Record<(typeof BOOL_KEYS)[number], boolean>;
  if (errors.length > 0) throw new ValidationError('scheduler configuration', errors);
  return { SchedulerAlgorithm: algo === 'spread' ? 'spread' : 'binpack', PreemptionConfig: preemption, ...flags };
}
