/**
 * ApiClient: the typed client for an agent's Nomad-compatible `/v1` HTTP API, grouped like
 * Nomad's Go api package (`client.jobs.list()` ~ `client.Jobs().List()`).
 */
import { Agent } from './agent.js';
import { Allocations } from './allocations.js';
import { resolveClientConfig } from './config.js';
import type { ApiClientConfig, ExplicitConfig } from './config.js';
import { Deployments } from './deployments.js';
import { Evaluations } from './evaluations.js';
import { Events } from './events.js';
import { HttpApi } from './http.js';
import type { FetchFn } from './http.js';
import { Jobs } from './jobs.js';
import { Logs } from './logs.js';
import { Nodes } from './nodes.js';
import { Operator } from './operator.js';
import { Status } from './status.js';
import { System } from './system.js';

export class ApiClient extends HttpApi {
  readonly jobs: Jobs;
  readonly allocations: Allocations;
  readonly evaluations: Evaluations;
  readonly nodes: Nodes;
  readonly agent: Agent;
  readonly status: Status;
  readonly logs: Logs;
  readonly operator: Operator;
  readonly system: System;
  readonly deployments: Deployments;
  readonly events: Events;

  constructor(config: ApiClientConfig, fetchFn?: FetchFn) {
    super(config, fetchFn);
    this.jobs = new Jobs(this);
    this.allocations = new Allocations(this);
    this.evaluations = new Evaluations(this);
    this.nodes = new Nodes(this);
    this.agent = new Agent(this);
    this.status = new Status(this);
    this.logs = new Logs(this);
    this.operator = new Operator(this);
    this.system = new System(this);
    this.deployments = new Deployments(this);
    this.events = new Events(this);
  }

  /** A client configured from explicit values (flags) over the YURT_ and NOMAD_ environment variables. */
  static fromEnv(explicit: ExplicitConfig = {}, env: Record<string, string | undefined> = process.env): ApiClient {
    return new ApiClient(resolveClientConfig(explicit, env));
  }
}
