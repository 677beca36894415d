// systemd-resolved, where it runs (Debian, Ubuntu; not OpenWrt): the host's
// own lookups in the mesh zone go to kithd's DNS server. The settings are the
// outer WireGuard interface's own (resolvectl dns/domain/default-route): a
// routing-only domain (~zone), no default route, so only the zone's names
// reach kithd and every other lookup stays where it was. They live as long
// as the interface, and `revert` removes them when kithd stops serving names.
import type { Platform } from '../platform/types.ts';
import { formatHostPort } from '../core/ip.ts';
import type { Logger } from './log.ts';

/** resolved's varlink socket: present while systemd-resolved runs. */
export const RESOLVED_SOCKET = '/run/systemd/resolve/io.systemd.Resolve';
const TIMEOUT_MS = 5000;

export class ResolvedLink {
  private linked: string | null = null;

  constructor(private readonly p: Platform, private readonly log: Logger) {}

  /** Points the zone at `server` ("ip", port) on link `ifname`; false where resolved does not run or refused (logged). */
  async link(ifname: string, server: string, port: number, zone: string): Promise<boolean> {
    if (!(await this.p.fs.stat(RESOLVED_SOCKET).catch(() => null))) return false;
    if (this.linked !== null && this.linked !== ifname) await this.unlink(); // the interface was renamed
    const steps = [
      ['resolvectl', 'dns', ifname, formatHostPort(server, port)],
      ['resolvectl', 'domain', ifname, `~${zone}`],
      ['resolvectl', 'default-route', ifname, 'false'],
    ];
    for (const argv of steps) {
      const r = await this.p.proc.run(argv, { timeoutMs: TIMEOUT_MS }).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
      if (r.code !== 0) {
        this.log.limited('resolved', 'warn', `dns: systemd-resolved does not send ${zone} to kithd (${argv.slice(0, 2).join(' ')}: ${r.stderr.trim().split('\n')[0] || `exit ${r.code}`}); ask it directly: dig -p ${port} @${server} <name>.${zone}`);
        this.linked = ifname; // what did apply is reverted
        await this.unlink();
        return false;
      }
    }
    if (this.linked !== ifname) this.log.info(`dns: systemd-resolved sends ${zone} to ${formatHostPort(server, port)} (link ${ifname})`);
    this.linked = ifname;
    return true;
  }

  /** Removes the link's settings, if any were made. */
  async unlink(): Promise<void> {
    const ifname = this.linked;
    if (ifname === null) return;
    this.linked = null;
    await this.p.proc.run(['resolvectl', 'revert', ifname], { timeoutMs: TIMEOUT_MS }).catch(() => undefined);
  }
}
