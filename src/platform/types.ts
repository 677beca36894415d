// The platform interface: everything kithd needs from a runtime, and nothing
// more. Two adapters implement it (node.ts, txiki.ts); only the entry points in
// src/entry choose one. Everything else receives a Platform and never imports
// a runtime module.

/** A UDP datagram's sender or destination. */
export interface UdpAddr {
  address: string;
  port: number;
}

/** A bound UDP socket. Datagrams are delivered to the handler set by onMessage. */
export interface UdpSocket {
  /** The address and port actually bound (port 0 resolved). */
  readonly local: UdpAddr;
  send(data: Uint8Array, to: UdpAddr): Promise<void>;
  onMessage(handler: (data: Uint8Array, from: UdpAddr) => void): void;
  close(): void;
  /**
   * Datagrams dropped whole because they were longer than this socket can
   * receive (the batched addon's slot); a datagram is never delivered cut.
   * Absent where the runtime receives every UDP datagram whole.
   */
  readonly oversize?: number;
}

/**
 * A byte stream (TCP or unix socket). read() resolves with the next chunk, or
 * null at end of stream; it never resolves twice with the same chunk.
 */
export interface Stream {
  /** "host:port" of the other end for TCP, "unix" for unix sockets. */
  readonly remote: string;
  read(): Promise<Uint8Array | null>;
  write(data: Uint8Array): Promise<void>;
  close(): void;
}

/** A listening socket; accepted streams go to the handler given at listen. */
export interface Listener {
  /** The bound port for TCP (port 0 resolved); 0 for unix sockets. */
  readonly port: number;
  close(): void;
}

export interface FileStat {
  size: number;
  isDirectory: boolean;
  /** Permission bits, e.g. 0o600. */
  mode: number;
}

/** Files. Every path is absolute or relative to the process's cwd. */
export interface FileSystem {
  readFile(path: string): Promise<Uint8Array>;
  /** Writes temp file, fsyncs it, renames it over path: readers see old or new, never half. */
  writeFileAtomic(path: string, data: Uint8Array, mode: number): Promise<void>;
  stat(path: string): Promise<FileStat | null>;
  mkdirp(path: string, mode: number): Promise<void>;
  remove(path: string): Promise<void>;
  readDir(path: string): Promise<string[]>;
}

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Spawned {
  readonly pid: number;
  /** Resolves with the exit code once the process has ended. */
  wait(): Promise<number>;
  kill(signal?: 'SIGTERM' | 'SIGKILL'): void;
}

export interface Processes {
  /**
   * Runs argv to completion with stdin at end of file, collecting its output.
   * Never throws for a non-zero exit. (No input on stdin: txiki.js v26 never
   * settles a small write to a child's stdin pipe, so the close after it never
   * happens and the child waits for end of input; pass input in a file.)
   */
  run(argv: string[], opts?: { timeoutMs?: number }): Promise<ProcessResult>;
  /** Starts argv detached from our stdio (output discarded). */
  spawn(argv: string[]): Spawned;
}

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Wall-clock milliseconds since the epoch. */
  nowMs(): number;
  /** Monotonic milliseconds; only differences are meaningful. */
  monoMs(): number;
  after(ms: number, fn: () => void): Timer;
  every(ms: number, fn: () => void): Timer;
}

/** Resolves after `ms` on the clock; at once (a resolved promise, no timer) when ms ≤ 0. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => clock.after(ms, resolve)) : Promise.resolve();
}

export type SignalName = 'SIGHUP' | 'SIGTERM' | 'SIGINT';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Cryptography in the runtime's native code; verdicts must equal tweetnacl's on plain inputs (see core/crypto.ts). */
export interface NativeCrypto {
  /** Resolves to the verdict; rejects when there is none (the key would not import, no Ed25519 here). */
  verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
  /**
   * The Ed25519 signature of message by the key of this 32-byte seed (the
   * first half of tweetnacl's 64-byte secret key); bit-identical to tweetnacl's
   * (Ed25519 signatures are deterministic). Rejects where the runtime cannot sign.
   */
  signEd25519(seed: Uint8Array, message: Uint8Array): Promise<Uint8Array>;
}

export interface Platform {
  readonly runtime: 'node' | 'txiki';
  readonly udp: { bind(address: string, port: number): Promise<UdpSocket> };
  readonly tcp: {
    listen(address: string, port: number, onConn: (s: Stream) => void): Promise<Listener>;
    connect(host: string, port: number, timeoutMs: number): Promise<Stream>;
  };
  readonly unix: {
    listen(path: string, onConn: (s: Stream) => void): Promise<Listener>;
    connect(path: string): Promise<Stream>;
  };
  readonly fs: FileSystem;
  readonly proc: Processes;
  readonly clock: Clock;
  /** Cryptographically secure random bytes. */
  random(n: number): Uint8Array;
  /** Native Ed25519 where the runtime has WebCrypto for it; absent elsewhere (the core then verifies in JavaScript). */
  readonly crypto?: NativeCrypto;
  onSignal(sig: SignalName, handler: () => void): void;
  env(name: string): string | undefined;
  /** Command-line arguments after the script name. */
  readonly args: string[];
  /** Writes text to stdout / stderr as is. */
  stdout(text: string): void;
  stderr(text: string): void;
  exit(code: number): never;
  /** Resident set size in bytes, or 0 when the runtime cannot tell. */
  rssBytes(): number;
}
