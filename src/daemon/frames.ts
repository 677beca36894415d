// Reading length-prefixed join frames from a stream, with a size limit and a deadline.
import type { Stream, Platform } from '../platform/types.ts';
import { concat } from '../core/bytes.ts';
import { MAX_JOIN_FRAME } from '../core/join.ts';

export class FrameError extends Error {
  override name = 'FrameError';
}

export async function readFrame(p: Platform, s: Stream, timeoutMs: number): Promise<Uint8Array> {
  let buf: Uint8Array = new Uint8Array(0);
  let timedOut = false;
  const timer = p.clock.after(timeoutMs, () => { timedOut = true; s.close(); });
  try {
    for (;;) {
      if (buf.length >= 4) {
        const len = ((buf[0]! << 24) >>> 0) + (buf[1]! << 16) + (buf[2]! << 8) + buf[3]!;
        if (len > MAX_JOIN_FRAME) throw new FrameError(`frame of ${len} bytes exceeds ${MAX_JOIN_FRAME}`);
        if (buf.length >= 4 + len) return buf.slice(4, 4 + len);
      }
      const chunk = await s.read();
      if (chunk === null) throw new FrameError(timedOut ? `no answer within ${timeoutMs} ms` : 'connection closed before a full frame');
      buf = concat(buf, chunk);
    }
  } finally {
    timer.cancel();
  }
}
