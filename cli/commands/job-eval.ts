/** `yurt job eval <job>`: force a new evaluation of a job (POST /v1/job/:id/evaluate). */
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { toJson } from '../json-output.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { jobLookup } from '../lookups.js';
import { monitorEval } from '../monitor/eval-monitor.js';
import { monitorUi } from '../monitor/monitor-ui.js';
import { resolvePrefix } from '../prefix.js';
import { expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  'force-reschedule': { type: 'bool', help: 'Force reschedule failed allocations even if they are not currently eligible for rescheduling.' },
  detach: { type: 'bool', help: 'Return immediately instead of entering monitor mode. The ID of the evaluation created will be printed to the screen.' },
  verbose: { type: 'bool', help: 'Display full information: full IDs in the monitor output.' },
  json: { type: 'bool', help: 'Print the API response as JSON instead of monitoring the evaluation.' },
});

export const jobEvalCommand: Command = {
  path: ['job', 'eval'],
  synopsis: 'Force an evaluation for the job',
  help: commandHelp({
    usage: 'yurt job eval [options] <job>',
    description: `Force an evaluation of the provided job ID. Forcing an evaluation will trigger
the scheduler to re-evaluate the job. The force flags allow operators to force
the scheduler to create new allocations under certain scenarios.`,
    general: true,
    optionsTitle: 'Eval Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
    expectArgs(args, 1, 1, 'one argument: <job>');
    const client = apiClient(io, f);
    const stub = await resolvePrefix(io, args[0] ?? '', jobLookup(client));
    if (typeof stub === 'number') return stub;
    let resp;
    try {
      resp = (await client.jobs.evaluate(stub.ID, f['force-reschedule'])).data;
    } catch (err) {
      return reportError(io, 'Error evaluating job', err);
    }
    if (f.json) {
      io.out(toJson(resp));
      return EXIT_OK;
    }
    if (f.detach) {
      io.out(`Created eval ID: "${resp.EvalID}"`);
      return EXIT_OK;
    }
    const ui = monitorUi(io.out, io.err, io.now);
    return (await monitorEval(client, resp.EvalID, ui, { idLen: f.verbose ? 36 : 8, signal: io.signal })).exitCode;
  },
};
