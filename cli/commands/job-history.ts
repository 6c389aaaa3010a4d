/** `yurt job history <job>`: the stored versions of a job, optionally with their diffs. */
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_ERROR, EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { formatJobHistory } from '../format/history-view.js';
import { toJson } from '../json-output.js';
import { jobLookup } from '../lookups.js';
import { resolvePrefix } from '../prefix.js';
import { expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  p: { type: 'bool', help: 'Display the difference between each version of the job and its predecessor.' },
  version: { type: 'int', placeholder: 'job_version', help: 'Display only the history for the given job version.' },
  json: { type: 'bool', help: 'Output the job versions in their JSON format.' },
});

export const jobHistoryCommand: Command = {
  path: ['job', 'history'],
  synopsis: 'Display all tracked versions of a job',
  help: commandHelp({
    usage: 'yurt job history [options] <job>',
    description: `History is used to display the known versions of a particular job. The command
can display the diff between job versions and can be useful for understanding
the changes that occurred to the job as well as deciding job versions to revert
to.`,
    general: true,
    optionsTitle: 'History Options',
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
      resp = (await client.jobs.versions(stub.ID, f.p)).data;
    } catch (err) {
      return reportError(io, 'Error retrieving job versions', err);
    }
    let versions = resp?.Versions ?? [];
    let diffs = resp?.Diffs ?? null;
    if (f.version !== undefined) {
      const i = versions.findIndex((v) => v.Version === f.version);
      if (i < 0) {
        io.err(`Could not find job version ${f.version} for job "${stub.ID}"`);
        return EXIT_ERROR;
      }
      versions = versions.slice(i, i + 2);
      diffs = diffs?.slice(i, i + 1) ?? null;
      if (f.json) {
        io.out(toJson(versions[0]));
        return EXIT_OK;
      }
      // Keep the predecessor only to know a diff exists; print just the asked-for version.
      io.out(formatJobHistory(versions, diffs, f.p).split('\n\n')[0] ?? '');
      return EXIT_OK;
    }
    io.out(f.json ? toJson(versions) : formatJobHistory(versions, diffs, f.p));
    return EXIT_OK;
  },
};
