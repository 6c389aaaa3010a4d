/** `yurt alloc stop <alloc>`: stop one allocation (the scheduler replaces it) and follow the evaluation. */
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { toJson } from '../json-output.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { allocLookup } from '../lookups.js';
import { monitorEval } from '../monitor/eval-monitor.js';
import { monitorUi } from '../monitor/monitor-ui.js';
import { resolvePrefix } from '../prefix.js';
import { expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  detach: { type: 'bool', help: 'Return immediately instead of entering monitor mode. After the stop command is submitted, a new evaluation ID is printed to the screen.' },
  verbose: { type: 'bool', help: 'Display full information: full IDs in the monitor output.' },
  json: { type: 'bool', help: 'Print the API response as JSON instead of monitoring the evaluation.' },
});

export const allocStopCommand: Command = {
  path: ['alloc', 'stop'],
  synopsis: 'Stop and reschedule a running allocation',
  help: commandHelp({
    usage: 'yurt alloc stop [options] <allocation>',
    description: `Stop an existing allocation. This command is used to signal a specific alloc
to shut down. When the allocation has been shut down, it will then be
rescheduled. An interactive monitoring session will display log lines as the
allocation completes shutting down.`,
    general: true,
    optionsTitle: 'Stop Specific Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
    expectArgs(args, 1, 1, 'one argument: <allocation>');
    const client = apiClient(io, f);
    const stub = await resolvePrefix(io, args[0] ?? '', allocLookup(client, { verbose: f.verbose, nowMs: io.now() }));
    if (typeof stub === 'number') return stub;
    let resp;
    try {
      resp = (await client.allocations.stop(stub.ID)).data;
    } catch (err) {
      return reportError(io, 'Error stopping allocation', err);
    }
    if (f.json) {
      io.out(toJson(resp));
      return EXIT_OK;
    }
    if (resp === null || resp.EvalID === '') return EXIT_OK;
    if (f.detach) {
      io.out(resp.EvalID);
      return EXIT_OK;
    }
    const ui = monitorUi(io.out, io.err, io.now);
    return (await monitorEval(client, resp.EvalID, ui, { idLen: f.verbose ? 36 : 8, signal: io.signal })).exitCode;
  },
};
