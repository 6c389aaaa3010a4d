/**
 * The server's ACL and namespace write endpoints: bootstrap, policy, token and namespace
 * upserts and deletes. Like ServerEndpoints, a non-leader forwards each write to the leader
 * over RPC and the leader proposes one Raft command. Requests are checked here (names, rules,
 * token types, referenced policies) so a bad one never reaches the log.
 *
 * Who may call these is decided before they are reached (agent/acl/request-guard.ts for
 * HTTP). Secrets are minted here and appear only in the answers that Nomad's API returns
 * them in (bootstrap, token create/update/read); nothing here logs them.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  DEFAULT_NAMESPACE,
  namespaceNameProblem,
  policyNameProblem,
  type ACLToken,
  type ACLTokenType,
} from '../../structs/acl.js';
import { parseDuration } from '../../structs/duration.js';
import type { FieldError } from '../../structs/errors.js';
import { NotLeaderError, ValidationError, YurtError } from '../../structs/errors.js';
import type { AclCommand } from '../acl/acl-commands.js';
import { parsePolicyRules } from '../acl/policy-rules.js';
import { TokenResolver } from '../acl/token-resolver.js';
import { registerResolveToken } from '../acl/token-resolve-endpoint.js';
import { RpcClient } from '../rpc/rpc-client.js';
import type { RpcServer } from '../rpc/rpc-server.js';
import type { Server } from './server.js';

/** The body of PUT /v1/acl/token (Nomad's ACLToken as a request). */
export interface TokenRequest {
  AccessorID?: string;
  Name?: string;
  Type?: string;
  Policies?: string[];
  Global?: boolean;
  /** Nanoseconds, or a Go duration string ("1h"). */
  ExpirationTTL?: number | string;
  /** RFC 3339. */
  ExpirationTime?: string | null;
}

export interface PolicyRequest {
  Name: string;
  Description?: string;
  Rules: string;
}

export interface NamespaceRequest {
  Name: string;
  Description?: string;
  Meta?: Record<string, string> | null;
}

const MAX_NAME = 256;
const MAX_DESCRIPTION = 256;

export class AclEndpoints {
  private readonly resolver: TokenResolver;

  /**
   * @param opts.aclEnabled whether writes arriving over RPC must carry a management token
   *   (`AuthToken`): the HTTP guard has checked the caller on the server that forwarded the
   *   write, and the leader checks again, so the RPC port alone grants nothing.
   */
  constructor(
    private readonly server: Server,
    private readonly logger: Logger,
    private readonly opts: { aclEnabled: boolean; nowMs?: () => number },
  ) {
    this.resolver = new TokenResolver(server.state, opts.nowMs);
  }

  private get nowMs(): () => number {
    return this.opts.nowMs ?? Date.now;
  }

  register(rpc: RpcServer): void {
    rpc.handle('ACL.Bootstrap', (a) => this.bootstrap((a as { BootstrapSecret?: string }).BootstrapSecret));
    // Client agents resolve the tokens of requests they serve themselves (agent/acl/remote-token-resolver.ts).
    registerResolveToken(rpc, this.server.state, () => this.nowMs());
    const managed = (method: string, fn: (a: Record<string, unknown>, token: string | undefined) => Promise<unknown>): void => {
      rpc.handle(method, async (a) => {
        const args = (typeof a === 'object' && a !== null ? a : {}) as Record<string, unknown>;
        const token = typeof args['AuthToken'] === 'string' ? args['AuthToken'] : undefined;
        await this.requireManagement(token);
        return fn(args, token);
      });
    };
    managed('ACL.UpsertPolicy', (a, t) => this.upsertPolicy(a as unknown as PolicyRequest, t));
    managed('ACL.DeletePolicy', (a, t) => this.deletePolicy(String(a['Name']), t));
    managed('ACL.UpsertToken', (a, t) => this.upsertToken(a, t));
    managed('ACL.DeleteToken', (a, t) => this.deleteToken(String(a['AccessorID']), t));
    managed('Namespace.Upsert', (a, t) => this.upsertNamespace(a as unknown as NamespaceRequest, t));
    managed('Namespace.Delete', (a, t) => this.deleteNamespace(String(a['Name']), t));
  }

  private async requireManagement(secret: string | undefined): Promise<void> {
    if (!this.opts.aclEnabled) return;
    const id = await this.resolver.resolve(secret);
    if (!id.acl.isManagement) throw new YurtError('permission_denied', 'Permission denied');
  }

