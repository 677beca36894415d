// The mesh's routes to advertised subnets: the netmap's accepted routes
// applied to Kith's table (wg/routes.ts), this node's mapped blocks to its
// nftables netmap (wg/mapped-nft.ts), each refusal and failure logged once
// while it lasts, and what `kith status` shows about them.
import type { Platform } from '../platform/types.ts';
import type { Netmap, RouteDev } from '../core/netmap.ts';
import { describeRefusal, type MappedSubnet, type RefusedPrefix } from '../core/prefixes.ts';
import { RouteApplier, hostAddresses, type RouteFailure } from '../wg/routes.ts';
import { mappedTable } from '../wg/mapped-nft.ts';
import { NftTables } from '../wg/nft-tables.ts';
import type { Logger } from './log.ts';

/** Refusals and failures remembered for logging "once while it lasts"; more are logged again later. */
const MAX_REMEMBERED = 256;

export interface RoutesView {
  table: number;
  /** Routes the netmap wants (accepted prefixes of reachable members). */
  routes: number;
  /** Advertised prefixes not routed: node name, prefix, reason. */
  refused: { node: string; prefix: string; reason: string }[];
  refusedCount: number;
  failed: RouteFailure[];
  ruleErrors: string[];
  /** This node's subnets reached through mapped blocks (they clash with another member's), and why the netmap failed if it did. */
  mapped: MappedSubnet[];
  mappedError: string | null;
}

export class MeshRoutes {
  readonly applier: RouteApplier;
  private failed: RouteFailure[] = [];
  private ruleErrors: string[] = [];
  private logged = new Set<string>();
  private readonly nft: NftTables;
  private readonly natTable: string;
  private mappedError: string | null = null;

  /** `devs` maps the netmap's interface names to this node's devices; the netmap's table is named by the listen port. */
  constructor(p: Platform, private readonly log: Logger, private readonly devs: Record<RouteDev, string>, nat: { runDir: string; listenPort: number }) {
    this.applier = new RouteApplier(p);
    this.nft = new NftTables(p, nat.runDir);
    this.natTable = `kithm_${nat.listenPort}`;
  }

  /** The host's addresses outside Kith's own interfaces (from `ip -o addr show`), for the core's connected-network check. */
  hostAddresses(ipAddrShow: string): string[] {
    return hostAddresses(ipAddrShow, Object.values(this.devs));
  }

  /** Applies the netmap's routes; never throws. Failed routes are reported, the rest still apply. */
  async apply(nm: Netmap): Promise<void> {
    this.logRefusals(nm.refused);
    try {
      const res = await this.applier.apply(Object.values(this.devs), nm.routes.map((r) => ({ prefix: r.prefix, dev: this.devs[r.dev] })));
      this.failed = res.failed;
      this.ruleErrors = res.ruleErrors;
    } catch (e) {
      this.failed = nm.routes.map((r) => ({ prefix: r.prefix, error: (e as Error).message }));
    }
    for (const f of this.failed) this.log.limited(`route-${f.prefix}`, 'warn', `route ${f.prefix} not applied: ${f.error}`);
    for (const e of this.ruleErrors) this.log.limited('route-rules', 'error', `routing rules for Kith's table: ${e}`);
    try {
      await this.nft.table('ip', this.natTable, mappedTable(this.natTable, Object.values(this.devs), nm.self.mapped));
      this.mappedError = null;
    } catch (e) {
      this.mappedError = (e as Error).message;
      this.log.limited('mapped', 'error', `mapped blocks: ${this.mappedError}`);
    }
  }

  private logRefusals(refused: RefusedPrefix[]): void {
    const now = new Set<string>();
    for (const r of refused) {
      const key = `${r.node} ${r.prefix} ${r.kind}`;
      now.add(key);
      if (!this.logged.has(key)) this.log.warn(`not routing ${describeRefusal(r)}`);
    }
    this.logged = now.size <= MAX_REMEMBERED ? now : new Set();
  }

  view(nm: Netmap): RoutesView {
    return {
      table: this.applier.table, routes: nm.routes.length,
      refused: nm.refused.map((r) => ({ node: r.name, prefix: r.prefix, reason: r.reason })), refusedCount: nm.refused.length,
      failed: this.failed, ruleErrors: this.ruleErrors, mapped: nm.self.mapped, mappedError: this.mappedError,
    };
  }
}
