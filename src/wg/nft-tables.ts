// Whole nftables tables that Kith owns (the exits' and the mapped blocks'):
// each is replaced only when its text changes, through a 0600 file in the run
// directory (`nft -f`), and removed when its text becomes null. A replacement
// is one transaction (create if missing, delete, the new table): no packet
// ever meets the host without the table, such as a donor without its filter.
import type { Platform } from '../platform/types.ts';
import { utf8Encode } from '../core/bytes.ts';

export class NftTables {
  /** What each table was last set to (null: removed). */
  private tables = new Map<string, string | null>();
  constructor(protected readonly p: Platform, private readonly tmpDir: string) {}

  protected async run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return this.p.proc.run(argv);
  }

  /** Replaces table `family name` with `text` (null: removes it) unless it is already that. */
  async table(family: 'inet' | 'ip' | 'ip6', name: string, text: string | null): Promise<void> {
    const key = `${family} ${name}`;
    if (this.tables.has(key) && this.tables.get(key) === text) return;
    this.tables.delete(key);
    if (text === null) {
      await this.run(['nft', 'delete', 'table', family, name]);
      this.tables.set(key, null);
      return;
    }
    const file = `${this.tmpDir}/${name}.nft`;
    await this.p.fs.writeFileAtomic(file, utf8Encode(`table ${key}
delete table ${key}
${text}`), 0o600);
    const r = await this.run(['nft', '-f', file]);
    await this.p.fs.remove(file).catch(() => undefined);
    if (r.code !== 0) throw new Error(`nft -f ${name}: ${r.stderr.trim().split('\n')[0] ?? ''}`);
    this.tables.set(key, text);
  }
}
