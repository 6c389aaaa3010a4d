/** `yurt agent-info` (GET /v1/agent/self) and `yurt system gc` (PUT /v1/system/gc). */
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { formatAgentStats } from '../format/operator-view.js';
import { toJson } from '../json-output.js';
import { expectArgs, parseArgs } from '../usage.js';

const jsonFlag = defineFlags({ json: { type: 'bool', help: "Output the agent's self-description in its JSON format." } });

export const agentInfoCommand: Command = {
  path: ['agent-info'],
  synopsis: 'Display status information about the local agent',
  help: commandHelp({
    usage: 'yurt agent-info [options]',
    description: 'Display status information about the local agent.',
    general: true,
    optionsTitle: 'Agent Info Options',
    flags: jsonFlag,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...jsonFlag });
    expectArgs(args, 0, 0, 'no arguments');
    let self;
    try {
      self = (await apiClient(io, f).agent.self()).data;
    } catch (err) {
      return reportError(io, 'Error querying agent info', err);
    }
    io.out(f.json ? toJson(self) : formatAgentStats(self?.stats ?? {}));
    return EXIT_OK;
  },
};

export const systemGcCommand: Command = {
  path: ['system', 'gc'],
  synopsis: 'Run the system garbage collection process',
  help: commandHelp({
    usage: 'yurt system gc [options]',
    description: 'Initializes a garbage collection of jobs, evaluations, allocations, and nodes.',
    general: true,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, generalFlags);
    expectArgs(args, 0, 0, 'no arguments');
    try {
      await apiClient(io, f).system.garbageCollect();
    } catch (err) {
      return reportError(io, 'Error running system garbage-collection', err);
    }
    return EXIT_OK;
  },
};
