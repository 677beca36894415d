// UDP on txiki.js: a bound socket that rebinds when a failed send errors its stream for good.
import type { UdpSocket, UdpAddr } from './types.ts';
import {
  tjs, noop, errMessage, wrapError, type ReadableStream, type Socket, type UdpMessage, type UdpOpenInfo, type Writer,
} from './txiki-runtime.ts';
import { monoTimer, reportLater } from './txiki-clock.ts';

interface UdpGen { sock: Socket<UdpOpenInfo>; writer: Writer<UdpMessage>; dead: boolean }

export async function udpBind(address: string, port: number): Promise<UdpSocket> {
  const handlers: ((data: Uint8Array, from: UdpAddr) => void)[] = [];
  let closed = false;

  const open = async (p: number): Promise<{ gen: UdpGen; info: UdpOpenInfo }> => {
    const sock = await tjs.listen('udp', address, p);
    const info = await sock.opened;
    const writer = info.writable.getWriter();
    writer.closed.catch(noop);
    return { gen: { sock, writer, dead: false }, info };
  };

  const readLoop = async (gen: UdpGen, readable: ReadableStream<UdpMessage>) => {
    const reader = readable.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || !value) return;
        const from = { address: value.remoteAddress ?? '', port: value.remotePort ?? 0 };
        for (const h of handlers) {
          try { h(value.data, from); } catch (e) { reportLater(e); }
        }
      }
    } catch {
      // A receive error errors the readable for good: rebind.
      if (!closed) reopen(gen);
    }
  };

  const first = await open(port);
  const local: UdpAddr = { address: first.info.localAddress, port: first.info.localPort };
  let current: Promise<UdpGen> = Promise.resolve(first.gen);
  void readLoop(first.gen, first.info.readable);

  // The socket's WritableStream is dead after one failed send (e.g. ENETUNREACH, EAFNOSUPPORT).
  // Close it and bind the same address and port again; retry every second while that fails.
  function reopen(failed: UdpGen): void {
    if (closed || failed.dead) return;
    failed.dead = true;
    failed.sock.close();
    current = (async () => {
      for (;;) {
        try {
          const { gen, info } = await open(local.port);
          if (closed) { gen.sock.close(); throw new Error('udp socket closed'); }
          void readLoop(gen, info.readable);
          return gen;
        } catch (e) {
          if (closed) throw e;
          await new Promise<void>((r) => { monoTimer(1000, r, false); });
        }
      }
    })();
    current.catch(noop);
  }

  return {
    local,
    async send(data: Uint8Array, to: UdpAddr) {
      if (closed) throw new Error(`send on closed udp socket ${local.address}:${local.port}`);
      const gen = await current;
      if (gen.dead) throw new Error(`udp socket ${local.address}:${local.port} is rebinding`);
      const w = gen.writer;
      try {
        await w.write({ data, remoteAddress: to.address, remotePort: to.port });
      } catch (e) {
        reopen(gen);
        throw wrapError(`udp send to ${to.address}:${to.port}: ${errMessage(e)}`, e);
      }
      if (w.desiredSize === null) {
        // The write "succeeded" but the sink errored the stream: fetch the error, then rebind.
        const e = await w.closed.then(() => new Error('stream closed'), (err: unknown) => err);
        reopen(gen);
        throw wrapError(`udp send to ${to.address}:${to.port}: ${errMessage(e)}`, e);
      }
    },
    onMessage(handler) { handlers.push(handler); },
    close() {
      if (closed) return;
      closed = true;
      current.then((g) => { g.dead = true; g.sock.close(); }, noop);
    },
  };
}
