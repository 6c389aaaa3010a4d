/**
 * Why the raft transport frames are msgpack: encode+decode time and size of typical frames
 * in msgpack (msgpackr, binary payloads as bin) and in JSON (payloads as base64, the only
 * way JSON carries bytes). Run: node --import tsx bench/raft/codec.ts
 */
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false });
const payload = () => new Uint8Array(256).fill(65);
const app = {
  type: 'app', from: 's1', to: 's2', term: 7, prevIndex: 1000, prevTerm: 7, commit: 999,
  entries: Array.from({ length: 10 }, (_, i) => ({ index: 1001 + i, term: 7, type: 'normal', data: payload() })),
};
const heartbeat = { type: 'heartbeat', from: 's1', to: 's2', term: 7, commit: 999, ctx: 0 };
const appResp = { type: 'appResp', from: 's2', to: 's1', term: 7, reject: false, index: 1010, rejectHint: 0, hintTerm: 0 };

const jsonEncode = (ms: unknown[]) =>
  Buffer.from(JSON.stringify(ms, (_k, v: unknown) => (v instanceof Uint8Array ? { $b: Buffer.from(v).toString('base64') } : v)));
const jsonDecode = (b: Buffer): unknown =>
  JSON.parse(b.toString(), (_k, v: unknown) => {
    const o = v as { $b?: unknown } | null;
    return typeof o === 'object' && o !== null && typeof o.$b === 'string' ? Buffer.from(o.$b, 'base64') : v;
  });

const codecs = [
  ['msgpack', (m: unknown[]) => packr.pack(m), (b: Buffer) => packr.unpack(b) as unknown],
  ['json', jsonEncode, jsonDecode],
] as const;

export function runCodecBench(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, batch, n] of [['app10x256', [app], 20_000], ['heartbeat', [heartbeat], 200_000], ['appResp', [appResp], 200_000]] as const) {
    for (const [codec, enc, dec] of codecs) {
      let size = 0;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const b = enc(batch as unknown as unknown[]);
        size = b.length;
        dec(b);
      }
      const us = ((performance.now() - t0) * 1000) / n;
      out[`${name}_${codec}_bytes`] = size;
      out[`${name}_${codec}_us`] = Number(us.toFixed(2));
      process.stderr.write(`${name.padEnd(10)} ${codec.padEnd(8)} ${String(size).padStart(5)} B  encode+decode ${us.toFixed(2)} µs\n`);
    }
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) runCodecBench();
