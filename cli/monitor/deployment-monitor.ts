/**
 * Follows a deployment until it ends, as `nomad job run` does since Nomad 1.2: a
 * `Monitoring deployment "<id>"` headline, a line for each change of its status description
 * or group counts, and at the end the deployment with its "Deployed" table. Blocking queries
 * on the deployment drive it. Exit code: 0 when it succeeded, 2 when it failed or was
 * cancelled (as Nomad's allocation-errors code), 1 when it could not be read.
 */
import type { ApiClient } from '../../api/client.js';
import { isAbortError } from '../../api/http-error.js';
import { isDeploymentActive, type Deployment } from '../../structs/deployment.js';
import { asYurtError } from '../../structs/errors.js';
import { formatDeployment } from '../format/deployment-view.js';
import { limit } from '../format/table.js';
import { DEFAULT_WAIT_MS, paceBlockingQuery } from './blocking.js';
import type { MonitorUi } from './monitor-ui.js';

export interface DeploymentMonitorOptions {
  idLen: number;
  signal?: AbortSignal | undefined;
  waitMs?: number;
}

export interface DeploymentMonitorResult {
  exitCode: 0 | 1 | 2;
  deployment: Deployment | null;
}

/** One line per group: how far it got (placed, healthy, unhealthy of desired). */
export function deploymentProgressLines(d: Deployment): string[] {
  return Object.entries(d.TaskGroups)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, g]) => {
      const canaries = g.DesiredCanaries > 0 ? `, canaries ${g.PlacedCanaries.length}/${g.DesiredCanaries}${g.Promoted ? ' (promoted)' : ''}` : '';
      return `Task Group "${name}": ${g.HealthyAllocs}/${g.DesiredTotal} healthy, ${g.PlacedAllocs} placed, ${g.UnhealthyAllocs} unhealthy${canaries}`;
    });
}

export async function monitorDeployment(client: ApiClient, id: string, ui: MonitorUi, opts: DeploymentMonitorOptions): Promise<DeploymentMonitorResult> {
  ui.info(`Monitoring deployment "${limit(id, opts.idLen)}"`);
  let index = 0;
  let lastDescription = '';
  let lastProgress = new Set<string>();
  let d: Deployment | null = null;
  try {
    for (;;) {
      const started = Date.now();
      const q = await client.deployments.info(id, { index, waitMs: opts.waitMs ?? DEFAULT_WAIT_MS, ...(opts.signal !== undefined ? { signal: opts.signal } : {}) });
      d = q.data;
      if (d.StatusDescription !== lastDescription) {
        ui.output(`Deployment "${limit(d.ID, opts.idLen)}" ${d.Status}: ${d.StatusDescription}`);
        lastDescription = d.StatusDescription;
      }
      const progress = deploymentProgressLines(d);
      for (const line of progress) if (!lastProgress.has(line)) ui.output(line);
      lastProgress = new Set(progress);
      if (!isDeploymentActive(d)) break;
      await paceBlockingQuery(index, q.index, started, Date.now(), opts.signal);
      index = Math.max(index, q.index);
    }
  } catch (err) {
    if (isAbortError(err)) throw err;
    ui.error(`Error fetching deployment: ${asYurtError(err).message}`);
    return { exitCode: 1, deployment: d };
  }
  const ok = d.Status === 'successful';
  ui.info(ok ? `Deployment "${limit(d.ID, opts.idLen)}" successful` : `Deployment "${limit(d.ID, opts.idLen)}" ${d.Status}`);
  for (const line of formatDeployment(d, opts.idLen).split('\n')) ui.detail(line);
  return { exitCode: ok ? 0 : 2, deployment: d };
}
