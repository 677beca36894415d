// Entry point: kithd on txiki.js, started from bytecode. QuickJS-ng keeps a
// copy of every function's source text next to its bytecode (nested functions
// once per level), so a module loaded from source costs about 1.4 MB more
// resident memory than the same module loaded from bytecode written without
// source. This loader runs kithd.js (beside it) from such bytecode, compiled
// on first start by a child process (so the compiler's own memory is not
// kept) into the run directory, a root-only tmpfs on a router:
//   <run dir>/kithd-<tjs version>-<bundle size>-<bundle mtime>.jsc
// The arguments kithd sees are this script's, unchanged. Whatever goes wrong
// (no run directory, a compile that fails, bytecode from another engine) ends
// in importing kithd.js from source as before, with one line on stderr.
import { defaultRunDir } from '../api/protocol.ts';

declare const tjs: {
  readonly args: readonly string[];
  readonly env: { [name: string]: string | undefined };
  readonly exePath: string;
  readonly version: string;
  readonly pid: number;
  readFile(path: string): Promise<Uint8Array>;
  open(path: string, flags: string, mode?: number): Promise<{ write(b: Uint8Array): Promise<number>; close(): Promise<void> }>;
  rename(from: string, to: string): Promise<void>;
  stat(path: string): Promise<{ size: number; mode: number; uid: number; mtim: Date; isDirectory: boolean }>;
  makeDir(path: string, options: { mode?: number; recursive?: boolean }): Promise<void>;
  remove(path: string): Promise<void>;
  readDir(path: string): Promise<AsyncIterable<{ name: string }> & { close(): Promise<void> }>;
  spawn(args: string[], options: { env?: Record<string, string>; stdout?: 'inherit' | 'ignore'; stderr?: 'inherit' | 'ignore' }): { wait(): Promise<{ exit_status: number }> };
  engine: { compile(code: Uint8Array, name: string): unknown; serialize(m: unknown): Uint8Array; deserialize(b: Uint8Array): unknown; evalBytecode(m: unknown): Promise<unknown> };
};
declare const console: { error(text: string): void };

const COMPILE = 'KITH_BOOT_COMPILE';
const here = new URL('.', import.meta.url).pathname;
const main = `${here}kithd.js`;

/** Where the bytecode goes: the run directory kithd itself will use. */
function runDir(): string {
  return defaultRunDir(tjs.env.KITH_STATE_DIR || '/etc/kith', (n) => tjs.env[n]);
}

/** The child's job: kithd.js compiled, written atomically to `out`. */
async function compileTo(out: string): Promise<void> {
  const bytes = tjs.engine.serialize(tjs.engine.compile(await tjs.readFile(main), `file://${main}`));
  const tmp = `${out}.${tjs.pid}.tmp`;
  const f = await tjs.open(tmp, 'wx', 0o600);
  try { await f.write(bytes); } finally { await f.close(); }
  await tjs.rename(tmp, out);
}

async function bytecodePath(): Promise<string | null> {
  const dir = runDir();
  await tjs.makeDir(dir, { recursive: true, mode: 0o700 });
  const [d, self] = [await tjs.stat(dir), await tjs.stat('/proc/self')];
  // Only a directory of ours that no one else may write to: its bytecode runs as kithd.
  if (!d.isDirectory || d.uid !== self.uid || (d.mode & 0o022) !== 0) throw new Error(`${dir} is not a directory only kithd's user may write to`);
  const src = await tjs.stat(main);
  const name = `kithd-${tjs.version}-${src.size}-${src.mtim.getTime()}.jsc`;
  const path = `${dir}/${name}`;
  if (await tjs.stat(path).then(() => true, () => false)) return path;
  const child = tjs.spawn([tjs.exePath, 'run', `${here}kithd-boot.js`], { env: { ...tjs.env as Record<string, string>, [COMPILE]: path }, stdout: 'ignore', stderr: 'inherit' });
  if ((await child.wait()).exit_status !== 0) throw new Error('compiling kithd.js failed');
  // Bytecode of older versions goes: the run directory is RAM on a router.
  const entries = await tjs.readDir(dir);
  try {
    for await (const e of entries) if (/^kithd-.*\.jsc$/.test(e.name) && e.name !== name) await tjs.remove(`${dir}/${e.name}`).catch(() => undefined);
  } finally { await entries.close(); }
  return path;
}

async function boot(): Promise<void> {
  const target = tjs.env[COMPILE];
  if (target) return compileTo(target);
  let module: unknown = null;
  try {
    const path = await bytecodePath();
    if (path) module = tjs.engine.deserialize(await tjs.readFile(path));
  } catch (e) {
    console.error(`kithd: starting from source (${e instanceof Error ? e.message : String(e)})`);
  }
  if (module) await tjs.engine.evalBytecode(module);
  // @ts-expect-error kithd.js is the bundle beside this one, made by the same build
  else await import('./kithd.js');
}

await boot();
