// The ubus object `kith`: the method table's methods (methods.ts) for
// rpcd/LuCI, registered when a ubus socket exists, re-registered by the
// client after ubusd restarts, plus a listener for network.interface events
// (WAN changes refresh endpoints).
import type { Platform } from '../platform/types.ts';
import { UbusClient, UbusStatusError, UBUS_STATUS, type UbusMethod } from '../ubus/index.ts';
import type { BlobTable } from '../ubus/index.ts';
import { ApiError, type ApiErrorCode } from '../api/protocol.ts';
import { METHODS, type MethodCall } from './methods.ts';
import type { Logger } from './log.ts';

export const UBUS_OBJECT = 'kith';
export const UBUS_RETRY_MS = 10_000;

export interface KithUbus { close(): void }

/** The API errors ubus answers with a status; the others travel as data (below). */
const UBUS_STATUS_OF: Partial<Record<ApiErrorCode, number>> = { usage: UBUS_STATUS.INVALID_ARGUMENT, 'not-found': UBUS_STATUS.NOT_FOUND };

/** JSON-safe copy (drops undefined) as a blobmsg table. */
function toTable(v: unknown, wrap?: string): BlobTable {
  const plain = JSON.parse(JSON.stringify(v ?? null)) as unknown;
  if (wrap || typeof plain !== 'object' || plain === null || Array.isArray(plain)) return { [wrap ?? 'result']: plain as BlobTable };
  return plain as BlobTable;
}

/**
 * The object's methods, from the method table by their ubus names. The table's argument types are
 * the signature ubus announces; the arguments reach the table's own check unfiltered (`unchecked`),
 * so ubus refuses exactly what the unix-socket API refuses, as INVALID_ARGUMENT.
 */
export function ubusMethods(call: MethodCall): Record<string, UbusMethod> {
  const out: Record<string, UbusMethod> = {};
  for (const m of METHODS) {
    out[m.ubus ?? m.api] = {
      args: m.args,
      unchecked: true,
      async handler(args) {
        try {
          return toTable(await call(m, args as Record<string, unknown>, () => undefined), m.wrap);
        } catch (e) {
          const status = e instanceof ApiError && UBUS_STATUS_OF[e.code];
          if (status) throw new UbusStatusError(status, e.message);
          // A failure the user should read (e.g. a refused join) travels as data, as LuCI shows it.
          return { error: (e as Error).message };
        }
      },
    };
  }
  return out;
}

export async function startUbus(p: Platform, log: Logger, socketPath: string, call: MethodCall, onWanChange: () => void): Promise<KithUbus | null> {
  if (!(await p.fs.stat(socketPath))) {
    log.debug(`ubus: no socket at ${socketPath}; the ubus object is not registered`);
    return null;
  }
  const client = new UbusClient(p, { socketPath, log: (level, msg) => log.limited(`ubus-${msg.slice(0, 20)}`, level, msg) });
  const methods = ubusMethods(call);
  let closed = false;
  let retry: { cancel(): void } | null = null;
  const register = async () => {
    if (closed) return;
    try {
      await client.addObject(UBUS_OBJECT, methods);
      await client.listen('network.interface', (_name, data) => {
        if (data['interface'] !== 'wan') return;
        log.info(`ubus: wan ${typeof data['action'] === 'string' ? data['action'] : 'changed'}: refreshing endpoints`);
        onWanChange();
      });
      log.info(`ubus: object "${UBUS_OBJECT}" registered on ${socketPath}`);
    } catch (e) {
      log.limited('ubus-register', 'warn', `ubus: cannot register on ${socketPath}: ${(e as Error).message}; retrying`);
      retry = p.clock.after(UBUS_RETRY_MS, () => void register());
    }
  };
  await register();
  return { close() { closed = true; retry?.cancel(); client.close(); } };
}
