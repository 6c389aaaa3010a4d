/** `yurt job scale <job> [<group>] <count>`: change a task group's count and follow the evaluation. */
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_ERROR, EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { toJson } from '../json-output.js';
import { jobLookup } from '../lookups.js';
import { monitorEval } from '../monitor/eval-monitor.js';
import { monitorUi } from '../monitor/monitor-ui.js';
import { resolvePrefix } from '../prefix.js';
import { UsageError, expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  detach: { type: 'bool', help: 'Return immediately instead of entering monitor mode. After job scaling is submitted, the evaluation ID will be printed to the screen.' },
  verbose: { type: 'bool', help: 'Display full information: full IDs in the monitor output.' },
  json: { type: 'bool', help: 'Print the API response as JSON instead of monitoring.' },
});

export const jobScaleCommand: Command = {
  path: ['job', 'scale'],
  synopsis: 'Change the count of a job and task group',
  help: commandHelp({
    usage: 'yurt job scale [options] <job> [<group>] <count>',
    description: `Perform a scaling action by altering the count within a job group.

Upon successful job submission, this command will immediately enter an
interactive monitor. This is useful to watch Yurt's internals make
scheduling decisions and place the submitted work onto nodes. The monitor
will end once job placement is done. It is safe to exit the monitor early
using ctrl+c.

The group may be left out when the job has a single task group.`,
    general: true,
    optionsTitle: 'Scale Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
    expectArgs(args, 2, 3, 'two or three arguments: <job> [<group>] <count>');
    const countArg = args[args.length - 1] ?? '';
    if (!/^\d+$/.test(countArg)) throw new UsageError(`Failed to convert count string to int: "${countArg}" is not a non-negative integer`);
    const count = Number(countArg);
    const client = apiClient(io, f);
    const stub = await resolvePrefix(io, args[0] ?? '', jobLookup(client));
    if (typeof stub === 'number') return stub;
    let group = args.length === 3 ? args[1] : undefined;
    if (group === undefined) {
      let job;
      try {
        job = (await client.jobs.info(stub.ID)).data;
      } catch (err) {
        return reportError(io, 'Error querying job', err);
      }
      const names = job.TaskGroups.map((g) => g.Name);
      if (names.length !== 1) {
        io.err(`Group name required: job "${stub.ID}" has ${names.length} task groups (${names.join(', ')})`);
        return EXIT_ERROR;
      }
      group = names[0]!;
    }
    let resp;
    try {
      resp = (await client.jobs.scale(stub.ID, group, count, { message: 'submitted using the Yurt CLI' })).data;
    } catch (err) {
      return reportError(io, 'Error submitting scaling request', err);
    }
    if (f.json) {
      io.out(toJson(resp));
      return EXIT_OK;
    }
    if (resp.EvalID === '') return EXIT_OK;
    if (f.detach) {
      io.out(`Evaluation ID: ${resp.EvalID}`);
      return EXIT_OK;
    }
    const ui = monitorUi(io.out, io.err, io.now);
    return (await monitorEval(client, resp.EvalID, ui, { idLen: f.verbose ? 36 : 8, signal: io.signal })).exitCode;
  },
};
