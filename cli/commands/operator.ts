/** `yurt operator raft list-peers` and `yurt operator scheduler get-config | set-config`. */
import type { SchedulerConfiguration } from '../../api/operator.js';
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_ERROR, EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { formatRaftPeers, formatSchedulerConfig } from '../format/operator-view.js';
import { toJson } from '../json-output.js';
import { UsageError, expectArgs, parseArgs } from '../usage.js';

const jsonFlag = defineFlags({ json: { type: 'bool', help: 'Output in the API JSON format.' } });

export const raftListPeersCommand: Command = {
  path: ['operator', 'raft', 'list-peers'],
  synopsis: 'Display the current Raft peer configuration',
  help: commandHelp({
    usage: 'yurt operator raft list-peers [options]',
    description: 'Displays the current Raft peer configuration: each server, its address, whether\nit leads and whether it votes.',
    general: true,
    optionsTitle: 'List Peers Options',
    flags: jsonFlag,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...jsonFlag });
    expectArgs(args, 0, 0, 'no arguments');
    try {
      const cfg = (await apiClient(io, f).operator.raftConfiguration()).data;
      io.out(f.json ? toJson(cfg) : formatRaftPeers(cfg?.Servers ?? []));
      return EXIT_OK;
    } catch (err) {
      return reportError(io, 'Failed to retrieve raft configuration', err);
    }
  },
};

export const schedulerGetConfigCommand: Command = {
  path: ['operator', 'scheduler', 'get-config'],
  synopsis: 'Display the current scheduler configuration',
  help: commandHelp({
    usage: 'yurt operator scheduler get-config [options]',
    description: 'Displays the current scheduler configuration.',
    general: true,
    optionsTitle: 'Scheduler Get Config Options',
    flags: jsonFlag,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...jsonFlag });
    expectArgs(args, 0, 0, 'no arguments');
    try {
      const cfg = (await apiClient(io, f).operator.schedulerConfiguration()).data;
      if (cfg?.SchedulerConfig === null || cfg?.SchedulerConfig === undefined) {
        io.err('Error querying scheduler configuration: the server returned none');
        return EXIT_ERROR;
      }
      io.out(f.json ? toJson(cfg.SchedulerConfig) : formatSchedulerConfig(cfg.SchedulerConfig));
      return EXIT_OK;
    } catch (err) {
      return reportError(io, 'Error querying scheduler configuration', err);
    }
  },
};

/** Nomad's set-config takes booleans as "true"/"false" strings so that "not given" stays distinct. */
const boolFlag = (help: string) => ({ type: 'string' as const, placeholder: 'true|false', help });

const setFlags = defineFlags({
  'scheduler-algorithm': { type: 'string', placeholder: 'binpack|spread', help: 'Specifies whether scheduler binpacks or spreads allocations on available nodes.' },
  'memory-oversubscription': boolFlag('When true, tasks may exceed their reserved memory limit, if the client has excess memory capacity.'),
  'reject-job-registration': boolFlag('When true, the server will return permission denied errors for job registration, job dispatch, and job scale APIs.'),
  'pause-eval-broker': boolFlag('When true, the eval broker is paused: no evaluations are scheduled until it is unpaused.'),
  'preempt-batch-scheduler': boolFlag('Specifies whether preemption for batch jobs is enabled.'),
  'preempt-service-scheduler': boolFlag('Specifies whether preemption for service jobs is enabled.'),
  'preempt-sysbatch-scheduler': boolFlag('Specifies whether preemption for system batch jobs is enabled.'),
  'preempt-system-scheduler': boolFlag('Specifies whether preemption for system jobs is enabled.'),
  'check-index': { type: 'int', placeholder: 'index', help: 'If set, the scheduler config is only updated if the passed modify index matches the current server side version (check-and-set).' },
});

function parseBool(name: string, v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new UsageError(`Invalid value for -${name}: "${v}" (want true or false)`);
}

/** The configuration with the flags' changes applied; throws UsageError on a bad value. */
export function applySchedulerFlags(
  current: SchedulerConfiguration,
  f: { [K in keyof typeof setFlags]?: string | number | undefined },
): SchedulerConfiguration {
  const next: SchedulerConfiguration = { ...current, PreemptionConfig: { ...current.PreemptionConfig } };
  const algo = f['scheduler-algorithm'];
  if (algo !== undefined) {
    if (algo !== 'binpack' && algo !== 'spread') throw new UsageError(`Invalid scheduler algorithm "${String(algo)}" (want binpack or spread)`);
    next.SchedulerAlgorithm = algo;
  }
  const set = (name: keyof typeof setFlags, apply: (b: boolean) => void): void => {
    const b = parseBool(name, f[name] as string | undefined);
    if (b !== undefined) apply(b);
  };
  set('memory-oversubscription', (b) => (next.MemoryOversubscriptionEnabled = b));
  set('reject-job-registration', (b) => (next.RejectJobRegistration = b));
  set('pause-eval-broker', (b) => (next.PauseEvalBroker = b));
  set('preempt-batch-scheduler', (b) => (next.PreemptionConfig.BatchSchedulerEnabled = b));
  set('preempt-service-scheduler', (b) => (next.PreemptionConfig.ServiceSchedulerEnabled = b));
  set('preempt-sysbatch-scheduler', (b) => (next.PreemptionConfig.SysBatchSchedulerEnabled = b));
  set('preempt-system-scheduler', (b) => (next.PreemptionConfig.SystemSchedulerEnabled = b));
  return next;
}

export const schedulerSetConfigCommand: Command = {
  path: ['operator', 'scheduler', 'set-config'],
  synopsis: 'Modify the current scheduler configuration',
  help: commandHelp({
    usage: 'yurt operator scheduler set-config [options]',
    description: 'Modifies the current scheduler configuration. Only the options given change.',
    general: true,
    optionsTitle: 'Scheduler Set Config Options',
    flags: setFlags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...setFlags });
    expectArgs(args, 0, 0, 'no arguments');
    const client = apiClient(io, f);
    let current;
    try {
      current = (await client.operator.schedulerConfiguration()).data?.SchedulerConfig;
    } catch (err) {
      return reportError(io, 'Error querying scheduler configuration', err);
    }
    if (current === null || current === undefined) {
      io.err('Error querying scheduler configuration: the server returned none');
      return EXIT_ERROR;
    }
    const next = applySchedulerFlags(current, f);
    let resp;
    try {
      resp = (await client.operator.updateSchedulerConfiguration(next, f['check-index'] !== undefined ? { casIndex: f['check-index'] } : {})).data;
    } catch (err) {
      return reportError(io, 'Error setting scheduler configuration', err);
    }
    if (f['check-index'] !== undefined && resp?.Updated === false) {
      io.err('Scheduler configuration could not be atomically updated, try again');
      return EXIT_ERROR;
    }
    io.out('Scheduler configuration updated!');
    return EXIT_OK;
  },
};
