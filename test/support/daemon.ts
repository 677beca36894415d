// kithd in-process on a fake host: the real Kithd (config, state store, mesh,
// join listener, API server) with the fake platform underneath, plus a client
// that calls the local API over the fake unix socket as the CLI does.
import { Kithd } from '../../src/daemon/lifecycle.ts';
import { loadConfig, type ConfigOverrides } from '../../src/api/config.ts';
import { makeLogger } from '../../src/daemon/log.ts';
import { callApi } from '../../src/cli/client.ts';
import type { DurableState } from '../../src/daemon/state.ts';
import type { FakeHost } from './fake-platform.ts';
import type { Platform } from '../../src/platform/types.ts';

export const STATE_DIR = '/etc/kith';
export const SOCKET = '/var/run/kith/kithd.sock';

export interface RunningKithd {
  host: FakeHost;
  d: Kithd;
  /** Calls an API method over the unix socket, as `kith` does. */
  call(method: string, params?: Record<string, unknown>): Promise<unknown>;
  /** state.json as it is on the (fake) disk. */
  onDisk(): DurableState;
}

/**
 * `platform` replaces the host's platform for kithd (e.g. to reach a fake ubusd); the API client still uses the host's.
 * `during` runs as soon as the API answers, while kithd may still be starting (its mesh among it).
 */
export async function startKithd(host: FakeHost, o: {
  overrides?: ConfigOverrides; configText?: string; platform?: Platform; during?: (call: RunningKithd['call'], d: Kithd) => Promise<void>;
} = {}): Promise<RunningKithd> {
  const p = host.platform;
  let file: string | null = null;
  if (o.configText !== undefined) {
    file = '/etc/config/kith';
    host.fs.writeText(file, o.configText);
  }
  const overrides: ConfigOverrides = { stateDir: STATE_DIR, dnsPort: 5353, ...o.overrides };
  const config = await loadConfig(p, file, overrides);
  if (config.errors.length) throw new Error(`config errors: ${JSON.stringify(config.errors)}`);
  const dp = o.platform ?? p;
  const d = new Kithd(dp, { configFile: file, overrides, socketPath: SOCKET }, makeLogger(dp, 'debug'), config);
  const call: RunningKithd['call'] = (method, params = {}) => callApi(p, SOCKET, method, params, () => undefined);
  const starting = d.start();
  if (o.during) {
    let up = false;
    for (let i = 0; i < 1000 && !up; i++) up = await call('status').then(() => true, () => new Promise((r) => setTimeout(r, 1)).then(() => false));
    if (!up) throw new Error('the API never answered');
    await Promise.all([starting, o.during(call, d)]);
  }
  await starting;
  return {
    host, d, call,
    onDisk: () => {
      const t = host.fs.text(`${STATE_DIR}/state.json`);
      if (t === null) throw new Error('no state.json on disk');
      return JSON.parse(t) as DurableState;
    },
  };
}
