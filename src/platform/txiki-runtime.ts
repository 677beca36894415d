// The txiki.js globals the adapter uses, typed (checked against the v26 type declarations and the
// runtime), and the small helpers its parts share. The typings stay in this module and the files
// that import it (the txiki-*.ts adapter parts): nothing leaks into other files.
import type { SignalName } from './types.ts';
import type { SubtleEd25519 } from './webcrypto.ts';

export interface ReadResult<T> { done: boolean; value?: T }
export interface Reader<T> {
  read(): Promise<ReadResult<T>>;
  cancel(reason?: unknown): Promise<void>;
  releaseLock(): void;
}
export interface ReadableStream<T> { getReader(): Reader<T> }
export interface Writer<T> {
  write(chunk: T): Promise<void>;
  close(): Promise<void>;
  readonly closed: Promise<void>;
  /** null once the stream has errored. */
  readonly desiredSize: number | null;
}
export interface WritableStream<T> { getWriter(): Writer<T> }

export interface UdpMessage { data: Uint8Array; remoteAddress?: string; remotePort?: number }
export interface UdpOpenInfo {
  readable: ReadableStream<UdpMessage>;
  writable: WritableStream<UdpMessage>;
  localAddress: string;
  localPort: number;
}
export interface StreamOpenInfo {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
  remoteAddress: string;
  remotePort?: number;
}
export interface Socket<Info> {
  readonly opened: Promise<Info>;
  readonly closed: Promise<void>;
  close(): void;
}
export interface ServerOpenInfo { readable: ReadableStream<Socket<StreamOpenInfo>>; localPort?: number }

export interface StatResult { size: number; mode: number; isDirectory: boolean; isSocket: boolean }
export interface FileHandle {
  write(buf: Uint8Array, offset?: number): Promise<number>;
  close(): Promise<void>;
  sync(): Promise<void>;
  chmod(mode: number): Promise<void>;
}
export interface DirEnt { name: string }
export interface DirHandle extends AsyncIterable<DirEnt> { close(): Promise<void> }

export type TjsSignal = SignalName | 'SIGKILL';
export interface ProcessStatus { exit_status: number; term_signal: string | null }
export interface TjsProcess {
  readonly pid: number;
  kill(sig?: TjsSignal): void;
  wait(): Promise<ProcessStatus>;
  stdin: WritableStream<Uint8Array> | null;
  stdout: ReadableStream<Uint8Array> | null;
  stderr: ReadableStream<Uint8Array> | null;
}
export type Stdio = 'inherit' | 'pipe' | 'ignore';

interface Tjs {
  readonly args: readonly string[];
  readonly env: { [name: string]: string | undefined };
  readonly pid: number;
  exit(code: number): never;
  addSignalListener(sig: TjsSignal, listener: () => void): void;
  listen(transport: 'udp', host: string, port: number): Promise<Socket<UdpOpenInfo>>;
  listen(transport: 'tcp', host: string, port: number): Promise<Socket<ServerOpenInfo>>;
  listen(transport: 'pipe', path: string): Promise<Socket<ServerOpenInfo>>;
  readFile(path: string): Promise<Uint8Array>;
  open(path: string, flags: string, mode?: number): Promise<FileHandle>;
  rename(path: string, newPath: string): Promise<void>;
  stat(path: string): Promise<StatResult>;
  lstat(path: string): Promise<StatResult>;
  makeDir(path: string, options: { mode?: number; recursive?: boolean }): Promise<void>;
  remove(path: string): Promise<void>;
  readDir(path: string): Promise<DirHandle>;
  spawn(args: string[], options: { stdin?: Stdio; stdout?: Stdio; stderr?: Stdio }): TjsProcess;
}

interface Shared {
  tjs: Tjs;
  crypto: { getRandomValues(buf: Uint8Array): Uint8Array; subtle?: SubtleEd25519 };
  TextDecoder: new () => { decode(b?: Uint8Array, opts?: { stream?: boolean }): string };
}

// The globals several parts use, read once when the bundle loads (they never change); a global
// only one part uses is declared there. Under Node.js, where tests import the adapter for its pure
// helpers, tjs is undefined and never used.
export const { tjs, crypto, TextDecoder } = globalThis as unknown as Shared;

// ---------------------------------------------------------------------------------------------

export const noop = () => { /* ignored */ };
export const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));
const errCode = (e: unknown): string | undefined => {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
};
export function wrapError(msg: string, cause: unknown): Error {
  const e = new Error(msg) as Error & { code?: string };
  const code = errCode(cause);
  if (code) e.code = code;
  return e;
}

export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  // getRandomValues refuses more than 65536 bytes per call.
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  return out;
}
