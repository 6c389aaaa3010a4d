/**
 * Rules for single config values, shared by the file decoder, the flags and the final
 * validation so a value breaks the same rule with the same words wherever it came from.
 * Each returns a message, or undefined when the value is fine.
 */
import { isIP } from 'node:net';
import { logLevels, tlsVersions } from './agent-config.js';

export function checkPort(n: number): string | undefined {
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? undefined : `must be between 1 and 65535, got ${n}`;
}

export function checkAtLeast(min: number): (n: number) => string | undefined {
  return (n) => (n >= min ? undefined : `must be >= ${min}, got ${n}`);
}

export function checkPositive(n: number): string | undefined {
  return n > 0 ? undefined : `must be > 0, got ${n}`;
}

export function checkPercent(n: number): string | undefined {
  return n >= 0 && n <= 100 ? undefined : `must be a percentage between 0 and 100, got ${n}`;
}

export function checkLogLevel(s: string): string | undefined {
  return (logLevels as readonly string[]).includes(s.toUpperCase()) ? undefined : `must be one of ${logLevels.join(', ')}, got "${s}"`;
}

export function checkTlsVersion(s: string): string | undefined {
  return (tlsVersions as readonly string[]).includes(s) ? undefined : `must be one of ${tlsVersions.join(', ')}, got "${s}"`;
}

export function checkNotEmpty(s: string): string | undefined {
  return s.trim() === '' ? 'must not be empty' : undefined;
}

/** An IP address or host name to bind or advertise (no go-sockaddr templates). */
export function checkHost(s: string): string | undefined {
  if (s.includes('{{')) return `go-sockaddr templates are not supported, got "${s}"`;
  if (isIP(s) !== 0 || /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(s)) return undefined;
  return `must be an IP address or host name, got "${s}"`;
}

/** "key=value" with a non-empty key, as `-meta` takes it. */
export function checkKeyValue(s: string): string | undefined {
  const eq = s.indexOf('=');
  return eq > 0 ? undefined : 'expected key=value';
}

export interface HostPort {
  host: string;
  port: number;
}

/**
 * "host:port", "[v6]:port", or a bare host / IPv6 address, which gets `defaultPort` (Nomad
 * appends the RPC port to client `servers` entries that have none).
 */
export function parseHostPort(s: string, defaultPort: number): HostPort | string {
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(s);
  if (v6 !== null) {
    host = v6[1] as string;
    portText = v6[2];
    if (isIP(host) !== 6) return `"${s}" is not host:port: "${host}" is not an IPv6 address`;
  } else if (isIP(s) === 6) {
    host = s;
  } else {
    const colon = s.lastIndexOf(':');
    host = colon === -1 ? s : s.slice(0, colon);
    portText = colon === -1 ? undefined : s.slice(colon + 1);
    const bad = host === '' ? 'must not be empty' : checkHost(host);
    if (bad !== undefined) return `"${s}" is not host:port: host ${bad}`;
  }
  if (portText === undefined) return { host, port: defaultPort };
  const port = /^\d+$/.test(portText) ? Number(portText) : NaN;
  if (checkPort(port) !== undefined) return `"${s}" is not host:port: port must be between 1 and 65535`;
  return { host, port };
}

export function formatHostPort(hp: HostPort): string {
  return isIP(hp.host) === 6 ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/** Nomad's reserved_ports syntax: comma-separated ports and low-high ranges. */
export function checkPortRanges(s: string): string | undefined {
  if (s.trim() === '') return undefined;
  for (const part of s.split(',')) {
    const m = /^\s*(\d+)(?:\s*-\s*(\d+))?\s*$/.exec(part);
    if (m === null) return `"${part.trim()}" is not a port or a port range (examples: "22", "8000-8100")`;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (checkPort(lo) !== undefined || checkPort(hi) !== undefined) return `ports must be between 1 and 65535, got "${part.trim()}"`;
    if (hi < lo) return `range "${part.trim()}" ends before it starts`;
  }
  return undefined;
}
