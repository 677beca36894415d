// One log line per change of the path to a member ("path to home2: relayed
// via hub → direct"), from each applied netmap.
import type { Netmap } from '../core/netmap.ts';
import type { Logger } from './log.ts';

export class PathLog {
  private paths = new Map<string, string>();

  constructor(private readonly log: Logger) {}

  note(nm: Netmap): void {
    const seen = new Set<string>();
    for (const n of nm.nodes) {
      if (n.path === 'self') continue;
      seen.add(n.id);
      const now = n.path === 'relayed' ? `relayed via ${n.via}` : n.path;
      const before = this.paths.get(n.id);
      if (before !== now) {
        if (before !== undefined || n.path !== 'unreachable') this.log.info(`path to ${n.name}: ${before ?? 'new'} → ${now}`);
        this.paths.set(n.id, now);
      }
    }
    for (const id of this.paths.keys()) if (!seen.has(id)) this.paths.delete(id);
  }
}
