/**
 * The CLI's side of an agent's HTTPS API (`tls { http = true }`), with the general options
 * and environment variables of Nomad's CLI: `-ca-cert` (NOMAD_CACERT), `-ca-path`
 * (NOMAD_CAPATH, a directory of CA certificates, used when no CA file is given), `-client-cert`
 * (NOMAD_CLIENT_CERT), `-client-key` (NOMAD_CLIENT_KEY), `-tls-server-name`
 * (NOMAD_TLS_SERVER_NAME) and `-tls-skip-verify` (NOMAD_SKIP_VERIFY). As for the address
 * and token, a flag wins over YURT_*, which wins over NOMAD_*.
 *
 * Requests to `https://` addresses go through node:https rather than the global fetch,
 * because Node 20's fetch cannot be given a CA or a client certificate without the undici
 * package. TLS failures are reworded as Go's client words them, with what to do about it,
 * so a user sees "certificate signed by unknown authority" rather than an OpenSSL code.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { FetchFn } from '../api/http.js';
import { YurtError } from '../structs/errors.js';

export interface ApiTlsFlagValues {
  'ca-cert'?: string | undefined;
  'ca-path'?: string | undefined;
  'client-cert'?: string | undefined;
  'client-key'?: string | undefined;
  'tls-server-name'?: string | undefined;
  'tls-skip-verify'?: boolean | undefined;
}

/** Where the CLI's TLS settings came from, resolved; file names, not contents. */
export interface ApiTlsSettings {
  caCert: string | undefined;
  /** A directory of PEM CA certificates; used only when there is no `caCert`, as in Nomad. */
  caPath: string | undefined;
  clientCert: string | undefined;
  clientKey: string | undefined;
  serverName: string | undefined;
  skipVerify: boolean;
}

type Env = Record<string, string | undefined>;

function firstSet(...values: Array<string | undefined>): string | undefined {
  return values.find((v) => v !== undefined && v !== '');
}

/** Go's strconv.ParseBool, which Nomad applies to NOMAD_SKIP_VERIFY. */
function envBool(value: string | undefined): boolean {
  return value !== undefined && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value.trim());
}

export function resolveApiTls(flags: ApiTlsFlagValues, env: Env): ApiTlsSettings {
  return {
    caCert: firstSet(flags['ca-cert'], env['YURT_CACERT'], env['NOMAD_CACERT']),
    caPath: firstSet(flags['ca-path'], env['YURT_CAPATH'], env['NOMAD_CAPATH']),
    clientCert: firstSet(flags['client-cert'], env['YURT_CLIENT_CERT'], env['NOMAD_CLIENT_CERT']),
    clientKey: firstSet(flags['client-key'], env['YURT_CLIENT_KEY'], env['NOMAD_CLIENT_KEY']),
    serverName: firstSet(flags['tls-server-name'], env['YURT_TLS_SERVER_NAME'], env['NOMAD_TLS_SERVER_NAME']),
    skipVerify: flags['tls-skip-verify'] === true || envBool(firstSet(env['YURT_SKIP_VERIFY'], env['NOMAD_SKIP_VERIFY'])),
  };
}

function readPem(file: string, what: string, option: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new YurtError('invalid_argument', `Error reading ${what} file ${file} (${option}): ${(e as Error).message}`);
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Every certificate in the files under `dir` (and its subdirectories), as Nomad's CLI loads
 * a CA path; a file holding no certificate is an error, not silently trust-nothing.
 */
function readCaPath(dir: string): string {
  const certs: string[] = [];
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch (e) {
      throw new YurtError('invalid_argument', `Error reading CA path ${dir} (-ca-path): ${(e as Error).message}`);
    }
    for (const name of names) {
      const file = join(d, name);
      if (statSync(file).isDirectory()) {
        walk(file);
        continue;
      }
      const found = readPem(file, 'CA certificate', '-ca-path').toString('utf8').match(PEM_CERTIFICATE);
      if (found === null) throw new YurtError('invalid_argument', `Error loading CA path ${dir} (-ca-path): ${file} holds no PEM certificate`);
      certs.push(...found);
    }
  };
  walk(dir);
  if (certs.length === 0) throw new YurtError('invalid_argument', `Error loading CA path ${dir} (-ca-path): no certificates found`);
  return certs.join('\n');
}

/** The CAs to trust: the CA file, else every certificate of the CA path, else the system's. */
function caOption(s: ApiTlsSettings): { ca?: Buffer | string } {
  if (s.caCert !== undefined) return { ca: readPem(s.caCert, 'CA certificate', '-ca-cert') };
  if (s.caPath !== undefined) return { ca: readCaPath(s.caPath) };
  return {};
}

/**
 * A fetch that speaks TLS with the given settings to `https://` URLs (and leaves `http://`
 * ones to the global fetch). Files are read once, here: a missing one is an error before
 * any request is made.
 */
