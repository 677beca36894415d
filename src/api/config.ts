// Reading /etc/config/kith into effective settings: UCI values, overridden by
// command-line flags, with every problem reported at once. A file with errors
// is never half-applied: the caller keeps its previous settings.
import type { Platform, LogLevel } from '../platform/types.ts';
import { readKithSettings, validateKithSettings, formatProblem, type KithSettings, type Problem } from '../uci/settings.ts';
import type { OverlaySpace } from '../core/prefixes.ts';

/** Flags given on the command line win over the UCI file. */
export interface ConfigOverrides {
  ifname?: string;
  listenPort?: number;
  stateDir?: string;
  logLevel?: LogLevel;
  ubusSocket?: string;
  dnsPort?: number;
}

export interface LoadedConfig {
  settings: KithSettings;
  /** The file read, or null when running on defaults. */
  file: string | null;
  errors: Problem[];
  warnings: Problem[];
}

/** DNS port when Kith runs behind dnsmasq (a config file, as on OpenWrt) and when it runs alone. */
export const DNS_PORT_WITH_CONFIG = 5353;
export const DNS_PORT_STANDALONE = 53;

/**
 * Where the config file lives: OpenWrt's UCI file, else the Debian package's
 * conffile (the same format; /etc/config is OpenWrt's). `kith config check`
 * reads the first that exists.
 */
export const CONFIG_FILES = ['/etc/config/kith', '/etc/kith/kith.conf'] as const;

/** The first of CONFIG_FILES that exists, else the first (so the error names OpenWrt's path). */
export async function defaultConfigFile(fs: Pick<Platform['fs'], 'stat'>): Promise<string> {
  for (const f of CONFIG_FILES) if (await fs.stat(f).catch(() => null)) return f;
  return CONFIG_FILES[0];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads the config; with `network` (this node's, once a member), subnets are checked against its pool and ULA too. */
export async function loadConfig(p: Platform, file: string | null, o: ConfigOverrides, network: OverlaySpace | null = null): Promise<LoadedConfig> {
  let res;
  if (file) {
    let bytes: Uint8Array;
    try {
      bytes = await p.fs.readFile(file);
    } catch (e) {
      throw new ConfigError(`cannot read config ${file}: ${(e as Error).message}`);
    }
    res = readKithSettings(bytes, { file, defaults: { dnsPort: DNS_PORT_WITH_CONFIG }, network });
  } else {
    res = validateKithSettings({ sections: [] }, { defaults: { dnsPort: DNS_PORT_STANDALONE } });
  }
  const s = res.settings;
  const settings: KithSettings = {
    ...s,
    ifname: o.ifname ?? s.ifname,
    listenPort: o.listenPort ?? s.listenPort,
    stateDir: o.stateDir ?? s.stateDir,
    logLevel: o.logLevel ?? s.logLevel,
    ubusSocket: o.ubusSocket ?? s.ubusSocket,
    dns: { ...s.dns, port: o.dnsPort ?? s.dns.port },
  };
  return { settings, file, errors: res.errors, warnings: res.warnings };
}

export function describeProblems(c: LoadedConfig): string[] {
  return [...c.errors.map((p) => `error: ${formatProblem(p)}`), ...c.warnings.map((p) => `warning: ${formatProblem(p)}`)];
}

/** Logs every problem at its level (the logger adds the level itself). */
export function logProblems(c: LoadedConfig, log: { error(m: string): void; warn(m: string): void }): void {
  for (const p of c.errors) log.error(formatProblem(p));
  for (const p of c.warnings) log.warn(formatProblem(p));
}

/** A one-line summary of the settings that matter at startup. */
export function summarize(c: LoadedConfig): string {
  const s = c.settings;
  return `config ${c.file ?? '(defaults)'}: listen_port ${s.listenPort}, ifname ${s.ifname}, state_dir ${s.stateDir}, `
    + `dns ${s.dns.enabled ? `port ${s.dns.port}` : 'off'}, ${s.subnets.length} subnets, ${s.services.length} services`;
}
