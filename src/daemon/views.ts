// What `status` and `peers` report: plain JSON views of the daemon's state.
import { formatPrefix4 } from '../core/ip.ts';
import { ula48Text } from '../core/network.ts';
import type { Kithd } from './lifecycle.ts';
import { whyNotDirect } from '../core/why.ts';
import type { PeerView } from '../api/protocol.ts';

export type { PeerView } from '../api/protocol.ts';


export function statusOf(d: Kithd) {
  const p = d.p;
  const cfg = d.settings;
  const base = {
    runtime: p.runtime, rssBytes: p.rssBytes(), uptimeSec: Math.round((p.clock.nowMs() - d.startedMs) / 1000),
    config: { file: d.config.file, listenPort: cfg.listenPort, ifname: cfg.ifname, stateDir: d.stateDir, logLevel: cfg.logLevel },
    dns: { enabled: cfg.dns.enabled, listen: d.dns?.listen ?? [], stats: d.dns?.stats ?? null, leftOut: d.dns?.leftOut ?? [] },
    services: d.services(),
  };
  const mesh = d.mesh;
  if (!mesh) return { ...base, state: 'unconfigured', node: null, network: null, peers: 0, dropped: null };
  const nm = mesh.netmap();
  const net = mesh.network.params;
  const leaf = mesh.core.certChain[0]!;
  return {
    ...base,
    state: mesh.lastApplyError ? 'degraded' : 'running',
    error: mesh.lastApplyError,
    node: {
      name: nm.self.name, id: nm.self.id, ipv4: nm.self.ipv4, ipv6: nm.self.ipv6, wgPublicKey: mesh.spec.publicKey,
      ifname: mesh.spec.ifname, listenPort: mesh.spec.listenPort, backend: mesh.applier.backend, admin: leaf.admin,
      endpoints: nm.self.endpoints.map((e) => `${e.kind} ${e.host}:${e.port}`), recordSeq: mesh.core.seq,
      recordBytes: mesh.core.selfRecord.bytes.length, trimmed: { ...mesh.core.trimmed },
    },
    network: { name: net.name, zone: net.zone, ipv4Pool: formatPrefix4(net.ipv4Pool), ula48: ula48Text(net.ula48), policy: net.policy },
    peers: nm.nodes.length - 1,
    revocations: mesh.core.revocations.size,
    revoked: mesh.core.revocations.covers(mesh.core.certChain),
    reachable: nm.nodes.filter((n) => n.path === 'direct' || n.path === 'relayed').length,
    /** Relays our relayed paths went through that stopped answering (core/relay-health.ts): their links are out of our record. */
    deadRelays: mesh.core.relayHealth.deadHops.map((id) => mesh.core.nodeById(id)?.chain[0]?.name ?? id),
    dropped: { ...mesh.core.dropped, oversize: mesh.core.dropped.oversize + mesh.ctrlOversize, rateLimited: mesh.core.dropped.rateLimited + mesh.ctrlQueue.dropped },
    routes: mesh.routes.view(nm),
    exit: mesh.exits.view(nm),
    portmap: d.portmap?.view() ?? { state: 'off', reason: cfg.portmap ? 'not started' : "option portmap '0'" },
  };
}

export function peerList(d: Kithd): PeerView[] {
  const mesh = d.mesh;
  if (!mesh) return [];
  const nowMs = d.p.clock.nowMs();
  const nowSec = nowMs / 1000;
  const nodes = mesh.netmap().nodes;
  return nodes.filter((n) => n.path !== 'self').map((n) => {
    const obs = mesh.core.wgObservation(n.wgPub);
    const hop = n.path === 'relayed' ? nodes.find((x) => x.name === n.via) : n;
    const hopObs = hop ? mesh.core.wgObservation(hop.wgPub) : undefined;
    const rtt = hop ? mesh.core.rttTo(hop.id) : undefined;
    const them = mesh.core.nodeById(n.id);
    return {
      name: n.name, ipv4: n.ipv4, ipv6: n.ipv6, path: n.path as PeerView['path'], via: n.via,
      endpoint: n.path === 'direct' ? obs?.endpoint ?? null : null,
      rttMs: rtt ?? null,
      lastHandshakeSec: hopObs && hopObs.lastHandshakeMs > 0 ? Math.max(0, Math.round(nowSec - hopObs.lastHandshakeMs / 1000)) : null,
      rxBytes: obs?.rxBytes ?? 0, txBytes: obs?.txBytes ?? 0,
      whyNotDirect: them ? whyNotDirect({
        me: mesh.core.selfRecord, them, path: n.path as PeerView['path'], punch: mesh.core.punchStates().get(n.id), nowMs,
        handshakeAgoMs: obs && obs.lastHandshakeMs > 0 ? nowMs - obs.lastHandshakeMs : null,
      }) : null,
      subnets: n.subnets.map((prefix) => ({ prefix, mappedTo: n.mapped.find((m) => m.prefix === prefix)?.mappedTo ?? null })),
    };
  });
}