/** The same settings as options for a TLS socket of our own (alloc exec's websocket). */
export function tlsSocketOptions(s: ApiTlsSettings): { ca?: Buffer | string; cert?: Buffer; key?: Buffer; servername?: string; rejectUnauthorized: boolean } {
  if ((s.clientCert === undefined) !== (s.clientKey === undefined)) {
    throw new YurtError('invalid_argument', 'Both a client certificate and its key are needed: give -client-cert and -client-key together (or NOMAD_CLIENT_CERT and NOMAD_CLIENT_KEY)');
  }
  return {
    ...caOption(s),
    ...(s.clientCert !== undefined ? { cert: readPem(s.clientCert, 'client certificate', '-client-cert') } : {}),
    ...(s.clientKey !== undefined ? { key: readPem(s.clientKey, 'client key', '-client-key') } : {}),
    ...(s.serverName !== undefined ? { servername: s.serverName } : {}),
    rejectUnauthorized: !s.skipVerify,
  };
}

export function tlsFetch(s: ApiTlsSettings): FetchFn {
  if ((s.clientCert === undefined) !== (s.clientKey === undefined)) {
    throw new YurtError('invalid_argument', 'Both a client certificate and its key are needed: give -client-cert and -client-key together (or NOMAD_CLIENT_CERT and NOMAD_CLIENT_KEY)');
  }
  const agent = new Agent({
    ...caOption(s),
    ...(s.clientCert !== undefined ? { cert: readPem(s.clientCert, 'client certificate', '-client-cert') } : {}),
    ...(s.clientKey !== undefined ? { key: readPem(s.clientKey, 'client key', '-client-key') } : {}),
    rejectUnauthorized: !s.skipVerify,
    // One request per connection: a CLI process must be free to exit as soon as it is done.
    keepAlive: false,
  });
  const fetchFn = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (url.protocol !== 'https:') return fetch(input, init);
    return httpsFetch(agent, s, url, init ?? {});
  };
  return fetchFn;
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

function httpsFetch(agent: Agent, s: ApiTlsSettings, url: URL, init: RequestInit): Promise<Response> {
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((v, k) => (headers[k] = v));
  const body = init.body;
  if (body !== undefined && body !== null && typeof body !== 'string') {
    return Promise.reject(new YurtError('internal', 'the CLI sends only text bodies over HTTPS'));
  }
  return new Promise<Response>((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: init.method ?? 'GET',
        headers,
        agent,
        ...(s.serverName !== undefined ? { servername: s.serverName } : {}),
        ...(init.signal ? { signal: init.signal } : {}),
      },
      (res) => resolve(toResponse(res, url)),
    );
    req.on('error', (err) => reject(explainTlsError(err, s)));
    if (typeof body === 'string') req.end(body);
    else req.end();
  });
}

function toResponse(res: IncomingMessage, url: URL): Response {
  const headers = new Headers();
  for (const [k, v] of Object.entries(res.headers)) {
    if (Array.isArray(v)) for (const one of v) headers.append(k, one);
    else if (v !== undefined) headers.set(k, v);
  }
  const status = res.statusCode ?? 500;
  const stream = NULL_BODY_STATUSES.has(status) ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
  if (stream === null) res.resume();
  const response = new Response(stream, { status, statusText: res.statusMessage ?? '', headers });
  // Error messages quote the URL of the request (Response.url is otherwise empty here).
  Object.defineProperty(response, 'url', { value: url.href });
  return response;
}

const UNKNOWN_AUTHORITY = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * A TLS failure in words a user can act on. Other errors (connection refused, ...) pass
 * through unchanged for api/http-error.ts to word as Go does.
 */
export function explainTlsError(err: Error, s: ApiTlsSettings): Error {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (err.name === 'AbortError') return err;
  if (UNKNOWN_AUTHORITY.has(code)) {
    const fix =
      s.caCert !== undefined
        ? `it was not signed by the CA in ${s.caCert}`
        : s.caPath !== undefined
          ? `it was not signed by any CA in ${s.caPath}`
          : 'pass the CA that signed it with -ca-cert or NOMAD_CACERT';
    return new Error(`tls: failed to verify certificate: x509: certificate signed by unknown authority (${fix})`);
  }
  if (code === 'CERT_HAS_EXPIRED') return new Error('tls: failed to verify certificate: x509: certificate has expired or is not yet valid');
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new Error(`tls: failed to verify certificate: ${err.message} (name the host the certificate was made for with -tls-server-name)`);
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/i.test(err.message)) {
    return new Error('http: server gave HTTP response to HTTPS client (use an http:// address, or enable tls.http on the agent)');
  }
  const alert = /alert (certificate required|bad certificate|unknown ca|certificate unknown|handshake failure)/i.exec(err.message)?.[1]?.toLowerCase();
  const refusedUs = alert !== undefined || (s.clientCert === undefined && (code === 'ECONNRESET' || err.message === 'socket hang up'));
  if (refusedUs) {
    if (s.clientCert === undefined) {
      return new Error(
        `remote error: tls: ${alert ?? 'certificate required'} (the agent requires a client certificate, tls.verify_https_client: pass -client-cert and -client-key, or set NOMAD_CLIENT_CERT and NOMAD_CLIENT_KEY)`,
      );
    }
    return new Error(`remote error: tls: ${alert ?? 'bad certificate'} (the agent refused the client certificate in ${s.clientCert}: it must be signed by the agent's CA)`);
  }
  return err;
}
