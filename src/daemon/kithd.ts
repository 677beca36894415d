// kithd's main: parse the arguments, read the config, start the daemon (lifecycle.ts), stop on
// SIGTERM/SIGINT, reload on SIGHUP; and the crash policy. Runs in the foreground and logs to stdout.
import type { Platform } from '../platform/types.ts';
import { loadConfig, logProblems, summarize, ConfigError, type LoadedConfig } from '../api/config.ts';
import { makeLogger, type Logger } from './log.ts';
import { Kithd } from './lifecycle.ts';
import { parseKithdArgs, KITHD_USAGE, type KithdArgs } from './kithd-args.ts';

/** The daemon's main: parse arguments, read the config, start, stop on SIGTERM/SIGINT, reload on SIGHUP. */
/**
 * The crash policy: what a remote peer, a LAN device or a failed command can
 * cause is caught where it happens, logged (rate limited) and counted; only a
 * state kithd cannot serve from (no mesh, a bug) ends it, with exit status 1,
 * so procd restarts it.
 */
export function fatal(p: Platform, log: Logger, msg: string): never {
  log.error(`fatal: ${msg}; exiting so the service manager restarts kithd`);
  return p.exit(1);
}

export async function runKithd(p: Platform): Promise<void> {
  const parsed = parseKithdArgs(p.args, p.env);
  if (typeof parsed === 'string') {
    if (parsed === KITHD_USAGE) p.stdout(`${KITHD_USAGE}\n`);
    else p.stderr(`kithd: ${parsed}\n${KITHD_USAGE}\n`);
    p.exit(parsed === KITHD_USAGE ? 0 : 2);
  }
  const a = parsed as KithdArgs;
  let config: LoadedConfig;
  try {
    config = await loadConfig(p, a.configFile, a.overrides);
  } catch (e) {
    p.stderr(`kithd: ${(e as Error).message}\n`);
    p.exit(1);
  }
  const log = makeLogger(p, config!.settings.logLevel, p.env('KITH_LOG_TIME') === '1');
  logProblems(config!, log);
  if (config!.errors.length) {
    p.stderr(`kithd: ${config!.errors.length} error(s) in ${config!.file}; fix them (kith config check) and start again\n`);
    p.exit(1);
  }
  if (!config!.settings.enabled) {
    log.info(`disabled in ${config!.file} (option enabled '0'); exiting`);
    p.exit(0);
  }
  log.info(summarize(config!));
  const d = new Kithd(p, { configFile: a.configFile, overrides: a.overrides, socketPath: a.socket }, log, config!);
  try {
    await d.start();
  } catch (e) {
    p.stderr(`kithd: ${e instanceof ConfigError ? e.message : (e as Error).message}\n`);
    p.exit(1);
  }
  log.info(`kithd running (${p.runtime}), state ${d.stateDir}`);
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${sig}: stopping (the tunnel stays up)`);
    void d.stop().finally(() => p.exit(0));
  };
  p.onSignal('SIGTERM', () => stop('SIGTERM'));
  p.onSignal('SIGINT', () => stop('SIGINT'));
  p.onSignal('SIGHUP', () => {
    log.info('SIGHUP: reloading configuration');
    // A reload that fails keeps the running configuration; one that cannot even restore it leaves no mesh: procd restarts us.
    d.reload().catch((e: Error) => fatal(p, log, `reload left no running mesh: ${e.message}`));
  });
}
