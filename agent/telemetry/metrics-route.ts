/**
 * GET /v1/metrics: Nomad's JSON metrics, or the Prometheus text format with
 * `?format=prometheus` when the telemetry stanza enables prometheus_metrics.
 */
import { YurtError } from '../../structs/errors.js';
import type { Route } from '../http/http-router.js';
import type { Telemetry } from './telemetry.js';

export function metricsRoutes(telemetry: Telemetry, prometheusEnabled: boolean): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/metrics',
      handler: async (rc) => {
        if (rc.query.get('format') === 'prometheus') {
          if (!prometheusEnabled) throw new YurtError('invalid_argument', 'Prometheus is not enabled; set telemetry { prometheus_metrics = true }');
          rc.res.setHeader('Content-Type', telemetry.registry.contentType);
          rc.res.end(await telemetry.prometheus());
          return { raw: true };
        }
        return { json: await telemetry.json() };
      },
    },
  ];
}