  /** Mint the first management token; refused once the ACL system is bootstrapped. */
  async bootstrap(bootstrapSecret?: string): Promise<ACLToken> {
    if (bootstrapSecret !== undefined && bootstrapSecret !== '' && !isUuid(bootstrapSecret)) {
      throw new YurtError('invalid_argument', 'BootstrapSecret must be a UUID');
    }
    if (!this.server.isLeader()) return this.forward('ACL.Bootstrap', { BootstrapSecret: bootstrapSecret });
    const already = this.server.state.aclBootstrapIndex();
    if (already !== 0) throw new YurtError('invalid_argument', `ACL bootstrap already done (reset index: ${already})`);
    const token = {
      AccessorID: randomUUID(),
      SecretID: bootstrapSecret !== undefined && bootstrapSecret !== '' ? bootstrapSecret : randomUUID(),
      Name: 'Bootstrap Token',
      Type: 'management' as const,
      Policies: [],
      Global: true,
      CreateTime: new Date(this.nowMs()).toISOString(),
      ExpirationTime: null,
    };
    const r = await this.apply({ type: 'ACLBootstrap', token });
    if (!r.updated) throw new YurtError('invalid_argument', `ACL bootstrap already done (reset index: ${this.server.state.aclBootstrapIndex()})`);
    return this.storedToken(token.AccessorID);
  }

  async upsertPolicy(req: PolicyRequest, authToken?: string): Promise<{ Index: number }> {
    const errors: FieldError[] = [];
    const nameProblem = policyNameProblem(req?.Name);
    if (nameProblem !== undefined) errors.push({ path: 'Name', message: nameProblem });
    if (req?.Description !== undefined && (typeof req.Description !== 'string' || req.Description.length > MAX_DESCRIPTION)) {
      errors.push({ path: 'Description', message: `must be a string of at most ${MAX_DESCRIPTION} characters` });
    }
    if (typeof req?.Rules !== 'string') errors.push({ path: 'Rules', message: 'must be a string of HCL rules' });
    if (errors.length > 0) throw new ValidationError('ACL policy', errors);
    await parsePolicyRules(req.Rules, `${req.Name}.hcl`);
    if (!this.server.isLeader()) return this.forward('ACL.UpsertPolicy', { Name: req.Name, Description: req.Description, Rules: req.Rules }, authToken);
    const r = await this.apply({ type: 'ACLPolicyUpsert', policies: [{ Name: req.Name, Description: req.Description ?? '', Rules: req.Rules }] });
    return { Index: r.index };
  }

  async deletePolicy(name: string, authToken?: string): Promise<{ Index: number }> {
    if (!this.server.isLeader()) return this.forward('ACL.DeletePolicy', { Name: name }, authToken);
    if (!this.server.state.aclPolicy(name)) throw new YurtError('not_found', `ACL policy not found: ${name}`);
    const r = await this.apply({ type: 'ACLPolicyDelete', names: [name] });
    return { Index: r.index };
  }

  /** Create a token (no AccessorID) or update one; answers with the stored token, secret included. */
  async upsertToken(req: TokenRequest, authToken?: string): Promise<ACLToken> {
    if (typeof req !== 'object' || req === null) throw new YurtError('invalid_argument', 'request body must be an ACL token object');
    if (!this.server.isLeader()) return this.forward('ACL.UpsertToken', { ...req }, authToken);
    const prev = req.AccessorID !== undefined && req.AccessorID !== '' ? this.server.state.aclTokenByAccessor(req.AccessorID) : null;
    if (req.AccessorID !== undefined && req.AccessorID !== '' && !prev) throw new YurtError('not_found', `ACL token not found: ${req.AccessorID}`);
    const token = this.checkToken(req, prev);
    await this.apply({ type: 'ACLTokenUpsert', tokens: [token] });
    return this.storedToken(token.AccessorID);
  }

  async deleteToken(accessorId: string, authToken?: string): Promise<{ Index: number }> {
    if (!this.server.isLeader()) return this.forward('ACL.DeleteToken', { AccessorID: accessorId }, authToken);
    if (!this.server.state.aclTokenByAccessor(accessorId)) throw new YurtError('not_found', `ACL token not found: ${accessorId}`);
    const r = await this.apply({ type: 'ACLTokenDelete', accessorIds: [accessorId] });
    return { Index: r.index };
  }

  async upsertNamespace(req: NamespaceRequest, authToken?: string): Promise<{ Index: number }> {
    const errors: FieldError[] = [];
    const nameProblem = namespaceNameProblem(req?.Name);
    if (nameProblem !== undefined) errors.push({ path: 'Name', message: nameProblem });
    if (req?.Description !== undefined && (typeof req.Description !== 'string' || req.Description.length > MAX_DESCRIPTION)) {
      errors.push({ path: 'Description', message: `must be a string of at most ${MAX_DESCRIPTION} characters` });
    }
    const meta = req?.Meta ?? {};
    if (typeof meta !== 'object' || Array.isArray(meta) || Object.values(meta).some((v) => typeof v !== 'string')) {
      errors.push({ path: 'Meta', message: 'must be an object of strings' });
    }
    if (errors.length > 0) throw new ValidationError('namespace', errors);
    if (!this.server.isLeader()) return this.forward('Namespace.Upsert', { Name: req.Name, Description: req.Description, Meta: req.Meta }, authToken);
    const r = await this.apply({ type: 'NamespaceUpsert', namespaces: [{ Name: req.Name, Description: req.Description ?? '', Meta: { ...meta } }] });
    return { Index: r.index };
  }

