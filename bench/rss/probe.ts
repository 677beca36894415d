// Where kithd's memory goes under txiki.js, step by step, for the state that
// bench/rss/fixture.ts wrote: the runtime and code, the native signature
// checks, the accepted records, the netmap and the DNS index (built twice, as
// a netmap change does). Prints "probe <step> <VmRSS KiB>" lines.
// Usage (bench/rss.sh bundles it): tjs run probe.js <state-dir>
import { txikiPlatform } from '../../src/platform/txiki.ts';
import { NodeCore } from '../../src/core/node.ts';
import { decodeNetwork } from '../../src/core/network.ts';
import { decodeCert } from '../../src/core/cert.ts';
import { fromBase64, utf8Decode } from '../../src/core/bytes.ts';
import { signKeysFromSeed } from '../../src/core/crypto.ts';
import { prefetchSignatures } from '../../src/daemon/sigqueue.ts';
import { zoneInput } from '../../src/daemon/dns.ts';
import { buildIndex, type DnsIndex } from '../../src/dns/zone.ts';
import type { DurableState } from '../../src/daemon/state.ts';

const p = txikiPlatform();

async function main(): Promise<void> {
  const dir = p.args[0];
  if (!dir) throw new Error('usage: probe.js <state-dir>');
  const rss = async (step: string) => {
    const kib = /VmRSS:\s+(\d+)/.exec(utf8Decode(await p.fs.readFile('/proc/self/status')))?.[1] ?? '?';
    p.stdout(`probe ${step} ${kib}\n`);
  };
  await rss('start');
  const state = JSON.parse(utf8Decode(await p.fs.readFile(`${dir}/state.json`))) as DurableState;
  const records = (JSON.parse(utf8Decode(await p.fs.readFile(`${dir}/run/records.json`))) as string[]).map(fromBase64);
  const m = state.membership!;
  const network = decodeNetwork(fromBase64(m.network));
  const now = p.clock.nowMs();
  const core = new NodeCore({
    network, chain: m.chain.map((c) => decodeCert(fromBase64(c))), signKeys: signKeysFromSeed(fromBase64(state.signSeed)),
    relay: true, configuredEndpoints: [], services: [], subnets: [], lastSeq: 0, nowMs: now,
  });
  await rss('state-read');
  await prefetchSignatures(p.crypto, core.signatureChecks({ records }, now));
  await rss('native-checks');
  let accepted = 0;
  for (const r of records) if (core.acceptRecord(r, now)) accepted++;
  if (accepted !== records.length) throw new Error(`${records.length - accepted} records refused`);
  await rss('records-accepted');
  const nm = core.netmap();
  await rss('netmap');
  let index: DnsIndex | null = buildIndex(zoneInput(nm, network.params, 1)).index;
  await rss(`dns-index(${index.counts.names}-names)`);
  index = null;
  index = buildIndex(zoneInput(nm, network.params, 2)).index;
  await rss('dns-index-rebuilt');
  p.exit(0);
}

main().catch((e: Error) => { p.stderr(`probe: ${e.message}\n`); p.exit(1); });
