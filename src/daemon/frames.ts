// Reading length-prefixed join frames from a stream, with a size limit, a
// deadline for the whole frame and an optional shorter one for its header.
import type { Stream, Platform } from '../platform/types.ts';
import { concat } from '../core/bytes.ts';
import { MAX_JOIN_FRAME } from '../core/join.ts';

export class FrameError extends Error {
  override name = 'FrameError';
}

export interface FrameDeadlines {
  /** The 4-byte length must arrive within this (a client that connects and says nothing is cut early). */
  headerTimeoutMs?: number;
}

export async function readFrame(p: Platform, s: Stream, timeoutMs: number, o: FrameDeadlines = {}): Promise<Uint8Array> {
  let buf: Uint8Array = new Uint8Array(0);
  let timedOut: string | null = null;
  const cut = (why: string) => () => { timedOut = why; s.close(); };
  const timer = p.clock.after(timeoutMs, cut(`no full frame within ${timeoutMs} ms`));
  let header = o.headerTimeoutMs !== undefined && o.headerTimeoutMs < timeoutMs
    ? p.clock.after(o.headerTimeoutMs, cut(`no frame header within ${o.headerTimeoutMs} ms`)) : null;
  try {
    for (;;) {
      if (buf.length >= 4) {
        header?.cancel();
        header = null;
        const len = ((buf[0]! << 24) >>> 0) + (buf[1]! << 16) + (buf[2]! << 8) + buf[3]!;
        if (len > MAX_JOIN_FRAME) throw new FrameError(`frame of ${len} bytes exceeds ${MAX_JOIN_FRAME}`);
        if (buf.length >= 4 + len) return buf.slice(4, 4 + len);
      }
      const chunk = await s.read();
      if (chunk === null) throw new FrameError(timedOut ?? 'connection closed before a full frame');
      buf = concat(buf, chunk);
    }
  } finally {
    timer.cancel();
    header?.cancel();
  }
}
