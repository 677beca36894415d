// Generates one zone in the formats of the three servers the DNS benchmark
// compares (kithd ZoneInput JSON, dnsmasq options, unbound.conf) and the
// dnsperf query file, so each answers the same names with the same data.
//   node bench/dns/gen.mjs OUTDIR [NODES] [QUERIES]
// The query mix, in equal parts: A and AAAA of existing nodes, NXDOMAIN,
// PTR of node addresses, SRV of published services.
import { writeFileSync, mkdirSync } from 'node:fs';

const [outDir, nodesArg = '250', queriesArg = '5000'] = process.argv.slice(2);
if (!outDir) { console.error('usage: gen.mjs OUTDIR [NODES] [QUERIES]'); process.exit(2); }
const NODES = Math.min(Number(nodesArg), 60000);
const QUERIES = Math.min(Number(queriesArg), 1_000_000);
const ZONE = 'bench.internal';
const ULA = 'fd12:3456:789a';
const SERVICE_EVERY = 5;
mkdirSync(outDir, { recursive: true });

const nodes = [];
for (let i = 1; i <= NODES; i++) {
  const services = i % SERVICE_EVERY === 0 ? [{ name: 'web', port: 8000 + (i % 1000), proto: 'tcp', type: 'http', owner: `node${i}` }] : [];
  nodes.push({ name: `node${i}`, ipv4: `100.64.${i >> 8}.${i & 255}`, ipv6: `${ULA}::${i.toString(16)}`, services });
}
writeFileSync(`${outDir}/zone.json`, JSON.stringify({ zone: ZONE, ula48: `${ULA}::/48`, ipv4Pool: '100.64.0.0/10', nodes, soaSerial: 1, self: 'node1' }));

// ip6.arpa apex of the /48: 12 nibbles reversed.
const ip6Apex = `${ULA.replace(/:/g, '').split('').reverse().join('.')}.ip6.arpa`;
const v4Apexes = [...new Set(nodes.map((n) => `${n.ipv4.split('.')[1]}.100.in-addr.arpa`))];

// dnsmasq: host-record gives A, AAAA and both PTRs; --local makes other names NXDOMAIN.
const dm = ['no-resolv', 'no-hosts', 'bind-interfaces', 'listen-address=127.0.0.1', 'cache-size=10000', 'pid-file=', `local=/${ZONE}/`, `local=/${ip6Apex}/`];
for (const a of v4Apexes) dm.push(`local=/${a}/`);
for (const n of nodes) {
  dm.push(`host-record=${n.name}.${ZONE},${n.ipv4},${n.ipv6}`);
  for (const s of n.services) {
    const host = `${s.name}.${n.name}.${ZONE}`;
    dm.push(`host-record=${host},${n.ipv4},${n.ipv6}`);
    dm.push(`srv-host=_${s.type}._${s.proto}.${host},${host},${s.port},0,0`);
  }
}
writeFileSync(`${outDir}/dnsmasq.conf`, dm.join('\n') + '\n');

// unbound: static local zones with the same data.
const ub = ['server:', '  interface: 127.0.0.1', '  port: @PORT@', '  do-daemonize: no', '  chroot: ""', '  username: ""', '  pidfile: ""',
  '  use-syslog: no', '  logfile: ""', '  verbosity: 0', '  num-threads: 1', '  do-ip6: no', '  access-control: 127.0.0.0/8 allow',
  `  local-zone: "${ZONE}." static`, `  local-zone: "${ip6Apex}." static`, ...v4Apexes.map((a) => `  local-zone: "${a}." static`)];
for (const n of nodes) {
  ub.push(`  local-data: "${n.name}.${ZONE}. 60 IN A ${n.ipv4}"`, `  local-data: "${n.name}.${ZONE}. 60 IN AAAA ${n.ipv6}"`);
  ub.push(`  local-data-ptr: "${n.ipv4} 60 ${n.name}.${ZONE}."`, `  local-data-ptr: "${n.ipv6} 60 ${n.name}.${ZONE}."`);
  for (const s of n.services) {
    const host = `${s.name}.${n.name}.${ZONE}`;
    ub.push(`  local-data: "${host}. 60 IN A ${n.ipv4}"`, `  local-data: "${host}. 60 IN AAAA ${n.ipv6}"`);
    ub.push(`  local-data: "_${s.type}._${s.proto}.${host}. 60 IN SRV 0 0 ${s.port} ${host}."`);
  }
}
ub.push('remote-control:', '  control-enable: no');
writeFileSync(`${outDir}/unbound.conf.in`, ub.join('\n') + '\n');

// Queries: deterministic (LCG), equal parts of each kind. PTRs use nodes
// without services, whose addresses have exactly one name everywhere.
let seed = 12345;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
const plain = nodes.filter((n) => n.services.length === 0);
const withSvc = nodes.filter((n) => n.services.length > 0);
const lines = [];
for (let i = 0; i < QUERIES; i++) {
  const n = nodes[rnd(nodes.length)];
  switch (i % 5) {
    case 0: lines.push(`${n.name}.${ZONE} A`); break;
    case 1: lines.push(`${n.name}.${ZONE} AAAA`); break;
    case 2: lines.push(`nx${rnd(1_000_000)}.${ZONE} A`); break;
    case 3: { const p = plain[rnd(plain.length)]; lines.push(`${p.ipv4.split('.').reverse().join('.')}.in-addr.arpa PTR`); break; }
    default: { const s = withSvc[rnd(withSvc.length)]; lines.push(`_http._tcp.web.${s.name}.${ZONE} SRV`); }
  }
}
writeFileSync(`${outDir}/queries.txt`, lines.join('\n') + '\n');
console.log(`gen: ${NODES} nodes, ${withSvc.length} services, ${QUERIES} queries in ${outDir}`);
