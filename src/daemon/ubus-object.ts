// The ubus object `kith`: the local API's methods for rpcd/LuCI, registered
// when a ubus socket exists, re-registered by the client after ubusd restarts,
// plus a listener for network.interface events (WAN changes refresh endpoints).
import type { Platform } from '../platform/types.ts';
import { UbusClient, UbusStatusError, UBUS_STATUS, type UbusArgPolicy, type UbusMethod } from '../ubus/index.ts';
import type { BlobTable } from '../ubus/index.ts';
import { ApiError } from '../api/protocol.ts';
import type { ApiHandler } from './api-server.ts';
import type { Logger } from './log.ts';

export const UBUS_OBJECT = 'kith';
export const UBUS_RETRY_MS = 10_000;

/** ubus method → (API method, argument policy, key to wrap a list result in). */
const METHODS: Record<string, { api: string; args: UbusArgPolicy; wrap?: string }> = {
  status: { api: 'status', args: {} },
  peers: { api: 'peers', args: {}, wrap: 'peers' },
  invites: { api: 'invites', args: {}, wrap: 'invites' },
  invite: { api: 'invite', args: { name: 'string', expires: 'string', admin: 'bool' } },
  join: { api: 'join', args: { code: 'string', nodeName: 'string' } },
  init: { api: 'init', args: { network: 'string', nodeName: 'string', endpoint: 'string', zone: 'string', pool: 'string', policy: 'string' } },
  services: { api: 'service.list', args: {}, wrap: 'services' },
  service_add: { api: 'service.add', args: { name: 'string', port: 'int', proto: 'string', type: 'string' }, wrap: 'services' },
  service_rm: { api: 'service.rm', args: { name: 'string' }, wrap: 'services' },
  reload: { api: 'reload', args: {} },
  revoke: { api: 'revoke', args: { node: 'string', dryRun: 'bool' } },
};

export interface KithUbus { close(): void }

/** JSON-safe copy (drops undefined) as a blobmsg table. */
function toTable(v: unknown, wrap?: string): BlobTable {
  const plain = JSON.parse(JSON.stringify(v ?? null)) as unknown;
  if (wrap || typeof plain !== 'object' || plain === null || Array.isArray(plain)) return { [wrap ?? 'result']: plain as BlobTable };
  return plain as BlobTable;
}

export async function startUbus(p: Platform, log: Logger, socketPath: string, api: Record<string, ApiHandler>, onWanChange: () => void): Promise<KithUbus | null> {
  if (!(await p.fs.stat(socketPath))) {
    log.debug(`ubus: no socket at ${socketPath}; the ubus object is not registered`);
    return null;
  }
  const client = new UbusClient(p, { socketPath, log: (level, msg) => log.limited(`ubus-${msg.slice(0, 20)}`, level, msg) });
  const methods: Record<string, UbusMethod> = {};
  for (const [name, m] of Object.entries(METHODS)) {
    methods[name] = {
      args: m.args,
      async handler(args) {
        try {
          return toTable(await api[m.api]!(args as Record<string, unknown>, () => undefined), m.wrap);
        } catch (e) {
          if (e instanceof ApiError && e.code === 'usage') throw new UbusStatusError(UBUS_STATUS.INVALID_ARGUMENT, e.message);
          if (e instanceof ApiError && e.code === 'not-found') throw new UbusStatusError(UBUS_STATUS.NOT_FOUND, e.message);
          // A failure the user should read (e.g. a refused join) travels as data, as LuCI shows it.
          return { error: (e as Error).message };
        }
      },
    };
  }
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