  async deleteNamespace(name: string, authToken?: string): Promise<{ Index: number }> {
    if (name === DEFAULT_NAMESPACE) throw new YurtError('invalid_argument', 'default namespace can not be deleted');
    if (!this.server.isLeader()) return this.forward('Namespace.Delete', { Name: name }, authToken);
    const state = this.server.state;
    if (!state.namespace(name)) throw new YurtError('not_found', `namespace not found: ${name}`);
    const jobs = state.jobs(name).length;
    // Stopped jobs count too: deleting their namespace would leave them where no one can reach them.
    if (jobs > 0) throw new YurtError('conflict', `namespace "${name}" still holds ${jobs} job${jobs === 1 ? '' : 's'}; stop them with -purge first`);
    const r = await this.apply({ type: 'NamespaceDelete', names: [name] });
    if (!r.updated) throw new YurtError('conflict', `namespace "${name}" can not be deleted: it holds jobs`);
    return { Index: r.index };
  }

  /** Nomad's ACLToken.Validate plus: referenced policies must exist. */
  private checkToken(req: TokenRequest, prev: ACLToken | null): Omit<ACLToken, 'CreateIndex' | 'ModifyIndex'> {
    const errors: FieldError[] = [];
    const type = (req.Type ?? prev?.Type ?? 'client') as ACLTokenType;
    if (type !== 'client' && type !== 'management') errors.push({ path: 'Type', message: `token type must be "client" or "management", not ${JSON.stringify(req.Type)}` });
    const name = req.Name ?? prev?.Name ?? '';
    if (typeof name !== 'string' || name.length > MAX_NAME) errors.push({ path: 'Name', message: `must be a string of at most ${MAX_NAME} characters` });
    const policies = req.Policies ?? prev?.Policies ?? [];
    if (!Array.isArray(policies) || policies.some((p) => typeof p !== 'string')) {
      errors.push({ path: 'Policies', message: 'must be a list of policy names' });
    } else if (type === 'client' && policies.length === 0) {
      errors.push({ path: 'Policies', message: 'client token missing policies' });
    } else if (type === 'management' && policies.length > 0) {
      errors.push({ path: 'Policies', message: 'management token cannot be associated with policies' });
    } else {
      for (const p of policies) if (!this.server.state.aclPolicy(p)) errors.push({ path: 'Policies', message: `ACL policy not found: ${p}` });
    }
    let expiration = prev?.ExpirationTime ?? null;
    if (req.ExpirationTTL !== undefined && req.ExpirationTTL !== 0 && req.ExpirationTTL !== '') {
      const ttl = ttlNs(req.ExpirationTTL);
      if (ttl === undefined || ttl <= 0) errors.push({ path: 'ExpirationTTL', message: 'must be a positive duration' });
      else expiration = new Date(this.nowMs() + ttl / 1e6).toISOString();
    } else if (req.ExpirationTime !== undefined && req.ExpirationTime !== null) {
      const at = typeof req.ExpirationTime === 'string' ? Date.parse(req.ExpirationTime) : NaN;
      if (!Number.isFinite(at)) errors.push({ path: 'ExpirationTime', message: 'must be an RFC 3339 time' });
      else if (at <= this.nowMs() && prev === null) errors.push({ path: 'ExpirationTime', message: 'expiration time cannot be in the past' });
      else expiration = new Date(at).toISOString();
    }
    if (errors.length > 0) throw new ValidationError('ACL token', errors);
    return {
      AccessorID: prev?.AccessorID ?? randomUUID(),
      SecretID: prev?.SecretID ?? randomUUID(),
      Name: name,
      Type: type,
      Policies: type === 'management' ? [] : [...new Set(policies)],
      Global: req.Global ?? prev?.Global ?? false,
      CreateTime: prev?.CreateTime ?? new Date(this.nowMs()).toISOString(),
      ExpirationTime: expiration,
    };
  }

  private storedToken(accessorId: string): ACLToken {
    const t = this.server.state.aclTokenByAccessor(accessorId);
    if (!t) throw new YurtError('internal', 'ACL token missing right after it was written');
    return t;
  }

  private async apply(cmd: AclCommand): Promise<{ index: number; updated: boolean }> {
    return (await this.server.applyCommand(cmd)) as { index: number; updated: boolean };
  }

  /**
   * ACL writes are rare, so each forward opens its own connection and closes it after: no
   * connection outlives the request, and nothing needs shutting down with the HTTP API.
   */
  private async forward<T>(method: string, args: Record<string, unknown>, authToken?: string): Promise<T> {
    const addr = this.server.leaderRpcAddr();
    if (!addr) throw new YurtError('no_leader', 'No cluster leader');
    if (addr === this.server.opts.rpcAdvertise) throw new NotLeaderError();
    const c = new RpcClient({ servers: [addr], logger: this.logger });
    c.start();
    try {
      return await c.call<T>(method, authToken === undefined ? args : { ...args, AuthToken: authToken });
    } finally {
      await c.close();
    }
  }
}

function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}

function ttlNs(v: number | string): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  try {
    return parseDuration(v);
  } catch {
    return undefined;
  }
}
