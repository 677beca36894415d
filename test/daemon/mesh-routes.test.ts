// The mesh applies routes and refreshes DNS whatever fails: a Mesh run
// in-process on a small scripted platform (`ip`, `wg`, `nft` answered from a
// script, no timers firing, no sockets).
//   issue reproduction (1): one route `ip route replace` refused aborted the
//   apply, the node went "degraded" and DNS stopped following the netmap.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Platform, ProcessResult } from '../../src/platform/types.ts';
import { Mesh } from '../../src/daemon/mesh.ts';
import type { DurableState } from '../../src/daemon/state.ts';
import type { Logger } from '../../src/daemon/log.ts';
import type { Netmap } from '../../src/core/netmap.ts';
import { foundNetwork } from '../../src/core/found.ts';
import { signKeysFromSeed, x25519PrivateFromRandom, x25519Public } from '../../src/core/crypto.ts';
import { encodeRecord } from '../../src/core/record.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { seededBytes } from '../support/rand.ts';
import { issueMember, type Mesh as TestMesh } from '../support/mesh.ts';
import { StateStore } from '../../src/daemon/store.ts';

const T0 = 1_700_000_000_000;
const IF = 'kith0';

interface Script { failRoute?: string; failWgSet?: boolean }

function platform(script: Script) {
  const calls: string[] = [];
  let pub = '';
  const ok = (stdout = ''): ProcessResult => ({ code: 0, stdout, stderr: '' });
  const run = async (argv: string[]): Promise<ProcessResult> => {
    const line = argv.join(' ');
    calls.push(line);
    // Both interfaces: the outer one and the end-to-end one (IF + "e").
    const dev = /^(?:ip (?:-d )?link show dev|wg show|wg set) (\S+)/.exec(line)?.[1];
    const e2e = dev === `${IF}e`;
    if (dev === IF || e2e) {
      if (line.startsWith('ip link show')) return ok(`7: ${dev}: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu ${e2e ? 1340 : 1420} qdisc noqueue state UNKNOWN\n`);
      if (line.startsWith('ip -d link show')) return ok('wireguard');
      if (line === `wg show ${dev} dump`) return ok(`priv\t${pub}\t${e2e ? 51822 : 51820}\toff\n`);
    }
    if (line.startsWith(`wg set ${IF} `)) return script.failWgSet ? { code: 1, stdout: '', stderr: 'Unable to modify interface: No such device' } : ok();
    if (line === 'ip -o addr show') return ok('2: eth0    inet 192.168.1.1/24 brd 192.168.1.255 scope global eth0\\       valid_lft forever\n');
    if (script.failRoute && line.startsWith(`ip -4 route replace ${script.failRoute} `)) return { code: 2, stdout: '', stderr: 'Error: Invalid prefix for given prefix length.' };
    return ok(); // ip addr replace, ip rule/route show|add|replace, nft, sysctl
  };
  const timer = { cancel() {} };
  const p = {
    runtime: 'node', random: seededBytes(99),
    proc: { run, spawn: () => { throw new Error('no spawn here'); } },
    clock: { nowMs: () => T0 + 5000, monoMs: () => 5000, after: () => timer, every: () => timer },
    fs: {
      readFile: async (path: string) => { throw new Error(`ENOENT ${path}`); }, writeFileAtomic: async () => {}, stat: async () => null,
      mkdirp: async () => {}, remove: async () => {}, readDir: async () => [],
    },
    udp: { bind: async (address: string, port: number) => ({ local: { address, port }, send: async () => {}, onMessage: () => {}, close: () => {} }) },
    tcp: { listen: async () => ({ port: 51820, close: () => {} }), connect: async () => { throw new Error('no tcp'); } },
  } as unknown as Platform;
  return { p, calls, setPub: (k: string) => { pub = k; } };
}

const quiet: Logger = { level: 'error', debug() {}, info() {}, warn() {}, error() {}, limited() {} };

