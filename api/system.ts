/** `/v1/system/*`, like Nomad's `api.System()`. */
import type { HttpApi } from './http.js';
import type { WriteOptions } from './query.js';

export class System {
  constructor(private readonly http: HttpApi) {}

  /** PUT /v1/system/gc: run the servers' garbage collection now. */
  async garbageCollect(opts?: WriteOptions): Promise<void> {
    await this.http.write('PUT', '/v1/system/gc', undefined, opts);
  }
}
