import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogDemuxer } from './log-follower.js';

function frame(stream: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

void describe('engine log stream demultiplexing', () => {
  void it('splits frames into stdout and stderr, across arbitrary chunk boundaries', () => {
    const wire = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err\n'), frame(1, ''), frame(1, 'out two\n')]);
    for (const cut of [1, 3, 8, 9, 13, wire.length - 1]) {
      const got: string[] = [];
      const d = new LogDemuxer((s, p) => got.push(`${s}:${p.toString()}`));
      d.push(wire.subarray(0, cut));
      d.push(wire.subarray(cut));
      assert.deepEqual(got, ['stdout:out one\n', 'stderr:err\n', 'stdout:', 'stdout:out two\n'], `cut at ${cut}`);
    }
  });

  void it('holds an incomplete frame until the rest arrives', () => {
    const got: string[] = [];
    const d = new LogDemuxer((s, p) => got.push(`${s}:${p.toString()}`));
    const f = frame(2, 'partial line');
    d.push(f.subarray(0, 10));
    assert.deepEqual(got, []);
    d.push(f.subarray(10));
    assert.deepEqual(got, ['stderr:partial line']);
  });
});
