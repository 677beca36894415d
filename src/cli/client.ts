// The CLI's side of the local JSON API: one request, progress lines, one answer.
import type { Platform } from '../platform/types.ts';
import { utf8Decode, utf8Encode } from '../core/bytes.ts';
import type { ApiResponse } from '../api/protocol.ts';

export class ApiCallError extends Error {
  override name = 'ApiCallError';
  constructor(readonly code: string, message: string) { super(message); }
}

export async function callApi(p: Platform, socketPath: string, method: string, params: Record<string, unknown>, onProgress: (line: string) => void): Promise<unknown> {
  let s;
  try {
    s = await p.unix.connect(socketPath);
  } catch {
    throw new ApiCallError('failed', `cannot reach kithd at ${socketPath}: is it running? (start it with "kithd", or set KITH_STATE_DIR)`);
  }
  try {
    await s.write(utf8Encode(JSON.stringify({ id: 1, method, params }) + '\n'));
    let buf = '';
    for (;;) {
      const chunk = await s.read();
      if (chunk === null) throw new ApiCallError('failed', 'kithd closed the connection without an answer');
      buf += utf8Decode(chunk);
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const r = JSON.parse(buf.slice(0, nl)) as ApiResponse;
        buf = buf.slice(nl + 1);
        if ('progress' in r) onProgress(r.progress);
        else if ('error' in r) throw new ApiCallError(r.error.code, r.error.message);
        else return r.result;
      }
    }
  } finally {
    s.close();
  }
}
