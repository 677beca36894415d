// The unix-socket JSON API server: newline-delimited requests, progress lines
// and one final answer per request, for the methods of the table (methods.ts)
// by their API names.
import type { Platform, Stream, Listener } from '../platform/types.ts';
import { utf8Decode, utf8Encode } from '../core/bytes.ts';
import { ApiError, MAX_API_LINE, type ApiRequest, type ApiResponse } from '../api/protocol.ts';
import type { Logger } from './log.ts';
import { METHODS, type MethodCall } from './methods.ts';

export async function serveApi(p: Platform, path: string, call: MethodCall, log: Logger): Promise<Listener> {
  return p.unix.listen(path, (s) => void serveConn(s, call, log));
}

async function serveConn(s: Stream, call: MethodCall, log: Logger): Promise<void> {
  let buf = '';
  const send = (r: ApiResponse) => s.write(utf8Encode(JSON.stringify(r) + '\n')).catch(() => { /* client went away */ });
  try {
    for (;;) {
      const chunk = await s.read();
      if (chunk === null) return;
      buf += utf8Decode(chunk);
      if (buf.length > MAX_API_LINE && !buf.includes('\n')) {
        await send({ id: 0, error: { code: 'usage', message: `request line exceeds ${MAX_API_LINE} bytes` } });
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) await handleLine(line, call, send, log);
      }
    }
  } finally {
    s.close();
  }
}

async function handleLine(line: string, call: MethodCall, send: (r: ApiResponse) => Promise<void>, log: Logger): Promise<void> {
  let req: ApiRequest;
  try {
    req = JSON.parse(line) as ApiRequest;
    if (typeof req !== 'object' || req === null || typeof req.method !== 'string') throw new Error('not a request object');
  } catch (e) {
    await send({ id: 0, error: { code: 'usage', message: `bad request: ${(e as Error).message}` } });
    return;
  }
  const id = typeof req.id === 'number' ? req.id : 0;
  const h = METHODS.find((m) => m.api === req.method);
  if (!h) {
    await send({ id, error: { code: 'not-found', message: `unknown method "${req.method}"` } });
    return;
  }
  try {
    const params = typeof req.params === 'object' && req.params !== null ? req.params : {};
    const result = await call(h, params, (progress) => void send({ id, progress }));
    await send({ id, result: result ?? null });
  } catch (e) {
    if (e instanceof ApiError) await send({ id, error: { code: e.code, message: e.message } });
    else {
      log.error(`api ${req.method}: ${(e as Error).stack ?? String(e)}`);
      await send({ id, error: { code: 'failed', message: (e as Error).message } });
    }
  }
}
