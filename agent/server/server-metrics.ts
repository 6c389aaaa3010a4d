/**
 * The timings the server reports, as a narrow sink so the server does not depend on how
 * telemetry stores them. The agent plugs its Telemetry in; tests can leave it out.
 */
export interface ServerMetricsSink {
  /** Seconds one scheduler invocation took, by scheduler type. */
  workerInvoke(type: string, seconds: number): void;
  /** Seconds to verify and commit one plan. */
  planApply(seconds: number): void;
}

export const NO_METRICS: ServerMetricsSink = { workerInvoke: () => undefined, planApply: () => undefined };
