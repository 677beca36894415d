// A DNS server on its own, serving a ZoneInput read from a JSON file: for
// tests, the benchmark and trying the resolver without a mesh. SIGHUP
// re-reads the file and swaps the index, as the daemon does per netmap.
import type { Platform } from '../platform/types.ts';
import { buildIndex } from './zone.ts';
import type { ZoneInput, ZoneNode, DnsIndex } from './zone.ts';
import { startDnsServer } from './server.ts';
import type { DnsServer } from './server.ts';
import { formatHostPort } from './addr.ts';
import { utf8Decode } from '../core/bytes.ts';

export const STANDALONE_USAGE = 'usage: serve-zone --zone-json FILE [--port N] [--listen ADDR:PORT]... [--forward --upstream ADDR[:PORT]...] [--max-answers N] [--no-rate-limit]';

export interface StandaloneArgs {
  zoneJson: string;
  listen: string[];
  forward: boolean;
  upstreams: string[];
  maxAnswers?: number;
  rateLimit: boolean;
}

/** Parses the command line; throws SyntaxError naming the bad argument. */
export function parseStandaloneArgs(args: string[]): StandaloneArgs {
  const out: StandaloneArgs = { zoneJson: '', listen: [], forward: false, upstreams: [], rateLimit: true };
  let port = 5353;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => { const v = args[++i]; if (v === undefined) throw new SyntaxError(`${a} needs a value\n${STANDALONE_USAGE}`); return v; };
    const int = (lo: number, hi: number) => { const v = value(); const n = Number(v); if (!Number.isInteger(n) || n < lo || n > hi) throw new SyntaxError(`${a}: "${v}" is not an integer in ${lo}..${hi}`); return n; };
    if (a === '--zone-json') out.zoneJson = value();
    else if (a === '--port') port = int(0, 65535);
    else if (a === '--listen') out.listen.push(value());
    else if (a === '--forward') out.forward = true;
    else if (a === '--upstream') out.upstreams.push(value());
    else if (a === '--max-answers') out.maxAnswers = int(1, 1000);
    else if (a === '--no-rate-limit') out.rateLimit = false;
    else throw new SyntaxError(`unknown argument "${a}"\n${STANDALONE_USAGE}`);
  }
  if (!out.zoneJson) throw new SyntaxError(`--zone-json is required\n${STANDALONE_USAGE}`);
  if (out.listen.length === 0) out.listen.push(formatHostPort('127.0.0.1', port));
  return out;
}

/** Checks the shape of a parsed ZoneInput JSON; errors name the field. */
export function parseZoneInput(v: unknown, file: string): ZoneInput {
  const fail = (field: string, got: unknown): never => { throw new SyntaxError(`${file}: field "${field}" is invalid: ${JSON.stringify(got)?.slice(0, 60)}`); };
  const o = (v ?? {}) as Record<string, unknown>;
  for (const f of ['zone', 'ula48', 'ipv4Pool'] as const) if (typeof o[f] !== 'string') fail(f, o[f]);
  if (typeof o.soaSerial !== 'number') fail('soaSerial', o.soaSerial);
  if (o.self !== undefined && typeof o.self !== 'string') fail('self', o.self);
  if (!Array.isArray(o.nodes)) fail('nodes', o.nodes);
  const nodes = (o.nodes as unknown[]).map((n, i): ZoneNode => {
    const r = (n ?? {}) as Record<string, unknown>;
    for (const f of ['name', 'ipv4', 'ipv6'] as const) if (typeof r[f] !== 'string') fail(`nodes[${i}].${f}`, r[f]);
    if (r.services !== undefined && !Array.isArray(r.services)) fail(`nodes[${i}].services`, r.services);
    return r as unknown as ZoneNode;
  });
  for (const n of nodes) n.services ??= [];
  return { ...(o as unknown as ZoneInput), nodes };
}

async function loadIndex(platform: Platform, file: string): Promise<DnsIndex> {
  const input = parseZoneInput(JSON.parse(utf8Decode(await platform.fs.readFile(file))), file);
  const { index, rejected } = buildIndex(input);
  for (const r of rejected) platform.stderr(`dns: rejected ${r.kind} ${r.name}: ${r.reason}\n`);
  platform.stderr(`dns: zone ${index.zone} serial ${index.serial}: ${index.counts.nodes} nodes, ${index.counts.services} services, ${index.counts.names} names\n`);
  return index;
}

/** Starts serving the zone file named in args; resolves once listening. */
export async function runStandaloneDns(platform: Platform, args: string[]): Promise<DnsServer> {
  const a = parseStandaloneArgs(args);
  let index = await loadIndex(platform, a.zoneJson);
  const server = await startDnsServer(platform, {
    listen: a.listen, getIndex: () => index, upstreams: a.upstreams, forward: a.forward,
    log: (level, msg) => platform.stderr(`${level}: ${msg}\n`),
    ...(a.maxAnswers ? { maxAnswers: a.maxAnswers } : {}),
    ...(a.rateLimit ? {} : { rateLimit: null }),
  });
  platform.onSignal('SIGHUP', () => {
    loadIndex(platform, a.zoneJson).then((i) => { index = i; }, (e: Error) => platform.stderr(`dns: reload failed, keeping the old zone: ${e.message}\n`));
  });
  const stop = () => { server.close(); platform.stderr(`dns: stopped; stats ${JSON.stringify(server.stats)}\n`); platform.exit(0); };
  platform.onSignal('SIGTERM', stop);
  platform.onSignal('SIGINT', stop);
  platform.stdout(`listening ${server.listen.join(' ')}\n`);
  return server;
}
