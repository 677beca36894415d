// The local JSON API between kith (and ubus) and kithd, over a unix socket.
// One JSON object per line. A request is {id, method, params}; kithd answers
// with any number of {id, progress} lines, then one {id, result} or
// {id, error: {code, message}}.
export const MAX_API_LINE = 64 * 1024;

export interface ApiRequest { id: number; method: string; params: Record<string, unknown> }
export type ApiResponse =
  | { id: number; progress: string }
  | { id: number; result: unknown }
  | { id: number; error: { code: ApiErrorCode; message: string } };

/** usage: the caller's mistake; failed: the operation could not be done; internal: a bug. */
export type ApiErrorCode = 'usage' | 'failed' | 'not-found' | 'internal';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(readonly code: ApiErrorCode, message: string) { super(message); }
}

export function defaultSocketPath(stateDir: string, env: (n: string) => string | undefined): string {
  const explicit = env('KITH_SOCKET');
  if (explicit) return explicit;
  return stateDir === '/etc/kith' ? '/var/run/kith/kithd.sock' : `${stateDir}/kithd.sock`;
}

export function defaultRunDir(stateDir: string, env: (n: string) => string | undefined): string {
  const explicit = env('KITH_RUN_DIR');
  if (explicit) return explicit;
  return stateDir === '/etc/kith' ? '/var/run/kith' : `${stateDir}/run`;
}

/** One member as `peers` reports it. */
export interface PeerView {
  name: string;
  ipv4: string;
  ipv6: string;
  path: 'direct' | 'relayed' | 'unreachable';
  via: string | null;
  endpoint: string | null;
  rttMs: number | null;
  lastHandshakeSec: number | null;
  rxBytes: number;
  txBytes: number;
  /** Why it is not reached directly (core/why.ts), null when it is. */
  whyNotDirect: string | null;
  /** Its advertised subnets; mappedTo: the mapped block it is reached through when it clashes with another member's (else null). */
  subnets: { prefix: string; mappedTo: string | null }[];
}