async function founderWithMember(script: Script) {
  const rnd = seededBytes(7);
  const signSeed = rnd(32);
  const wgPriv = x25519PrivateFromRandom(rnd(32));
  const sign = signKeysFromSeed(signSeed);
  const f = foundNetwork({ name: 'demo', nodeName: 'hub', nodeSignPub: sign.publicKey, nodeWgPub: x25519Public(wgPriv), networkSeed: rnd(32), nowMs: T0 });
  const state: DurableState = {
    version: 1, signSeed: toBase64(signSeed), wgPrivate: toBase64(wgPriv),
    membership: { network: toBase64(f.network.bytes), chain: f.chain.map((c) => toBase64(c.bytes)), networkSeed: null, alloc: f.alloc, invites: [], endpoints: ['192.0.2.1:51820'] },
  };
  const founder = { name: 'hub', id: '', identity: { sign, wgPriv, wgPub: x25519Public(wgPriv) }, chain: f.chain, alloc: f.alloc, invites: [] };
  const tm: TestMesh = { network: f.network, networkKeys: f.networkKeys, founder, members: [founder] };
  const member = issueMember(rnd, tm, 'home', T0);
  const { p, calls, setPub } = platform(script);
  setPub(toBase64(x25519Public(wgPriv)));
  const netmaps: Netmap[] = [];
  const mesh = await Mesh.start(p, quiet, new StateStore(state, async () => {}), {
    ifname: IF, listenPort: 51820, runDir: '/run/kith', relay: false, services: [], subnets: [], endpoints: [], onNetmap: (nm) => netmaps.push(nm),
  });
  const rec = encodeRecord({
    seq: T0, endpoints: [{ kind: 'configured', host: '192.0.2.10', port: 51820 }], links: [], relay: true, exitCapacityMbit: 0, services: [],
    subnets: ['198.18.7.0/24', '198.18.8.0/24', '0.0.0.0/0', '192.168.1.0/24'],
  }, member.chain, member.identity.sign).bytes;
  calls.length = 0;
  netmaps.length = 0;
  assert.ok(mesh.core.acceptRecord(rec, T0 + 5000));
  mesh.dispatch([{ type: 'netmap' }]);
  await mesh.settle();
  mesh.stop();
  return { mesh, calls, netmaps };
}

test('one route that fails: the others are applied, the node stays running, DNS gets the netmap, the failure is in the status view', async () => {
  const { mesh, calls, netmaps } = await founderWithMember({ failRoute: '198.18.7.0/24' });
  assert.ok(calls.includes(`ip -4 route replace 198.18.7.0/24 dev ${IF} table 7799 proto 77`), 'tried');
  assert.ok(calls.includes(`ip -4 route replace 198.18.8.0/24 dev ${IF} table 7799 proto 77`), 'the next route is applied after the failure');
  assert.not.ok(calls.some((c) => / route replace (0\.0\.0\.0\/0|192\.168\.1\.0\/24) /.test(c)), 'refused prefixes are never routed');
  assert.is(mesh.lastApplyError, null, 'one route does not make the node degraded');
  assert.ok(netmaps.length >= 1, 'DNS was refreshed');
  assert.equal(netmaps.at(-1)!.routes.map((r) => r.prefix), ['198.18.7.0/24', '198.18.8.0/24']);
  const view = mesh.routes.view(mesh.netmap());
  assert.equal(view.failed.map((f) => f.prefix), ['198.18.7.0/24']);
  assert.equal(view.refused.map((r) => `${r.node} ${r.prefix}`), ['home 0.0.0.0/0', 'home 192.168.1.0/24']);
  assert.match(view.refused[1]!.reason, 'own network 192.168.1.0/24');
});

test('WireGuard peers fail to apply: routes still follow the netmap and DNS is refreshed; the error is reported', async () => {
  const { mesh, calls, netmaps } = await founderWithMember({ failWgSet: true });
  assert.ok(calls.some((c) => c.startsWith(`wg set ${IF}`)), 'the peers were tried');
  assert.ok(calls.includes(`ip -4 route replace 198.18.7.0/24 dev ${IF} table 7799 proto 77`));
  assert.ok(netmaps.length >= 1, 'DNS was refreshed');
  assert.match(mesh.lastApplyError ?? '', /wg set .*No such device/);
});

test.run();
