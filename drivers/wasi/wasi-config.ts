/**
 * The task `config` block of the wasi driver:
 *
 *   config {
 *     module = "local/app.wasm"            # required
 *     args   = ["--verbose", "input.txt"]  # optional
 *     artifact {                           # optional: download the module first
 *       source   = "https://example.com/app.wasm"
 *       checksum = "sha256:4f2c…"
 *     }
 *   }
 *
 * Unknown keys are errors (as Nomad's HCL spec decoding rejects them), so a typo never
 * silently does nothing. HCL turns a block into a list of objects; `artifact` accepts that
 * form and a plain object.
 */
import { ValidationError, type FieldError } from '../../structs/errors.js';

export type ChecksumAlgorithm = 'sha256' | 'sha512';

export interface Checksum {
  algorithm: ChecksumAlgorithm;
  /** Lower-case hex digest. */
  hex: string;
}

export interface WasiArtifact {
  source: string;
  checksum: Checksum;
}

export interface WasiTaskConfig {
  /** Path relative to the task dir, or absolute inside the allocation dir. */
  module: string;
  args: string[];
  artifact: WasiArtifact | null;
}

const KEYS = ['module', 'args', 'artifact'];
const ARTIFACT_KEYS = ['source', 'checksum'];
const HEX_LENGTH: Record<ChecksumAlgorithm, number> = { sha256: 64, sha512: 128 };

/** `sha256:<64 hex>` or `sha512:<128 hex>` (go-getter's `type:value` form); null if malformed. */
export function parseChecksum(text: string): Checksum | null {
  const m = /^(sha256|sha512):([0-9a-fA-F]+)$/.exec(text.trim());
  if (m === null) return null;
  const algorithm = m[1] as ChecksumAlgorithm;
  const hex = (m[2] as string).toLowerCase();
  return hex.length === HEX_LENGTH[algorithm] ? { algorithm, hex } : null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkArtifact(raw: unknown, errors: FieldError[]): WasiArtifact | null {
  let value = raw;
  if (Array.isArray(value)) {
    if (value.length !== 1) {
      errors.push({ path: 'config.artifact', message: `exactly one artifact block is allowed, got ${value.length}` });
      return null;
    }
    value = value[0];
  }
  if (!isObject(value)) {
    errors.push({ path: 'config.artifact', message: 'must be a block with source and checksum' });
    return null;
  }
  for (const key of Object.keys(value)) {
    if (!ARTIFACT_KEYS.includes(key)) {
      errors.push({ path: `config.artifact.${key}`, message: `unknown option (supported: ${ARTIFACT_KEYS.join(', ')})` });
    }
  }
  const source = value['source'];
  let sourceOk = false;
  if (typeof source !== 'string' || source.trim() === '') {
    errors.push({ path: 'config.artifact.source', message: 'must be an http:// or https:// URL' });
  } else {
    let url: URL | null = null;
    try {
      url = new URL(source);
    } catch {
      errors.push({ path: 'config.artifact.source', message: `"${source}" is not a valid URL` });
    }
    if (url !== null) {
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        errors.push({ path: 'config.artifact.source', message: `scheme "${url.protocol.slice(0, -1)}" is not supported (use https:// or http://)` });
      } else {
        sourceOk = true;
      }
    }
  }
  const checksumText = value['checksum'];
  const checksum = typeof checksumText === 'string' ? parseChecksum(checksumText) : null;
  if (checksum === null) {
    errors.push({
      path: 'config.artifact.checksum',
      message: 'is required: "sha256:" followed by 64 hex digits (or "sha512:" and 128), so a changed download is refused',
    });
  }
  return sourceOk && checksum !== null ? { source: String(source), checksum } : null;
}

function check(config: Record<string, unknown>): { errors: FieldError[]; parsed: WasiTaskConfig } {
  const errors: FieldError[] = [];
  for (const key of Object.keys(config)) {
    if (!KEYS.includes(key)) errors.push({ path: `config.${key}`, message: `unknown option (supported: ${KEYS.join(', ')})` });
  }
  const module = config['module'];
  if (typeof module !== 'string' || module.trim() === '') {
    errors.push({ path: 'config.module', message: 'must be a non-empty string: the .wasm file, relative to the task dir' });
  } else if (module.includes('\0')) {
    errors.push({ path: 'config.module', message: 'must not contain NUL bytes' });
  }
  const args = config['args'];
  if (args !== undefined) {
    if (!Array.isArray(args)) {
      errors.push({ path: 'config.args', message: 'must be a list of strings' });
    } else {
      args.forEach((a, i) => {
        if (typeof a !== 'string') errors.push({ path: `config.args[${i}]`, message: 'must be a string' });
        else if (a.includes('\0')) errors.push({ path: `config.args[${i}]`, message: 'must not contain NUL bytes' });
      });
    }
  }
  const artifact = config['artifact'] === undefined ? null : checkArtifact(config['artifact'], errors);
  return {
    errors,
    parsed: {
      module: typeof module === 'string' ? module : '',
      args: Array.isArray(args) ? args.map(String) : [],
      artifact,
    },
  };
}

/** Human-readable problems with `config`, as "config.<field>: <message>" (empty when valid). */
export function validateWasiConfig(config: Record<string, unknown>): string[] {
  return check(config).errors.map((e) => `${e.path}: ${e.message}`);
}

/** The typed config; throws a ValidationError naming every bad field. */
export function parseWasiConfig(config: Record<string, unknown>, what: string): WasiTaskConfig {
  const { errors, parsed } = check(config);
  if (errors.length > 0) throw new ValidationError(what, errors);
  return parsed;
}
