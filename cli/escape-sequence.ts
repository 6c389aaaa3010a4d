/**
 * The escape sequence of `alloc exec -t` (Nomad's `-e`, default `~`, as in ssh): at the start of
 * a line, `~.` leaves the session however stuck the remote program is, and `~~` sends one `~`.
 * Everything else passes through unchanged. Only terminal sessions have it: keys are sent raw
 * there, so Ctrl-C goes to the remote program and cannot end the session.
 */
import { Transform, type TransformCallback } from 'node:stream';

export class EscapeFilter extends Transform {
  /** At the start of a line: a typed escape character may begin a sequence. */
  private atLineStart = true;
  /** The escape character was typed at a line start and is held back. */
  private pending = false;

  constructor(
    private readonly escape: number,
    private readonly onDisconnect: () => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const out: number[] = [];
    for (const b of chunk) {
      if (this.pending) {
        this.pending = false;
        if (b === 0x2e /* . */) {
          if (out.length > 0) this.push(Buffer.from(out));
          this.onDisconnect();
          cb();
          return;
        }
        // `~~` is one `~`; anything else goes on after the held `~`.
        out.push(this.escape);
        if (b === this.escape) {
          this.atLineStart = false;
          continue;
        }
      } else if (this.atLineStart && b === this.escape) {
        this.pending = true;
        continue;
      }
      out.push(b);
      this.atLineStart = b === 0x0d || b === 0x0a;
    }
    if (out.length > 0) this.push(Buffer.from(out));
    cb();
  }
}

/** `-e`: one character, or "none" for no escape sequence. */
export function escapeByte(value: string): number | null {
  if (value === 'none') return null;
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length !== 1) throw new Error(`-e takes one ASCII character or "none", got "${value}"`);
  return bytes[0]!;
}
