/**
 * The end-to-end suite (`npm run e2e [-- options]`): builds the images from this checkout, starts
 * a cluster in Docker containers, runs the scenarios of issue #10 against it through the yurt
 * CLI and the HTTP API, prints a summary, and removes everything it created (also on failure
 * and on Ctrl-C). See e2e/README.md.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ArtifactServer } from './artifact-server.js';
import { Cluster, type ClusterOptions } from './cluster.js';
import { dockerTry, engineAnswers } from './docker.js';
import { TASK_IMAGE, buildTaskImage, buildYurtImages, e2eImages } from './images.js';
import { summaryTable, type Outcome } from './report.js';
import type { Scenario, ScenarioContext } from './scenario.js';
import { QUICK, scenarios } from './scenarios/index.js';

const USAGE = `Usage: npm run e2e -- [options]

  --quick              run scenarios ${QUICK.join(', ')} only
  --only N[,N...]      run these scenarios only (issue #10's numbers)
  --servers N          servers in the cluster: 3 (default) or 1 (bootstrap_expect = 1;
                       scenarios that need a quorum of followers then fail)
  --rebuild            build the images even when images of the same sources exist
  --image-tag TAG      run the images yurt-e2e:TAG and yurt-e2e-dind:TAG of an earlier build
                       as they are (say, while the working tree is between two edits)
  --keep               leave the cluster running at the end (remove it with
                       docker rm -f $(docker ps -aq --filter label=yurt-e2e=RUN))
  --timeout S          per-scenario time limit in seconds (default 300)
  -h, --help           this text`;

interface Options {
  ids: number[];
  servers: number;
  rebuild: boolean;
  imageTag: string | undefined;
  keep: boolean;
  timeoutMs: number;
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      servers: { type: 'string', default: process.env['YURT_E2E_SERVERS'] ?? '3' },
      rebuild: { type: 'boolean', default: false },
      'image-tag': { type: 'string' },
      keep: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '300' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return null;
  const all = scenarios.map((s) => s.id);
  let ids = values.quick ? QUICK : all;
  if (values.only !== undefined) {
    ids = values.only.split(',').map((s) => Number(s.trim()));
    const unknown = ids.filter((i) => !all.includes(i));
    if (unknown.length > 0) throw new Error(`--only: no scenario ${unknown.join(', ')} (there are ${all.join(', ')})`);
  }
  const servers = Number(values.servers);
  if (servers !== 1 && servers !== 3) throw new Error(`--servers must be 1 or 3, not ${values.servers}`);
  const timeout = Number(values.timeout);
  if (!(timeout > 0)) throw new Error(`--timeout must be a positive number of seconds, not ${values.timeout}`);
  return { ids, servers, rebuild: values.rebuild, imageTag: values['image-tag'], keep: values.keep, timeoutMs: timeout * 1000 };
}

const started = Date.now();
function log(msg: string): void {
  const s = Math.floor((Date.now() - started) / 1000);
  process.stdout.write(`[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${msg}\n`);
}

async function main(): Promise<number> {
  let opts: Options | null;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}\n`);
    return 2;
  }
  if (!opts) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!(await engineAnswers())) {
    process.stderr.write('The Docker engine does not answer. Start dockerd first (see e2e/README.md).\n');
    return 1;
  }

  const runId = randomBytes(3).toString('hex');
  const workDir = await mkdtemp(join(tmpdir(), `yurt-e2e-${runId}-`));
  const images = opts.imageTag !== undefined ? { yurt: `yurt-e2e:${opts.imageTag}`, dind: `yurt-e2e-dind:${opts.imageTag}`, task: TASK_IMAGE } : await e2eImages();
  const clusterOpts: ClusterOptions = {
    runId,
    workDir: join(workDir, 'agents'),
    servers: opts.servers,
    // Half the host's memory reserved on the base clients: scenario 5's "bigger node" is a client
    // without the reservation (every container sees the host's memory).
    // Three clients: each lists a different server first (cluster.ts), so whichever server
    // leads, some client is talking to it when scenario 7 cuts it off.
    clients: [
      { name: 'client-1', meta: { rack: 'r1' } },
      { name: 'client-2', meta: { rack: 'r2' } },
      { name: 'client-3', meta: { rack: 'r3' } },
    ],
    image: images.yurt,
    dindImage: images.dind,
    taskImages: [images.task],
    subnets: Array.from({ length: 40 }, (_, i) => 100 + ((Number.parseInt(runId, 16) + i) % 40)),
  };
  const cluster = new Cluster(clusterOpts);
  const artifacts = new ArtifactServer();

  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    await artifacts.close();
    if (opts.keep) {
      log(`--keep: cluster left running (label yurt-e2e=${runId}, network ${cluster.network})`);
      return;
    }
    log('removing the containers and the network');
    await cluster.destroy();
    await rm(workDir, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    log(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const outcomes: Outcome[] = [];
  let setupSeconds = 0;
  try {
    const t0 = Date.now();
    const have = async (...refs: string[]): Promise<boolean> => (await dockerTry(['image', 'inspect', ...refs])).code === 0;
    if (opts.imageTag !== undefined) {
      if (!(await have(images.yurt, images.dind))) throw new Error(`--image-tag ${opts.imageTag}: no images ${images.yurt} and ${images.dind}`);
      log(`using ${images.yurt} and ${images.dind} as they are`);
    } else if (opts.rebuild || !(await have(images.yurt, images.dind))) {
      log(`building ${images.yurt} and ${images.dind} (deploy/docker/build-image.sh)`);
      await buildYurtImages(images, log);
    } else {
      log(`${images.yurt} and ${images.dind} are up to date with the sources`);
    }
    if (!(await have(images.task))) await buildTaskImage(images.task);
    log(`starting ${opts.servers} server(s) and ${clusterOpts.clients.length} clients (run ${runId})`);
    const memory = await hostMemoryMB();
    for (const c of clusterOpts.clients) c.reservedMemoryMB = Math.floor(memory / 2);
    await cluster.start();
    await artifacts.listen(cluster.gateway);
    setupSeconds = (Date.now() - t0) / 1000;
    log(`cluster up on ${cluster.subnet}.0/24 in ${setupSeconds.toFixed(1)}s`);

    for (const s of scenarios.filter((x) => opts.ids.includes(x.id))) {
      outcomes.push(await runScenario(s, { cluster, images, artifacts, workDir }, opts));
    }
  } catch (e) {
    log(`setup failed: ${e instanceof Error ? e.message : String(e)}`);
    process.stdout.write(`${await cluster.logTails(60).catch(() => '')}\n`);
    outcomes.push({ id: 0, title: 'cluster setup', status: 'FAIL', seconds: (Date.now() - started) / 1000, reason: firstLine(e) });
  } finally {
    await cleanup();
  }
  process.stdout.write(`\n${summaryTable(outcomes, setupSeconds, (Date.now() - started) / 1000)}\n`);
  return outcomes.every((o) => o.status === 'PASS') && outcomes.length > 0 ? 0 : 1;
}

async function runScenario(s: Scenario, base: Omit<ScenarioContext, 'log' | 'defer'>, opts: Options): Promise<Outcome> {
  const title = s.title;
  log(`=== ${s.id}. ${title}`);
  const t0 = Date.now();
  const deferred: Array<{ what: string; fn: () => Promise<unknown> }> = [];
  const ctx: ScenarioContext = {
    ...base,
    log: (m) => log(`  ${m}`),
    defer: (what, fn) => deferred.push({ what, fn }),
  };
  let error: unknown = null;
  try {
    if (base.cluster.servers().length < (s.minServers ?? 1)) {
      throw new Error(`needs ${s.minServers} servers, the cluster has ${base.cluster.servers().length} (run with --servers 3)`);
    }
    await base.cluster.ensureHealthy().catch((e: unknown) => {
      throw new Error(`the cluster was not healthy before the scenario: ${e instanceof Error ? e.message : String(e)}`);
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`scenario timed out after ${opts.timeoutMs / 1000}s`)), opts.timeoutMs);
    });
    try {
      await Promise.race([s.run(ctx), timeout]);
    } finally {
      clearTimeout(timer);
    }
  } catch (e) {
    error = e;
  }
  const seconds = (Date.now() - t0) / 1000;
  if (error !== null) {
    log(`FAIL ${s.id}. ${title} (${seconds.toFixed(1)}s)\n${error instanceof Error ? (error.stack ?? error.message) : firstLine(error)}`);
    process.stdout.write(`${await base.cluster.logTails(40).catch((e: unknown) => `(cannot read the logs: ${firstLine(e)})`)}\n`);
  } else {
    log(`PASS ${s.id}. ${title} (${seconds.toFixed(1)}s)`);
  }
  for (const d of deferred.reverse()) {
    try {
      await d.fn();
    } catch (e) {
      log(`  cleanup "${d.what}" failed: ${firstLine(e)}`);
    }
  }
  return { id: s.id, title, status: error === null ? 'PASS' : 'FAIL', seconds, ...(error !== null ? { reason: firstLine(error) } : {}) };
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e)).split('\n')[0] ?? '';
}

async function hostMemoryMB(): Promise<number> {
  const { totalmem } = await import('node:os');
  return Math.floor(totalmem() / 1024 / 1024);
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
