// The route applier: routes to members' advertised subnets live in Kith's own
// routing table, consulted only after the host's own specific routes.
//
// Rules (both families), checked at the first apply (and until they are in
// place), added where missing and left in place (they are harmless
// with an empty table, and kithd never pulls routes on stop: traffic keeps
// flowing across restarts):
//   32700: lookup main suppress_prefixlength 0
//   32701: lookup 7799
// The first consults the main table but ignores a match of length 0, i.e. the
// host's default route; any more specific host route (its LANs, its WAN, a
// static route, another VPN) wins there. Only what main would have sent to
// the default route reaches Kith's table, and what Kith's table lacks falls
// through to main (32766) and its default route. So an advertised prefix can
// never replace or shadow a route the host has, whatever a member says. The
// lookup rule is only added once the suppress rule exists; without it Kith's
// routes stay unused (and reported) rather than take precedence.
//
// Routes are applied one by one: one that fails is reported and the rest
// still apply. Routes an older kithd put in the main table (proto 77) go.
import type { Platform } from '../platform/types.ts';

export const ROUTE_TABLE = 7799;
/** Routes Kith installs carry this protocol number, so it can find and remove its own. */
export const ROUTE_PROTO = 77;
/** Priority of the "main without its default route" rule; Kith's table follows at +1. */
export const RULE_PRIORITY = 32700;

export interface Route { prefix: string; dev: string }
export interface RouteFailure { prefix: string; error: string }

export interface RouteResult {
  /** Commands that changed something (0: nothing to do). */
  changed: number;
  /** Routes that could not be added or removed, each with the command's first line of error. */
  failed: RouteFailure[];
  /** Why Kith's table is not consulted for a family, if it is not (rules missing). */
  ruleErrors: string[];
}

type Family = '-4' | '-6';
const FAMILIES: Family[] = ['-4', '-6'];

/** The prefix of an `ip route show` line ("198.18.2.5 dev x" is a /32), and its device. */
export function parseRouteLine(line: string, family: Family): Route | null {
  const m = /^(\S+)\s.*\bdev\s+(\S+)/.exec(line.trim());
  if (!m) return null;
  const dst = m[1] === 'default' ? (family === '-4' ? '0.0.0.0/0' : '::/0') : m[1]!;
  return { prefix: dst.includes('/') ? dst : `${dst}/${family === '-4' ? 32 : 128}`, dev: m[2]! };
}

/** The host's addresses with their prefix lengths from `ip -o addr show`, except on the given devices. */
export function hostAddresses(out: string, exceptDevs: readonly string[]): string[] {
  const addrs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /^\d+:\s+(\S+?)(?:@\S+)?\s+inet6?\s+(\S+)(?:\s+peer\s+(\S+))?/.exec(line);
    if (!m || exceptDevs.includes(m[1]!)) continue;
    addrs.push(m[2]!);
    if (m[3]) addrs.push(m[3]);
  }
  return addrs;
}

export class RouteApplier {
  /** Families whose rules are in place and whose legacy routes are gone: checked once, not on every apply. */
  private settled = new Set<Family>();
  constructor(private readonly p: Platform, readonly table = ROUTE_TABLE, readonly priority = RULE_PRIORITY) {}

  private async run(argv: string[]): Promise<{ ok: boolean; out: string; error: string }> {
    const r = await this.p.proc.run(argv, { timeoutMs: 10000 });
    return { ok: r.code === 0, out: r.stdout, error: `${argv.join(' ')}: exit ${r.code}: ${r.stderr.trim().split('\n')[0] ?? ''}` };
  }

  /** Adds the two rules of a family where missing; returns why Kith's table is not in use, or null. */
  async ensureRules(family: Family): Promise<string | null> {
    const shown = await this.run(['ip', family, 'rule', 'show']);
    if (!shown.ok) return shown.error;
    const has = (prio: number, re: RegExp) => shown.out.split('\n').some((l) => l.startsWith(`${prio}:`) && re.test(l));
    // A rule the listing did not show as expected may exist all the same: the kernel then says so.
    const added = (r: { ok: boolean; error: string }) => r.ok || /File exists/.test(r.error);
    const suppress = this.priority;
    if (!has(suppress, /lookup main\b.*suppress_prefixlength 0\b/)) {
      const r = await this.run(['ip', family, 'rule', 'add', 'priority', String(suppress), 'lookup', 'main', 'suppress_prefixlength', '0']);
      if (!added(r)) return `${r.error} (Kith's routes stay unused: without this rule they could shadow the host's own)`;
    }
    if (!has(suppress + 1, /lookup \S+/)) {
      const r = await this.run(['ip', family, 'rule', 'add', 'priority', String(suppress + 1), 'lookup', String(this.table)]);
      if (!added(r)) return r.error;
    }
    return null;
  }

  /**
   * Reconciles Kith's table with `routes` on the given devices (Kith's
   * interfaces): adds what is missing, removes what is no longer wanted,
   * one route at a time. Never throws for a failed command.
   */
  async apply(devs: readonly string[], routes: readonly Route[]): Promise<RouteResult> {
    const res: RouteResult = { changed: 0, failed: [], ruleErrors: [] };
    for (const family of FAMILIES) {
      const want = routes.filter((r) => r.prefix.includes(':') === (family === '-6'));
      const step = async (prefix: string, argv: string[]) => {
        const r = await this.run(argv);
        if (r.ok) res.changed++;
        else res.failed.push({ prefix, error: r.error });
      };
      if (!this.settled.has(family)) {
        const ruleError = await this.ensureRules(family);
        if (ruleError && want.length) res.ruleErrors.push(ruleError);
        // An older kithd routed advertised subnets in the main table: those go.
        const legacy = await this.run(['ip', family, 'route', 'show', 'table', 'main', 'proto', String(ROUTE_PROTO)]);
        const before = res.failed.length;
        for (const r of legacy.ok ? this.ours(legacy.out, family, devs) : []) {
          await step(r.prefix, ['ip', family, 'route', 'del', r.prefix, 'dev', r.dev, 'table', 'main', 'proto', String(ROUTE_PROTO)]);
        }
        if (!ruleError && legacy.ok && res.failed.length === before) this.settled.add(family);
      }
      const shown = await this.run(['ip', family, 'route', 'show', 'table', String(this.table), 'proto', String(ROUTE_PROTO)]);
      // A table that does not exist yet lists as an error on some `ip` versions: then it is empty.
      const have = shown.ok ? this.ours(shown.out, family, devs) : [];
      for (const r of want) {
        if (have.some((h) => h.prefix === r.prefix && h.dev === r.dev)) continue;
        await step(r.prefix, ['ip', family, 'route', 'replace', r.prefix, 'dev', r.dev, 'table', String(this.table), 'proto', String(ROUTE_PROTO)]);
      }
      for (const h of have) {
        if (want.some((r) => r.prefix === h.prefix)) continue;
        await step(h.prefix, ['ip', family, 'route', 'del', h.prefix, 'dev', h.dev, 'table', String(this.table), 'proto', String(ROUTE_PROTO)]);
      }
    }
    return res;
  }

  private ours(out: string, family: Family, devs: readonly string[]): Route[] {
    return out.split('\n').map((l) => parseRouteLine(l, family)).filter((r): r is Route => r !== null && devs.includes(r.dev));
  }
}
