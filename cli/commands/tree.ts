/**
 * The `yurt` command tree: groups (job, alloc, eval, node, server) with their subcommands,
 * and Nomad's top-level shortcuts (run, stop, status). `agent` is listed for the help text
 * only; bin/yurt.js hands it to the agent before the CLI loads.
 */
import type { Command, CommandGroup } from '../command.js';
import { agentInfoCommand, systemGcCommand } from './agent-info.js';
import { allocExecCommand } from './alloc-exec.js';
import { allocLogsCommand } from './alloc-logs.js';
import { allocRestartCommand } from './alloc-restart.js';
import { allocSignalCommand } from './alloc-signal.js';
import { allocStopCommand } from './alloc-stop.js';
import { allocStatusCommand } from './alloc-status.js';
import { evalListCommand } from './eval-list.js';
import { deploymentListCommand } from './deployment-list.js';
import { deploymentStatusCommand } from './deployment-status.js';
import { deploymentFailCommand, deploymentPauseCommand, deploymentPromoteCommand, deploymentResumeCommand } from './deployment-control.js';
import { evalStatusCommand } from './eval-status.js';
import { jobAllocsCommand } from './job-allocs.js';
import { jobEvalCommand } from './job-eval.js';
import { jobHistoryCommand } from './job-history.js';
import { jobPlanCommand, planCommand } from './job-plan.js';
import { jobRevertCommand } from './job-revert.js';
import { jobInitCommand } from './job-init.js';
import { jobInspectCommand } from './job-inspect.js';
import { jobRunCommand, runCommand } from './job-run.js';
import { jobScaleCommand } from './job-scale.js';
import { jobStatusCommand } from './job-status.js';
import { statusCommand } from './status.js';
import { jobStopCommand, stopCommand } from './job-stop.js';
import { jobValidateCommand } from './job-validate.js';
import { nodeDrainCommand } from './node-drain.js';
import { nodeEligibilityCommand } from './node-eligibility.js';
import { nodeStatusCommand } from './node-status.js';
import { raftListPeersCommand, schedulerGetConfigCommand, schedulerSetConfigCommand } from './operator.js';
import { serverMembersCommand } from './server-members.js';
import { serverForceLeaveCommand, serverJoinCommand } from './server-join.js';
import { raftRemovePeerCommand, raftTransferLeadershipCommand } from './operator-raft.js';
import { tlsCaCreateCommand } from './tls-ca-create.js';
import { tlsCertCreateCommand } from './tls-cert-create.js';
import { tlsCaInfoCommand, tlsCertInfoCommand } from './tls-info.js';
import { versionCommand } from './version.js';
import { aclBootstrapCommand } from './acl-bootstrap.js';
import { aclPolicyApplyCommand, aclPolicyDeleteCommand, aclPolicyInfoCommand, aclPolicyListCommand } from './acl-policy.js';
import {
  aclTokenCreateCommand,
  aclTokenDeleteCommand,
  aclTokenInfoCommand,
  aclTokenListCommand,
  aclTokenSelfCommand,
  aclTokenUpdateCommand,
} from './acl-token.js';
import { namespaceApplyCommand, namespaceDeleteCommand, namespaceListCommand, namespaceStatusCommand } from './namespace-commands.js';

/** `name` may be nested ("operator raft"); the group answers to its last word. */
function group(name: string, synopsis: string, about: string, children: Array<Command | CommandGroup>): CommandGroup {
  const width = Math.max(...children.map((c) => (c.path[c.path.length - 1] ?? '').length)) + 4;
  const list = children
    .map((c) => `    ${(c.path[c.path.length - 1] ?? '').padEnd(width)}${c.synopsis}`)
    .join('\n');
  const help = `Usage: yurt ${name} <subcommand> [options] [args]

${about
  .trim()
  .split('\n')
  .map((l) => (l === '' ? l : `  ${l}`))
  .join('\n')}

  Please see the individual subcommand help for detailed usage information.

Subcommands:
${list}`;
  return { path: name.split(' '), synopsis, help, children };
}

