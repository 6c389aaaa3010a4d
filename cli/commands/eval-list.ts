/** `yurt eval list`: the evaluations, newest first as the server orders them, filtered by job or status. */
import { defineFlags } from '../../structs/flags.js';
import type { Evaluation } from '../../structs/eval.js';
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { formatList, limit } from '../format/table.js';
import type { Row } from '../format/table.js';
import { toJson } from '../json-output.js';
import { expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  job: { type: 'string', placeholder: 'job_id', help: 'Only show evaluations for this job ID.' },
  status: { type: 'string', placeholder: 'status', help: 'Only show evaluations with this status (pending, blocked, complete, failed, canceled).' },
  verbose: { type: 'bool', help: 'Show full information: full IDs.' },
  json: { type: 'bool', help: 'Output the evaluations in their JSON format.' },
});

/** Nomad's `eval list` columns. */
export function formatEvalList(evals: readonly Evaluation[], idLen: number): string {
  const rows: Row[] = [['ID', 'Priority', 'Triggered By', 'Job ID', 'Namespace', 'Node ID', 'Status', 'Placement Failures']];
  for (const e of evals) {
    const failures = Object.keys(e.FailedTGAllocs ?? {}).length > 0;
    rows.push([limit(e.ID, idLen), e.Priority, e.TriggeredBy, e.JobID, e.Namespace, limit(e.NodeID, idLen), e.Status, failures]);
  }
  return formatList(rows);
}

export const evalListCommand: Command = {
  path: ['eval', 'list'],
  synopsis: 'List the evaluations',
  help: commandHelp({
    usage: 'yurt eval list [options]',
    description: 'List is used to list the set of evaluations processed by Yurt.',
    general: true,
    optionsTitle: 'Eval List Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
    expectArgs(args, 0, 0, 'no arguments');
    const client = apiClient(io, f);
    let evals;
    try {
      evals = (await client.evaluations.list()).data ?? [];
    } catch (err) {
      return reportError(io, 'Error querying evaluations', err);
    }
    // Filtered here: the same result whether or not the server understands `filter`.
    evals = evals.filter((e) => (f.job === undefined || e.JobID === f.job) && (f.status === undefined || e.Status === f.status));
    if (f.json) io.out(toJson(evals));
    else io.out(evals.length === 0 ? 'No evals found' : formatEvalList(evals, f.verbose ? 36 : 8));
    return EXIT_OK;
  },
};
