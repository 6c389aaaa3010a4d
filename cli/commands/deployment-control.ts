/**
 * The commands that move a deployment by hand, as Nomad's: `deployment fail`, `pause`,
 * `resume` and `promote`. Each resolves the deployment by ID prefix, makes the change, prints
 * Nomad's one-line result and, unless -detach, follows the evaluation the change created.
 */
import type { DeploymentUpdateResponse } from '../../structs/deployment.js';
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_ERROR, EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import type { CliIo } from '../io.js';
import { monitorEval } from '../monitor/eval-monitor.js';
import { monitorUi } from '../monitor/monitor-ui.js';
import { resolvePrefix } from '../prefix.js';
import { UsageError, expectArgs, parseArgs } from '../usage.js';
import { deploymentLookup } from './deployment-status.js';
import type { ApiClient } from '../../api/client.js';

const monitorFlags = defineFlags({
  detach: { type: 'bool', help: 'Return immediately instead of entering monitor mode. The evaluation ID will be printed instead.' },
  verbose: { type: 'bool', help: 'Display full information: full IDs.' },
});

const promoteFlags = defineFlags({
  ...monitorFlags,
  group: { type: 'stringList', placeholder: 'group', help: 'Promote the canaries of only this task group; may be given more than once. Without it, every group is promoted.' },
});

type Action = (client: ApiClient, id: string, groups: string[]) => Promise<DeploymentUpdateResponse>;

async function act(io: CliIo, argv: string[], what: string, action: Action, done: (id: string, r: DeploymentUpdateResponse) => string | null): Promise<number> {
  const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...promoteFlags });
  expectArgs(args, 1, 1, 'one argument: <deployment id>');
  if (what !== 'promoting' && f.group.length > 0) throw new UsageError('-group applies to "deployment promote" only');
  const client = apiClient(io, f);
  const idLen = f.verbose ? 36 : 8;
  const d = await resolvePrefix(io, args[0] ?? '', deploymentLookup(client, { verbose: f.verbose }));
  if (typeof d === 'number') return d;
  let r: DeploymentUpdateResponse;
  try {
    r = await action(client, d.ID, f.group);
  } catch (err) {
    return reportError(io, `Error ${what} deployment`, err);
  }
  const line = done(d.ID, r);
  if (line !== null) io.out(line);
  if (r.EvalID === '') return EXIT_OK;
  if (f.detach) {
    io.out(`Evaluation ID: ${r.EvalID}`);
    return EXIT_OK;
  }
  if (line !== null) io.out('');
  const monitored = await monitorEval(client, r.EvalID, monitorUi(io.out, io.err, io.now), { idLen, signal: io.signal });
  return monitored.exitCode === EXIT_ERROR ? EXIT_ERROR : monitored.exitCode;
}

function command(name: string, synopsis: string, description: string, run: Command['run'], flags = monitorFlags): Command {
  return {
    path: ['deployment', name],
    synopsis,
    help: commandHelp({ usage: `yurt deployment ${name} [options] <deployment id>`, description, general: true, optionsTitle: `${name[0]!.toUpperCase()}${name.slice(1)} Options`, flags }),
    run,
  };
}

export const deploymentFailCommand = command(
  'fail',
  'Manually fail a deployment',
  `Fail is used to mark a deployment as failed. Failing a deployment stops the placement
of new allocations as part of rolling deployment; with auto_revert the job is reverted
to its latest stable version.`,
  (io, argv) =>
    act(io, argv, 'failing', async (c, id) => (await c.deployments.fail(id)).data, (id, r) =>
      r.RevertedJobVersion === undefined ? `Deployment "${id}" failed` : `Deployment "${id}" failed. Auto-reverted to job version ${r.RevertedJobVersion}.`,
    ),
);

export const deploymentPauseCommand = command(
  'pause',
  'Pause a deployment',
  'Pause is used to pause a deployment. Pausing a deployment will pause the placement of new allocations as part of rolling deployment.',
  (io, argv) => act(io, argv, 'pausing', async (c, id) => (await c.deployments.pause(id, true)).data, (id) => `Deployment "${id}" paused`),
);

export const deploymentResumeCommand = command(
  'resume',
  'Resume a paused deployment',
  'Resume is used to unpause a paused deployment. Resuming a deployment will resume the placement of new allocations as part of rolling deployment.',
  (io, argv) => act(io, argv, 'resuming', async (c, id) => (await c.deployments.pause(id, false)).data, (id) => `Deployment "${id}" resumed`),
);

export const deploymentPromoteCommand = command(
  'promote',
  'Promote a deployment',
  `Promote is used to promote task groups in a deployment. Promotion should occur when the
deployment has placed canaries for a task group and those canaries have been deemed
healthy. When a task group is promoted, the rolling upgrade of the remaining
allocations is unblocked. Without -group, every task group is promoted.`,
  (io, argv) =>
    act(
      io,
      argv,
      'promoting',
      async (c, id, groups) => (groups.length === 0 ? (await c.deployments.promoteAll(id)).data : (await c.deployments.promoteGroups(id, groups)).data),
      () => null,
    ),
  promoteFlags,
);
