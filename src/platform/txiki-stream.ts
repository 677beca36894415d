// TCP and unix-socket streams on txiki.js: pull-based reads, listeners with an accept loop, connects
// with a timeout.
import type { Platform, Stream, Listener } from './types.ts';
import {
  tjs, noop, errMessage, wrapError, type ReadResult, type ServerOpenInfo, type Socket, type StreamOpenInfo,
} from './txiki-runtime.ts';
import { monoTimer, reportLater } from './txiki-clock.ts';

declare const TCPSocket: new (host: string, port: number) => Socket<StreamOpenInfo>;
declare const PipeSocket: new (path: string) => Socket<StreamOpenInfo>;

/** Wraps an opened tjs stream socket as a pull-based Stream. */
function wrapStream(sock: Socket<StreamOpenInfo>, info: StreamOpenInfo, remote: string): Stream {
  const reader = info.readable.getReader();
  const writer = info.writable.getWriter();
  writer.closed.catch(noop);
  let closed = false;
  let ended = false;
  return {
    remote,
    async read() {
      if (closed || ended) return null;
      try {
        const { done, value } = await reader.read();
        if (!done && value) return value;
      } catch { /* connection error: end of stream */ }
      if (!ended) {
        ended = true;
        // Like Node's default (allowHalfOpen false): end our side once the peer's is done. The
        // handle is released when both directions are finished.
        if (!closed) writer.close().catch(noop);
      }
      return null;
    },
    async write(data) {
      if (closed) throw new Error(`write to closed stream ${remote}`);
      try {
        await writer.write(data);
      } catch (e) {
        throw wrapError(`write to ${remote}: ${errMessage(e)}`, e);
      }
    },
    close() {
      if (closed) return;
      closed = true;
      reader.cancel().catch(noop); // resolves a pending read() with null
      sock.close();
    },
  };
}

function acceptLoop(info: ServerOpenInfo, remoteOf: (i: StreamOpenInfo) => string, onConn: (s: Stream) => void): void {
  void (async () => {
    const reader = info.readable.getReader();
    for (;;) {
      let r: ReadResult<Socket<StreamOpenInfo>>;
      try { r = await reader.read(); } catch { return; }
      if (r.done || !r.value) return;
      const conn = r.value;
      try {
        const ci = await conn.opened;
        onConn(wrapStream(conn, ci, remoteOf(ci)));
      } catch (e) {
        conn.close();
        reportLater(e);
      }
    }
  })();
}

async function listenOn(server: Socket<ServerOpenInfo>, remoteOf: (i: StreamOpenInfo) => string,
  onConn: (s: Stream) => void): Promise<Listener> {
  const info = await server.opened;
  acceptLoop(info, remoteOf, onConn);
  return { port: info.localPort ?? 0, close: () => server.close() };
}

function connectStream(make: () => Socket<StreamOpenInfo>, label: string, remote: string, timeoutMs: number): Promise<Stream> {
  return new Promise((resolve, reject) => {
    let sock: Socket<StreamOpenInfo>;
    try { sock = make(); } catch (e) { reject(wrapError(`connect to ${label}: ${errMessage(e)}`, e)); return; }
    let done = false;
    const timer = monoTimer(timeoutMs, () => {
      if (done) return;
      done = true;
      sock.close();
      reject(Object.assign(new Error(`connect to ${label}: timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, false);
    sock.opened.then((info) => {
      if (done) { sock.close(); return; }
      done = true;
      timer.cancel();
      resolve(wrapStream(sock, info, remote));
    }, (e: unknown) => {
      if (done) return;
      done = true;
      timer.cancel();
      reject(wrapError(`connect to ${label}: ${errMessage(e)}`, e));
    });
  });
}

export const txikiTcp: Platform['tcp'] = {
  async listen(address, port, onConn) {
    return listenOn(await tjs.listen('tcp', address, port), (i) => `${i.remoteAddress}:${i.remotePort}`, onConn);
  },
  connect(host, port, timeoutMs) {
    return connectStream(() => new TCPSocket(host, port), `${host}:${port}`, `${host}:${port}`, timeoutMs);
  },
};

export const txikiUnix: Platform['unix'] = {
  async listen(path, onConn) {
    // listen('pipe') fails with EADDRINUSE while the path exists: remove a stale socket (only a socket).
    const st = await tjs.lstat(path).catch(() => null);
    if (st?.isSocket) await tjs.remove(path);
    return listenOn(await tjs.listen('pipe', path), () => 'unix', onConn);
  },
  connect(path) { return connectStream(() => new PipeSocket(path), path, 'unix', 5000); },
};
