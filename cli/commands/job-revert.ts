/** `yurt job revert <job> <version>`: register an earlier version again and follow its evaluation. */
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { toJson } from '../json-output.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { jobLookup } from '../lookups.js';
import { monitorEval } from '../monitor/eval-monitor.js';
import { monitorUi } from '../monitor/monitor-ui.js';
import { resolvePrefix } from '../prefix.js';
import { UsageError, expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  detach: { type: 'bool', help: 'Return immediately instead of entering monitor mode. After job revert, the evaluation ID will be printed to the screen.' },
  verbose: { type: 'bool', help: 'Display full information: full IDs in the monitor output.' },
  json: { type: 'bool', help: 'Print the API response as JSON instead of monitoring the evaluation.' },
});

export const jobRevertCommand: Command = {
  path: ['job', 'revert'],
  synopsis: 'Revert to a prior version of the job',
  help: commandHelp({
    usage: 'yurt job revert [options] <job> <version>',
    description: `Revert is used to revert a job to a prior version of the job. The available
versions to revert to can be found using "yurt job history" command. The prior
version is registered again as a new version of the job.`,
    general: true,
    optionsTitle: 'Revert Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
    expectArgs(args, 2, 2, 'two arguments: <job> <version>');
    const versionText = args[1] ?? '';
    if (!/^\d+$/.test(versionText)) throw new UsageError(`Failed to parse job version "${versionText}": not a non-negative integer`);
    const client = apiClient(io, f);
    const stub = await resolvePrefix(io, args[0] ?? '', jobLookup(client));
    if (typeof stub === 'number') return stub;
    let resp;
    try {
      resp = (await client.jobs.revert(stub.ID, Number(versionText))).data;
    } catch (err) {
      return reportError(io, 'Error retrieving job version', err);
    }
    // Periodic and parameterized jobs create no evaluation.
    if (f.json) {
      io.out(toJson(resp));
      return EXIT_OK;
    }
    if (resp === null || resp.EvalID === '') return EXIT_OK;
    if (f.detach) {
      io.out(`Evaluation ID: ${resp.EvalID}`);
      return EXIT_OK;
    }
    const ui = monitorUi(io.out, io.err, io.now);
    return (await monitorEval(client, resp.EvalID, ui, { idLen: f.verbose ? 36 : 8, signal: io.signal })).exitCode;
  },
};
