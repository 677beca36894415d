// kithd's command line: flags that override the config file, and the usage text.
import type { LogLevel } from '../platform/types.ts';
import type { ConfigOverrides } from '../api/config.ts';

export interface KithdArgs { configFile: string | null; overrides: ConfigOverrides; socket: string | null }

export const KITHD_USAGE = `usage: kithd [--config FILE] [--state-dir DIR] [--ifname kith0] [--listen-port 51820]
             [--dns-port N] [--socket PATH] [--ubus-socket PATH] [--log-level info]
  Flags override the config file (UCI: /etc/config/kith on OpenWrt, /etc/kith/kith.conf from
  the Debian package); without --config kithd runs on defaults (DNS on port 53). Runs in the
  foreground and logs to stdout. SIGHUP reloads the config file; SIGTERM stops, tunnels stay up.
environment: KITH_STATE_DIR (state directory, default /etc/kith), KITH_RUN_DIR (records cache,
  default /var/run/kith, or <state>/run), KITH_SOCKET (API socket, default /var/run/kith/kithd.sock,
  or <state>/kithd.sock), KITH_LOG_TIME=1 (timestamps), KITH_NATIVE_UDP=0 (Node.js: plain dgram)`;

export function parseKithdArgs(argv: string[], env: (n: string) => string | undefined): KithdArgs | string {
  const a: KithdArgs = { configFile: null, overrides: {}, socket: null };
  const envDir = env('KITH_STATE_DIR');
  if (envDir) a.overrides.stateDir = envDir;
  const port = (k: string, v: string) => { const n = Number(v); if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`invalid ${k} "${v}": a port 1-65535`); return n; };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const need = () => { const v = argv[i + 1]; if (v === undefined) throw new Error(`${k} needs a value`); i++; return v; };
    try {
      if (k === '--config') a.configFile = need();
      else if (k === '--state-dir') a.overrides.stateDir = need();
      else if (k === '--ifname') { const v = need(); if (!/^[A-Za-z0-9_.-]{1,15}$/.test(v)) return `invalid --ifname "${v}"`; a.overrides.ifname = v; }
      else if (k === '--listen-port') a.overrides.listenPort = port(k, need());
      else if (k === '--dns-port') a.overrides.dnsPort = port(k, need());
      else if (k === '--socket') a.socket = need();
      else if (k === '--ubus-socket') a.overrides.ubusSocket = need();
      else if (k === '--log-level') { const l = need(); if (!['debug', 'info', 'warn', 'error'].includes(l)) return `invalid --log-level "${l}"`; a.overrides.logLevel = l as LogLevel; }
      else if (k === '-h' || k === '--help') return KITHD_USAGE;
      else return `unknown argument "${k}"`;
    } catch (e) {
      return (e as Error).message;
    }
  }
  return a;
}
