/**
 * `yurt agent [flags]`: resolve the configuration, print Nomad's startup banner, run until
 * SIGINT/SIGTERM, then shut down cleanly.
 */
import { YurtError, ValidationError } from '../structs/errors.js';
import { formatFlagHelp } from '../structs/flags.js';
import { Agent } from './agent.js';
import { agentFlagSpec, configFromFlags, resolveAgentConfig, type AgentConfig } from './config/index.js';
import { createLogger } from './logger.js';
import { YURT_VERSION } from './version.js';

function banner(c: AgentConfig, agent: Agent): string {
  const http = agent.httpAddr ? `${c.addresses.http}:${agent.httpAddr.port}` : '';
  const rpc = agent.rpcAddr ? `${c.addresses.rpc}:${agent.rpcAddr.port}` : '';
  const rows: Array<[string, string]> = [
    ['Advertise Addrs', `HTTP: ${c.advertise.http}; RPC: ${c.advertise.rpc}`],
    ['Bind Addrs', `HTTP: [${http}]; RPC: ${rpc}`],
    ['Client', String(c.client.enabled)],
    ['Log Level', c.logLevel],
    ['Node Id', agent.client?.nodeId() ?? 'N/A'],
    ['Region', `${c.region} (DC: ${c.datacenter})`],
    ['Server', String(c.server.enabled)],
    ['Version', YURT_VERSION],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return ['==> yurt agent configuration:', '', ...rows.map(([k, v]) => `${' '.repeat(w - k.length + 7)}${k}: ${v}`), '', '==> yurt agent started! Log data will stream in below:', ''].join('\n');
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('-help') || argv.includes('--help')) {
    process.stdout.write(`Usage: yurt agent [options]\n\n  Starts the yurt agent and runs until an interrupt is received.\n\nOptions:\n\n${formatFlagHelp(agentFlagSpec)}\n`);
    return 0;
  }
  let config: AgentConfig;
  try {
    configFromFlags(argv);
    config = await resolveAgentConfig(argv);
  } catch (e) {
    if (e instanceof ValidationError || e instanceof YurtError) {
      process.stderr.write(`==> Error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  if (config.devMode) process.stdout.write('==> No configuration files loaded\n==> Starting yurt agent in dev mode; data in ' + config.dataDir + '\n');
  const logger = createLogger({ level: config.logLevel, json: config.logJson });
  const agent = new Agent(config, logger);
  // SIGHUP reloads the TLS certificates (Nomad reloads its configuration); without a
  // handler Node would exit on it.
  process.on('SIGHUP', () => {
    process.stdout.write('==> Caught signal: hangup\n==> Reloading TLS certificates...\n');
    void agent.reloadTls();
  });
  try {
    await agent.start();
  } catch (e) {
    process.stderr.write(`==> Error starting agent: ${e instanceof Error ? e.message : String(e)}\n`);
    await agent.stop().catch(() => undefined);
    return 1;
  }
  process.stdout.write(banner(config, agent));
  const sig = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (s: NodeJS.Signals): void => {
      process.stdout.write(`==> Caught signal: ${s}\n==> Gracefully shutting down agent...\n`);
      resolve(s);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  // A second signal while leaving or stopping means "now".
  const forceExit = (): void => process.exit(1);
  process.once('SIGINT', forceExit);
  process.once('SIGTERM', forceExit);
  if ((sig === 'SIGTERM' && config.leaveOnTerminate) || (sig === 'SIGINT' && config.leaveOnInterrupt)) {
    process.stdout.write('==> Gracefully leaving the cluster...\n');
    await agent.leave();
  }
  await agent.stop({ stopAllocs: config.devMode });
  return 0;
}

main(process.argv.slice(3)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`==> Error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
