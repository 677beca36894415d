// The Node.js adapter's TCP streams read from the socket only as fast as the
// stream is read: a peer that pipelines without reading the replies (TCP DNS)
// is held by TCP flow control, not buffered in kithd's memory (it grew
// kithd from 70 MB to 221 MB in 10 s).
/// <reference types="node" />
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as net from 'node:net';
import { wrapSocket, STREAM_HIGH_WATER_BYTES } from '../../src/platform/node.ts';
import type { Stream } from '../../src/platform/types.ts';

const TOTAL = 32 * 1024 * 1024;
const until = async (cond: () => boolean, ms: number) => { for (const t0 = Date.now(); !cond() && Date.now() - t0 < ms;) await new Promise((r) => setTimeout(r, 20)); };

test('an unread stream stops reading its socket near the high-water mark, then delivers everything once read', async () => {
  let server!: net.Socket;
  let stream!: Stream;
  const srv = net.createServer((s) => { server = s; stream = wrapSocket(s, 'peer'); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const client = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise<void>((r) => client.on('connect', r));
  await until(() => !!server, 2000);
  // The client pushes 32 MB as fast as the socket takes it; nobody reads the stream.
  const chunk = new Uint8Array(256 * 1024).fill(1);
  let queued = 0;
  const push = () => { while (queued < TOTAL && client.write(chunk)) queued += chunk.length; if (queued < TOTAL) client.once('drain', () => { queued += chunk.length; push(); }); else client.end(); };
  push();
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const readWhileIgnored = server.bytesRead;
    assert.ok(readWhileIgnored < STREAM_HIGH_WATER_BYTES + 2 * 1024 * 1024, `kithd's side read ${readWhileIgnored} bytes from the socket while the stream was not read`);
    // Reading the stream resumes the socket, and every byte arrives.
    let got = 0;
    for (let c = await stream.read(); c; c = await stream.read()) got += c.length;
    assert.is(got, TOTAL);
  } finally {
    stream.close();
    client.destroy();
    srv.close();
  }
});

test.run();
