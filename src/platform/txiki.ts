// The txiki.js adapter of the platform interface (txiki.js v26, QuickJS-ng + libuv).
//
// Runtime facts this file relies on (verified against tjs v26.6.0, see test/platform/txiki-smoke.ts):
// - tjs.args is [tjs, ...opts, "run", ...runOpts, script, ...args] under `tjs run`, [exe, ...args] for a
//   `tjs compile`d program; import.meta.url is a file:// URL only in the first case.
// - Socket writes accept only Uint8Array; stream reads arrive in arbitrary chunks.
// - A failed UDP send errors the socket's WritableStream for good; udpBind() rebinds to recover.
// - Reading tjs.stdout / tjs.stderr switches a pipe fd to O_NONBLOCK, after which console output can be
//   lost on a full pipe. This adapter never touches them: it prints through console.log / console.error,
//   which do fwrite + fflush synchronously.
// - Errors are plain Error objects with a string .code ('ENOENT', ...); `instanceof tjs.Error` throws.
// - Stream reads are pulled: a TCP socket is read only while a read() is pending, so a stream nobody
//   reads holds at most one chunk and TCP flow control holds the peer; a write resolves once the
//   kernel took the data, and close() rejects a pending write. So a DNS client that pipelines without
//   reading stalls both directions with no buffering in kithd (test/platform/txiki-limits.ts).
//
// The adapter is composed here from its parts, one concern each: txiki-runtime.ts (the typed
// globals and shared helpers), txiki-clock.ts, txiki-udp.ts, txiki-stream.ts (TCP and unix
// sockets), txiki-fs.ts, txiki-proc.ts (child processes) and txiki-self.ts (arguments, stdio,
// memory).
import { webCryptoEd25519 } from './webcrypto.ts';
import type { Platform, SignalName } from './types.ts';
import { tjs, crypto, randomBytes } from './txiki-runtime.ts';
import { txikiClock } from './txiki-clock.ts';
import { udpBind } from './txiki-udp.ts';
import { txikiTcp, txikiUnix } from './txiki-stream.ts';
import { txikiFs } from './txiki-fs.ts';
import { txikiProc } from './txiki-proc.ts';
import { lineWriter, rssMeter, scriptArgs, underTjsRun } from './txiki-self.ts';

export { scriptArgs } from './txiki-self.ts';

declare const console: { log(text: string): void; error(text: string): void };

export function txikiPlatform(): Platform {
  const out = lineWriter((s) => console.log(s));
  const err = lineWriter((s) => console.error(s));
  const rssBytes = rssMeter();

  return {
    runtime: 'txiki',
    udp: { bind: udpBind },
    tcp: txikiTcp,
    unix: txikiUnix,
    fs: txikiFs,
    proc: txikiProc,
    clock: txikiClock,
    random: randomBytes,
    crypto: webCryptoEd25519(crypto.subtle),
    onSignal(sig: SignalName, handler) { tjs.addSignalListener(sig, () => handler()); },
    env: (name) => tjs.env[name],
    args: scriptArgs(tjs.args, underTjsRun()),
    stdout: (t) => out.write(t),
    stderr: (t) => err.write(t),
    exit(code): never {
      out.flush();
      err.flush();
      return tjs.exit(code);
    },
    rssBytes,
  };
}