export const jobGroup = group(
  'job',
  'Interact with jobs',
  `This command groups subcommands for interacting with jobs.

Run a new job:

    $ yurt job run <path>

Check the status of a job:

    $ yurt job status <job>

Stop a job:

    $ yurt job stop <job>`,
  [
    jobAllocsCommand,
    jobEvalCommand,
    jobHistoryCommand,
    jobInitCommand,
    jobInspectCommand,
    jobPlanCommand,
    jobRevertCommand,
    jobRunCommand,
    jobScaleCommand,
    jobStatusCommand,
    jobStopCommand,
    jobValidateCommand,
  ],
);

export const allocGroup = group(
  'alloc',
  'Interact with allocations',
  `This command groups subcommands for interacting with allocations.

Inspect the status of an allocation:

    $ yurt alloc status <alloc-id>

Stream a task's logs:

    $ yurt alloc logs -f <alloc-id> <task>`,
  [allocExecCommand, allocLogsCommand, allocRestartCommand, allocSignalCommand, allocStatusCommand, allocStopCommand],
);

export const evalGroup = group(
  'eval',
  'Interact with evaluations',
  `This command groups subcommands for interacting with evaluations.

Inspect an evaluation and why it did not place:

    $ yurt eval status <eval-id>`,
  [evalListCommand, evalStatusCommand],
);

export const deploymentGroup = group(
  'deployment',
  'Interact with deployments',
  `This command groups subcommands for interacting with deployments. Deployments
are used to manage a transition between two versions of a Yurt job.

Examine a deployment's status:

    $ yurt deployment status <deployment-id>

Promote the canaries of a deployment:

    $ yurt deployment promote <deployment-id>

Mark a deployment as failed:

    $ yurt deployment fail <deployment-id>`,
  [deploymentFailCommand, deploymentListCommand, deploymentPauseCommand, deploymentPromoteCommand, deploymentResumeCommand, deploymentStatusCommand],
);

export const nodeGroup = group(
  'node',
  'Interact with nodes',
  `This command groups subcommands for interacting with client nodes.

List the nodes, or show one:

    $ yurt node status [<node-id>]`,
  [nodeDrainCommand, nodeEligibilityCommand, nodeStatusCommand],
);

export const serverGroup = group(
  'server',
  'Interact with servers',
  `This command groups subcommands for interacting with Yurt servers.

List the servers and see which one leads:

    $ yurt server members

Join a server to a cluster, or remove one that failed:

    $ yurt server join 10.0.0.2
    $ yurt server force-leave s3.global`,
  [serverForceLeaveCommand, serverJoinCommand, serverMembersCommand],
);

export const operatorGroup = group(
  'operator',
  'Provides cluster-level tools for Yurt operators',
  `Provides cluster-level tools for Yurt operators, such as interacting with
the Raft subsystem and the scheduler configuration.`,
  [
    group('operator raft', 'Provides access to the Raft subsystem', 'Inspect the Raft peer set of the servers:\n\n    $ yurt operator raft list-peers', [raftListPeersCommand, raftRemovePeerCommand, raftTransferLeadershipCommand]),
    group(
      'operator scheduler',
      'Provides access to the scheduler configuration',
      'Read or change the scheduler configuration:\n\n    $ yurt operator scheduler get-config\n    $ yurt operator scheduler set-config -scheduler-algorithm=spread',
      [schedulerGetConfigCommand, schedulerSetConfigCommand],
    ),
  ],
);

export const systemGroup = group(
  'system',
  'Interact with the system API',
  'Run a garbage collection of jobs, evaluations, allocations and nodes:\n\n    $ yurt system gc',
  [systemGcCommand],
);

