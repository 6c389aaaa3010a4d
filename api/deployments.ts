/** `/v1/deployments` and `/v1/deployment/...`, like Nomad's `api.Deployments()`. */
import type { AllocListStub, AllocDeploymentStatus } from '../structs/alloc.js';
import type { Deployment, DeploymentUpdateResponse } from '../structs/deployment.js';
import type { HttpApi } from './http.js';
import type { QueryOptions, QueryResult, WriteOptions, WriteResult } from './query.js';

/** A row of GET /v1/deployment/allocations/:id: the stub plus the allocation's health verdict. */
export type DeploymentAllocStub = AllocListStub & { DeploymentStatus: AllocDeploymentStatus | null };

export class Deployments {
  constructor(private readonly http: HttpApi) {}

  list(opts?: QueryOptions): Promise<QueryResult<Deployment[]>> {
    return this.http.query('/v1/deployments', opts);
  }

  prefixList(prefix: string, opts?: QueryOptions): Promise<QueryResult<Deployment[]>> {
    return this.list({ ...opts, prefix });
  }

  info(id: string, opts?: QueryOptions): Promise<QueryResult<Deployment>> {
    return this.http.query(`/v1/deployment/${encodeURIComponent(id)}`, opts);
  }

  allocations(id: string, opts?: QueryOptions): Promise<QueryResult<DeploymentAllocStub[]>> {
    return this.http.query(`/v1/deployment/allocations/${encodeURIComponent(id)}`, opts);
  }

  fail(id: string, opts?: WriteOptions): Promise<WriteResult<DeploymentUpdateResponse>> {
    return this.http.write('POST', `/v1/deployment/fail/${encodeURIComponent(id)}`, { DeploymentID: id }, opts);
  }

  /** Pause (`pause` true) or resume a deployment. */
  pause(id: string, pause: boolean, opts?: WriteOptions): Promise<WriteResult<DeploymentUpdateResponse>> {
    return this.http.write('POST', `/v1/deployment/pause/${encodeURIComponent(id)}`, { DeploymentID: id, Pause: pause }, opts);
  }

  promoteAll(id: string, opts?: WriteOptions): Promise<WriteResult<DeploymentUpdateResponse>> {
    return this.http.write('POST', `/v1/deployment/promote/${encodeURIComponent(id)}`, { DeploymentID: id, All: true }, opts);
  }

  promoteGroups(id: string, groups: string[], opts?: WriteOptions): Promise<WriteResult<DeploymentUpdateResponse>> {
    return this.http.write('POST', `/v1/deployment/promote/${encodeURIComponent(id)}`, { DeploymentID: id, Groups: groups }, opts);
  }

  setAllocHealth(id: string, healthy: string[], unhealthy: string[], opts?: WriteOptions): Promise<WriteResult<DeploymentUpdateResponse>> {
    return this.http.write(
      'POST',
      `/v1/deployment/allocation-health/${encodeURIComponent(id)}`,
      { DeploymentID: id, HealthyAllocationIDs: healthy, UnhealthyAllocationIDs: unhealthy },
      opts,
    );
  }
}
