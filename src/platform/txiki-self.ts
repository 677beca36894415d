// This txiki.js process: its arguments, line-buffered stdout/stderr and resident memory.
import { tjs, TextDecoder, noop } from './txiki-runtime.ts';

/**
 * Line-buffered synchronous output through console.log / console.error (fwrite + fflush in C).
 * console appends a newline, so text is printed up to its last newline and a trailing partial line
 * is held until the next newline or exit(), which prints it with a newline added.
 */
export function lineWriter(print: (s: string) => void) {
  let pending = '';
  return {
    write(text: string) {
      pending += text;
      const i = pending.lastIndexOf('\n');
      if (i < 0) return;
      const out = pending.slice(0, i);
      pending = pending.slice(i + 1);
      print(out);
    },
    flush() {
      if (!pending) return;
      const out = pending;
      pending = '';
      print(out);
    },
  };
}

/** Arguments after the script: `tjs [opts] run [--import-map m] app.js ...args` or `./compiled ...args`. */
export function scriptArgs(argv: readonly string[], underRun: boolean): string[] {
  if (!underRun) return argv.slice(1);
  const withValue = new Set(['--memory-limit', '--stack-size', '--wasm-stack-size', '--tls-ca', '-e', '--eval']);
  let i = 1;
  while (i < argv.length && argv[i]!.startsWith('-')) i += withValue.has(argv[i]!) ? 2 : 1;
  if (argv[i] !== 'run') return argv.slice(1);
  i++;
  while (i < argv.length && argv[i]!.startsWith('-')) i += argv[i] === '--import-map' ? 2 : 1;
  return argv.slice(i + 1);
}

/** Under `tjs run` the main module has a file:// URL; in a compiled program it has a bare name. */
export function underTjsRun(): boolean {
  const url = (import.meta as unknown as { url?: unknown }).url;
  return typeof url === 'string' && url.startsWith('file:');
}

/** Parses /proc/self/status VmRSS (kB), else /proc/self/statm resident pages x 4096. */
function parseRss(status: string | null, statm: string | null): number {
  const m = status && /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (m) return Number(m[1]) * 1024;
  const pages = statm ? Number(statm.trim().split(/\s+/)[1]) : NaN;
  return Number.isFinite(pages) ? pages * 4096 : 0;
}

/**
 * tjs has no synchronous file read and no memory-usage API: the returned function gives the last
 * value read from /proc and starts a refresh. The first read starts here, so the value is ready
 * almost at once.
 */
export function rssMeter(): () => number {
  let rss = 0;
  let refreshing = false;
  const refreshRss = () => {
    if (refreshing) return;
    refreshing = true;
    const text = (p: string) => tjs.readFile(p).then((b) => new TextDecoder().decode(b), () => null);
    text('/proc/self/status')
      .then(async (status) => parseRss(status, status && /VmRSS/.test(status) ? null : await text('/proc/self/statm')))
      .then((v) => { if (v > 0) rss = v; }, noop)
      .finally(() => { refreshing = false; });
  };
  refreshRss();
  return () => { refreshRss(); return rss; };
}