export const tlsGroup = group(
  'tls',
  'Generate self-signed TLS certificates for Yurt',
  `This command groups subcommands for creating the certificates of mutual TLS
between servers, clients and the CLI.

Create a CA, then a certificate for each server and client:

    $ yurt tls ca create
    $ yurt tls cert create -server -region global
    $ yurt tls cert create -client`,
  [
    group('tls ca', 'Helpers for managing CAs', 'Create a certificate authority, or show one:\n\n    $ yurt tls ca create\n    $ yurt tls ca info yurt-agent-ca.pem', [tlsCaCreateCommand, tlsCaInfoCommand]),
    group('tls cert', 'Helpers for managing certificates', 'Create a server certificate, or show one:\n\n    $ yurt tls cert create -server\n    $ yurt tls cert info global-server-yurt.pem', [tlsCertCreateCommand, tlsCertInfoCommand]),
  ],
);

/** Shown in help only: `yurt agent` never reaches the CLI. */
export const agentPlaceholder: Command = {
  path: ['agent'],
  synopsis: 'Runs a Yurt agent',
  help: 'Usage: yurt agent [options]\n\n  Runs a Yurt agent (server and/or client). See `yurt agent -help`.',
  async run(io) {
    io.err('The agent is started through bin/yurt.js: run `yurt agent -help`.');
    return 1;
  },
};

export const commonCommands: Array<Command | CommandGroup> = [
  runCommand,
  planCommand,
  stopCommand,
  statusCommand,
  allocGroup,
  jobGroup,
  nodeGroup,
  agentPlaceholder,
];

export const aclGroup = group(
  'acl',
  'Interact with ACL policies and tokens',
  `This command groups subcommands for interacting with ACL policies and tokens.

Bootstrap the ACL system (once), keeping the management token it prints:

    $ yurt acl bootstrap

Write a policy and give a token its rights:

    $ yurt acl policy apply -description "Read jobs" readonly readonly.hcl
    $ yurt acl token create -name alice -policy readonly`,
  [
    aclBootstrapCommand,
    group('acl policy', 'Interact with ACL policies', 'Create, list, inspect and delete ACL policies:\n\n    $ yurt acl policy apply <name> <path>\n    $ yurt acl policy list', [
      aclPolicyApplyCommand,
      aclPolicyDeleteCommand,
      aclPolicyInfoCommand,
      aclPolicyListCommand,
    ]),
    group('acl token', 'Interact with ACL tokens', 'Create, list, inspect and delete ACL tokens:\n\n    $ yurt acl token create -policy <name>\n    $ yurt acl token self', [
      aclTokenCreateCommand,
      aclTokenDeleteCommand,
      aclTokenInfoCommand,
      aclTokenListCommand,
      aclTokenSelfCommand,
      aclTokenUpdateCommand,
    ]),
  ],
);

export const namespaceGroup = group(
  'namespace',
  'Interact with namespaces',
  `This command groups subcommands for interacting with namespaces. Jobs, and the
allocations and evaluations they create, live in a namespace ("default" unless
-namespace or YURT_NAMESPACE says otherwise).

Create a namespace and run a job in it:

    $ yurt namespace apply -description "QA instances" web-qa
    $ yurt job run -namespace web-qa job.hcl`,
  [namespaceApplyCommand, namespaceDeleteCommand, namespaceListCommand, namespaceStatusCommand],
);

export const otherCommands: Array<Command | CommandGroup> = [
  aclGroup,
  agentInfoCommand,
  deploymentGroup,
  evalGroup,
  namespaceGroup,
  operatorGroup,
  serverGroup,
  systemGroup,
  tlsGroup,
  versionCommand,
];

export const rootHelp = ((): string => {
  const name = (c: Command | CommandGroup): string => c.path[c.path.length - 1] ?? '';
  const width = Math.max(...[...commonCommands, ...otherCommands].map((c) => name(c).length)) + 4;
  const line = (c: Command | CommandGroup): string => `    ${name(c).padEnd(width)}${c.synopsis}`;
  return `Usage: yurt [-version] [-help] <command> [args]

Common commands:
${commonCommands.map(line).join('\n')}

Other commands:
${otherCommands.map(line).join('\n')}`;
})();

export const root: CommandGroup = {
  path: [],
  synopsis: '',
  help: rootHelp,
  children: [...commonCommands, ...otherCommands],
};
