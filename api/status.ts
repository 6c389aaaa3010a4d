/** `/v1/status/*`, like Nomad's `api.Status()`. */
import type { HttpApi } from './http.js';

export class Status {
  constructor(private readonly http: HttpApi) {}

  /** The leader's RPC address, e.g. "127.0.0.1:4647"; "" when there is none. */
  async leader(): Promise<string> {
    const { data } = await this.http.query<string | null>('/v1/status/leader');
    return data ?? '';
  }

  async peers(): Promise<string[]> {
    const { data } = await this.http.query<string[] | null>('/v1/status/peers');
    return data ?? [];
  }
}
