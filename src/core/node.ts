// NodeCore: one member's control-plane state machine, sans I/O. Events come
// in with the current time (control datagrams, WireGuard observations, ticks);
// actions come out (datagrams to send, "netmap changed", "persist"). Rules:
//  - remote input never throws out of here: it is dropped and counted;
//  - a record is accepted only if its chain verifies and its seq is newer;
//  - the own record is re-signed when its content changes, and at least daily;
//  - records live in a RecordStore (store.ts: quotas, expiry), certificates
//    are renewed from their issuer (renew.ts).
import { bytesEqual, toBase64, toHex } from './bytes.ts';
import type { SignKeys, SignatureCheck } from './crypto.ts';
import type { Cert } from './cert.ts';
import { fitRecord, sameBody, nodeIdOf, type Endpoint, type NodeRecord, type RecordBody, type Service, type Trimmed } from './record.ts';
import { RecordVerifier, type DropCounters } from './verify.ts';
import { RateLimiter } from './ratelimit.ts';
import { decodeControl, safeDecodeControl, encodeControl, MAX_CONTROL_BYTES, type ControlMessage } from './gossip.ts';
import { Revocations } from './revocations.ts';
import type { Revocation } from './revoke.ts';
import { answerStore, summaryOf, gossipTargets } from './antientropy.ts';
import { rumourSends, Wants, RUMOUR_FANOUT, OWN_FANOUT } from './rumour.ts';
import { computeNetmap, netNode, type Netmap } from './netmap.ts';
import { formatIPv4 } from './ip.ts';
import type { SignedNetwork } from './network.ts';
import { publishedRtt } from './paths.ts';
import { mayWait } from './pacing.ts';
import { ObservedVotes } from './observed.ts';
import { ObserveReports } from './observe-report.ts';
import { RelayHealth } from './relay-health.ts';
import { Punches, type PunchAction, type PunchState, type PunchView } from './punch.ts';
import { RecordStore, RESIGN_INTERVAL_MS } from './store.ts';
import { Renewals } from './renew.ts';
import { joinRecords, JOIN_RECORDS_BUDGET } from './admit.ts';
import { LinkRtts } from './rtt.ts';
import { OwnRecordSigner, type NotInstalled } from './selfsign.ts';
import type { Action, WgObservation, NodeCoreOptions } from './node-types.ts';
import { Exits, withExit, type ExitOfferView } from './exits.ts';

export type { DropCounters } from './verify.ts';
export { MAX_RECORDS } from './store.ts';
import { GOSSIP_INTERVAL_MS, CONTROL_RATE_LIMIT, ANSWER_RATE_LIMIT, PING_INTERVAL_MS, OBSERVED_STALE_MS, LINK_ALIVE_MS } from './node-types.ts';
export { GOSSIP_INTERVAL_MS, CONTROL_RATE_LIMIT, PING_INTERVAL_MS, OBSERVE_REPORT_INTERVAL_MS, OBSERVED_STALE_MS, LINK_ALIVE_MS } from './node-types.ts';

export type { Action, WgObservation, NodeCoreOptions } from './node-types.ts';

export class NodeCore {
  readonly network: SignedNetwork;
  readonly selfId: string;
  private chain: Cert[];
  private readonly signKeys: SignKeys;
  private readonly signer: OwnRecordSigner;
  private readonly store: RecordStore;
  private readonly renewals: Renewals;
  /** The published body (after fitRecord). */
  private body: RecordBody;
  /** The record's fields as configured (the record carries what fits); resign() compares the result with the body. */
  private wanted: Pick<RecordBody, 'services' | 'subnets' | 'clients' | 'relay' | 'exitCapacityMbit'>;
  /** What the last record had to leave out to fit MAX_RECORD_BYTES. */
  trimmed: Trimmed = { links: 0, endpoints: 0, services: 0, subnets: 0 };
  private lanEndpoints: Endpoint[] = [];
  /** Our public endpoint as members report it (a lone liar cannot move it). */
  private observed = new ObservedVotes(OBSERVED_STALE_MS);
  private configured: Endpoint[];
  private rtts = new LinkRtts();
  private wg = new Map<string, WgObservation>();
  private lastGossipMs = 0; private gossipRound = 0;
  private lastPingMs = 0; private pingRound = 0;
  private observeReports = new ObserveReports();
  private cachedNetmap: Netmap | null = null;
  private connected: string[] = [];
  private live = new Set<string>(); // members with a live session, published or trimmed: they stay peers (netmap.ts)
  private punches = new Punches();
  private readonly punchView: PunchView;
  private resignNeeded = false; // a copy of our own record newer than ours was seen: re-sign at the next tick
  private readonly verifier: RecordVerifier;
  private readonly controlRate = new RateLimiter(CONTROL_RATE_LIMIT);
  private readonly answerRate = new RateLimiter(ANSWER_RATE_LIMIT);
  private readonly wants = new Wants();
  /** Revocations held (revoke.ts, revocations.ts): the daemon restores them from disk and plans local ones with them. */
  readonly revocations: Revocations;
  get dropped(): DropCounters { return this.verifier.dropped; }
  readonly exits: Exits; // this node's exit: its choice and the donors' health (exits.ts)
  readonly relayHealth = new RelayHealth();

  constructor(o: NodeCoreOptions) {
    this.network = o.network;
    this.verifier = new RecordVerifier(o.network.params, (chain) => this.revocations.covers(chain));
    this.revocations = new Revocations(o.network.params, this.verifier, (id) => id === this.selfId || !!this.store.get(id));
    this.chain = o.chain;
    this.signKeys = o.signKeys;
    this.signer = new OwnRecordSigner(o.signKeys, o.asyncSign ?? false);
    this.selfId = nodeIdOf(o.chain[0]!.signPub);
    this.store = new RecordStore(this.selfId, this.verifier.dropped);
    this.exits = new Exits(this.selfId);
    this.renewals = new Renewals(o.network.params, o.signKeys, o.certLifetimeMs);
    this.configured = o.configuredEndpoints;
    this.wanted = { services: o.services, subnets: o.subnets, clients: o.clients ?? [], relay: o.relay, exitCapacityMbit: 0 };
    this.body = { seq: o.lastSeq, endpoints: [], links: [], ...this.wanted };
    const core = this;
    this.punchView = {
      selfId: this.selfId,
      get selfRecord() { return core.selfRecord; },
      record: (id) => this.store.get(id),
      records: () => this.store.values(),
      mutualLink: (a, b) => a.links.some((l) => l.peer === b.id) && b.links.some((l) => l.peer === a.id),
      // Whether WireGuard reports a handshake with this member since sinceMs (it counts in seconds).
      handshakeSince: (r, sinceMs) => { const obs = this.wg.get(toBase64(r.chain[0]!.wgPub)); return !!obs && obs.lastHandshakeMs > 0 && obs.lastHandshakeMs >= sinceMs - 1000; },
      relayed: (id) => this.pathTo(id) === 'relayed',
    };
    this.resign(o.nowMs, true);
  }

  /** Our record; with async signing, a first record read before its signature came is signed here with tweetnacl. */
  get selfRecord(): NodeRecord { return this.store.get(this.selfId) ?? this.publishFirst(); }
  /** The own record's unsigned bytes waiting for a signature (async signing), or null. */
  get signRequest(): Uint8Array | null { return this.signer.pendingBytes; }
  get seq(): number { return this.body.seq; }
  get certChain(): Cert[] { return this.chain; }

  allRecords(): NodeRecord[] { return [...this.store.values()]; }

  /** What a join reply carries: our own record and the best-reachable members' within the budget. */
  joinRecords(budgetBytes = JOIN_RECORDS_BUDGET): Uint8Array[] { this.selfRecord; return joinRecords(this.store.values(), this.selfId, budgetBytes); }

  /** Members this node may still admit before its quota is full (Infinity for the founder's own admissions). */
  quotaLeft(): number { return this.chain.length === 1 ? Infinity : this.store.quotaLeft(toHex(this.signKeys.publicKey)); }

  netmap(): Netmap {
    if (!this.cachedNetmap) {
      this.selfRecord; // async signing: the first record exists before anything is computed from it
      const nm = computeNetmap(this.selfId, this.store.all as Map<string, NodeRecord>, this.network.params, this.punches.dialTargets(), this.connected, this.live);
      this.cachedNetmap = withExit(nm, this.exits.chosen);
    }
    return this.cachedNetmap;
  }

  /** The host's own addresses (`ip -o addr show`): no member's prefix that overlaps their networks is routed. */
  setConnected(a: string[]): Action[] { if (a.join() === this.connected.join()) return []; this.connected = a; this.cachedNetmap = null; return [{ type: 'netmap' }]; }
  nodeById(id: string): NodeRecord | undefined { return this.store.get(id); }
  nodeByWgPub(pub: string): NodeRecord | undefined { const id = this.store.idByWgPub(pub); return id ? this.store.get(id) : undefined; }

  wgObservation(pub: string): WgObservation | undefined { return this.wg.get(pub); }
  rttTo(id: string): number | undefined { return this.rtts.get(id); }

  // ---- own record ----

  private resign(nowMs: number, force = false): Action[] {
    const endpoints = [...this.configured, ...(this.observed.current ? [this.observed.current] : []), ...this.lanEndpoints];
    const links: { peer: string; rttMs: number }[] = [];
    for (const obs of this.wg.values()) {
      const id = this.store.idByWgPub(obs.publicKey);
      if (!id || id === this.selfId || obs.lastHandshakeMs === 0 || nowMs - obs.lastHandshakeMs > LINK_ALIVE_MS || this.relayHealth.dead(id)) continue;
      // Until a ping has measured it, a new link counts as fast: a fresh direct path beats a relay.
      const rtt = this.rtts.get(id) ?? 0;
      links.push({ peer: id, rttMs: publishedRtt(this.body.links.find((l) => l.peer === id)?.rttMs, rtt) });
    }
    // A link left out is not pinged (its traffic goes through a relay), so its RTT is forgotten: it competes with its last reading, not as new and fast.
    const fit = fitRecord({ ...this.body, endpoints, links, ...this.wanted }, this.chain, new Set(this.body.links.map((l) => l.peer)), (l) => this.rtts.lastReading(l.peer) ?? l.rttMs);
    const next = fit.body;
    this.trimmed = fit.trimmed;
    const liveChanged = links.length !== this.live.size || links.some((l) => !this.live.has(l.peer));
    if (liveChanged) { this.live = new Set(links.map((l) => l.peer)); this.cachedNetmap = null; }
    if (!force && (sameBody(next, this.body) || mayWait(next, this.body, nowMs, this.live, this.store.size))) return liveChanged ? [{ type: 'netmap' }] : [];
    // Integral: the wire carries whole ms, and a fraction kept here would make every summary and digest differ from ours.
    next.seq = Math.floor(Math.max(this.body.seq + 1, nowMs));
    this.body = next;
    const signed = this.signer.sign(next, this.chain);
    return signed instanceof Uint8Array ? [{ type: 'sign', unsigned: signed }] : this.publish(signed, nowMs);
  }

  /** A new own record: stored, persisted, sent to the neighbours. */
  private publish(rec: NodeRecord, nowMs: number): Action[] {
    this.store.put(rec);
    this.cachedNetmap = null;
    return [{ type: 'persist' }, { type: 'netmap' }, ...rumourSends(encodeControl({ type: 'records', records: [rec.bytes] }), this.neighbours(nowMs), undefined, OWN_FANOUT)];
  }

  /** Records from a member (fromIPv4) or a newcomer: those new here go on as a rumour (rumour.ts), with the persist and netmap they bring. */
  takeRecords(records: Uint8Array[], nowMs: number, fromId?: string, fromIPv4?: string): Action[] {
    const fresh = records.map((b) => this.accept(b, nowMs, fromId)).filter((r): r is NodeRecord => r !== null);
    if (!fresh.length) return [];
    const msg = encodeControl({ type: 'records', records: fresh.map((r) => r.bytes) });
    return [{ type: 'persist' }, { type: 'netmap' }, ...rumourSends(msg, this.neighbours(nowMs), fromIPv4, RUMOUR_FANOUT, fresh)];
  }

  /** A 'sign' action's signature: published if its bytes are still pending and it verifies (selfsign.ts); else nothing changes. */
  installSignature(unsigned: Uint8Array, signature: Uint8Array, nowMs: number): { result: 'installed' | NotInstalled; actions: Action[] } {
    const r = this.signer.install(unsigned, signature);
    return typeof r === 'string' ? { result: r, actions: [] } : { result: 'installed', actions: this.publish(r, nowMs) };
  }

  /** The caller could not sign: the pending record (if unsigned is still it) signed here with tweetnacl. */
  signPending(unsigned: Uint8Array, nowMs: number): Action[] {
    const rec = this.signer.signPending(unsigned);
    return rec ? this.publish(rec, nowMs) : [];
  }

  private publishFirst(): NodeRecord { const rec = this.signer.signPending()!; this.store.put(rec); return rec; }

  setLocalEndpoints(lan: Endpoint[], nowMs: number): Action[] { this.lanEndpoints = lan; return this.resign(nowMs); }

  setServices(services: Service[], nowMs: number): Action[] { this.wanted = { ...this.wanted, services }; return this.resign(nowMs, true); }

  /** The addresses of this node's plain WireGuard clients (core/clients.ts), advertised in its record. */
  setClients(clients: string[], nowMs: number): Action[] { this.wanted = { ...this.wanted, clients }; return this.resign(nowMs); }

  setConfigured(endpoints: Endpoint[], subnets: string[], relay: boolean, nowMs: number): Action[] {
    this.configured = endpoints;
    this.wanted = { ...this.wanted, subnets, relay };
    return this.resign(nowMs);
  }

  /** Offer this node's uplink as an exit (capacity in Mbit/s; 0 withdraws the offer). */
  setExitOffer(capacityMbit: number, nowMs: number): Action[] { this.wanted = { ...this.wanted, exitCapacityMbit: capacityMbit }; return this.resign(nowMs); }

  exitOffers(nowMs: number): ExitOfferView[] { return this.exits.offers(this.store.values(), this.netmap(), nowMs); }

  /** Health pings, more often than tick (failover in seconds): exit donors (exits.ts) and our relays (relay-health.ts). */
  healthTick(nowMs: number): Action[] {
    const ipv4 = (id: string) => { const c = this.store.get(id)?.chain[0]; return c && formatIPv4(c.ipv4); };
    const r = this.exits.tick(this.exitOffers(nowMs), ipv4, nowMs);
    const h = this.relayHealth.tick(this.netmap().nodes.flatMap((n) => (n.viaId ? [n.viaId] : [])), nowMs);
    const out: Action[] = [...r.pings, ...h.pings.map((p) => ({ to: ipv4(p.id), nonce: p.nonce }))]
      .flatMap((p) => (p.to ? [{ type: 'send' as const, to: p.to, bytes: encodeControl({ type: 'ping', nonce: p.nonce, sentMs: nowMs }) }] : []));
    if (r.changed) { this.cachedNetmap = null; out.push({ type: 'netmap' }); }
    return h.changed ? [...out, ...this.resign(nowMs)] : out;
  }

  // ---- records ----

  /**
   * Verifies and stores a record from anywhere (gossip, join reply, disk).
   * Returns true when it was new; bad input is counted, never thrown.
   */
  acceptRecord(bytes: Uint8Array, nowMs: number, fromId?: string): boolean { return this.accept(bytes, nowMs, fromId) !== null; }

  private accept(bytes: Uint8Array, nowMs: number, fromId?: string): NodeRecord | null {
    const rec = this.verifier.verify(bytes, (id) => this.store.get(id), this.selfId, nowMs, fromId);
    if (!rec) return null;
    if (rec.id === this.selfId) {
      if (!bytesEqual(rec.chain[0]!.signPub, this.signKeys.publicKey)) return null;
      // Our own record echoed back: if it is newer, or another one of our seq
      // (a state restored from an old backup, or a router that booted with its
      // clock behind, before NTP), jump past it so our next record wins. An
      // echo of the record we hold is no reason: re-signing on it fed a loop.
      const held = this.store.get(this.selfId);
      if (rec.seq > this.body.seq || (rec.seq === this.body.seq && !(held && bytesEqual(held.bytes, rec.bytes)))) {
        this.body = { ...this.body, seq: rec.seq };
        this.resignNeeded = true;
      }
      // A restarted daemon (record cache) starts from the link RTTs it published
      // before, so it computes the same paths instead of moving traffic about.
      this.rtts.restore(rec.links, nowMs);
      return null;
    }
    if (!this.store.offer(rec)) return null;
    this.cachedNetmap = null;
    return rec;
  }

  /** Unverified, the signature checks handleControl / acceptRecord would make on this input after their cheap checks. */
  signatureChecks(input: { control: Uint8Array; fromIPv4: string } | { records: Uint8Array[] }, nowMs: number): SignatureCheck[] {
    const known = (id: string) => this.store.get(id);
    if ('records' in input) return input.records.flatMap((b) => this.verifier.checksFor(b, known, this.selfId, nowMs));
    const fromId = this.store.idByIPv4(input.fromIPv4);
    if (!fromId || fromId === this.selfId || this.controlRate.exhausted(fromId, nowMs)) return [];
    const m = safeDecodeControl(input.control);
    return m?.type === 'records' ? m.records.flatMap((b) => this.verifier.checksFor(b, known, this.selfId, nowMs, fromId)) : [];
  }

  // ---- WireGuard observations ----

  /** Feeds `wg show dump` state: handshakes make links, endpoints are reported back to peers. */
  observeWg(peers: WgObservation[], nowMs: number): Action[] {
    this.wg = new Map(peers.map((p) => [p.publicKey, p]));
    this.relayHealth.observe(peers, (pub) => this.store.idByWgPub(pub), nowMs);
    const publishes = (id: string, host: string, port: number) => !!this.store.get(id)?.endpoints.some((e) => e.host === host && e.port === port);
    const out: Action[] = this.observeReports.due(peers, (pub) => this.store.idByWgPub(pub), publishes, nowMs).map((r) =>
      ({ type: 'send', to: formatIPv4(this.store.get(r.id)!.chain[0]!.ipv4), bytes: encodeControl({ type: 'observed', host: r.host, port: r.port }) }));
    out.push(...this.resign(nowMs));
    return out;
  }

  /** Overlay IPv4s of members with a live WireGuard session to us. */
  neighbours(nowMs: number): string[] {
    const out: string[] = [];
    for (const obs of this.wg.values()) {
      const id = this.store.idByWgPub(obs.publicKey);
      if (!id || obs.lastHandshakeMs === 0 || nowMs - obs.lastHandshakeMs > LINK_ALIVE_MS) continue;
      out.push(formatIPv4(this.store.get(id)!.chain[0]!.ipv4));
    }
    return out.sort();
  }

  // ---- control messages ----

  /** A control datagram from the overlay. Never throws: what fails is counted (dropped.failed). */
  handleControl(bytes: Uint8Array, fromIPv4: string, nowMs: number): Action[] {
    // Cheap checks first: members only (the overlay address WireGuard authenticated), at a bounded rate.
    const fromId = this.store.idByIPv4(fromIPv4);
    if (!fromId || fromId === this.selfId) { this.dropped.nonMember++; return []; }
    if (this.controlRate.check(fromId, nowMs) !== 'allow') { this.dropped.rateLimited++; return []; }
    try {
      return this.control(bytes, fromIPv4, fromId, nowMs);
    } catch {
      this.dropped.failed++;
      return [];
    }
  }

  private control(bytes: Uint8Array, fromIPv4: string, fromId: string, nowMs: number): Action[] {
    let m: ControlMessage;
    try {
      m = decodeControl(bytes);
    } catch {
      this.dropped[bytes.length > MAX_CONTROL_BYTES ? 'oversize' : 'malformed']++;
      return [];
    }
    const reply = (msg: ControlMessage): Action => ({ type: 'send', to: fromIPv4, bytes: encodeControl(msg) });
    switch (m.type) {
      case 'summary':
      case 'digest':
      case 'buckets':
      case 'bdigest':
      case 'want': {
        // Answers that can be many times their question's size: a few a second per member (ANSWER_RATE_LIMIT).
        if (this.answerRate.check(fromId, nowMs) !== 'allow') { this.dropped.rateLimited++; return []; }
        const rev = m.type === 'summary' ? this.revocations.onControl({ type: 'revsum', count: m.revCount, hash: m.revHash }, fromId, nowMs).replies : [];
        return [...answerStore(this.store, m), ...rev].map(reply);
      }
      case 'records': // what is new goes on (rumour mongering), then the netmap follows
        return this.takeRecords(m.records, nowMs, fromId, fromIPv4);
      case 'have': {
        const ids = this.wants.ask(m.entries, (id) => this.store.get(id)?.seq, nowMs);
        return ids.length ? [reply({ type: 'want', ids })] : [];
      }
      case 'ping':
        return [reply({ type: 'pong', nonce: m.nonce, sentMs: m.sentMs })];
      case 'pong':
        // A new RTT is published by the next tick's resign: one record for a whole ping round, not one per pong.
        if (!this.exits.pong(m.nonce, fromId, nowMs) && !this.relayHealth.pong(m.nonce, fromId)) this.rtts.pong(m.nonce, fromId, (id) => this.isDirect(id), nowMs);
        return [];
      case 'punch':
        return this.fromPunch(this.punches.onPunch(this.punchView, fromId, { kind: 'public', host: m.host, port: m.port }, nowMs));
      case 'observed': {
        // Over IPv6 a member sees an address of our own (no NAT); on our LAN, our LAN or configured address: a local view.
        if (m.host.includes(':')) return [];
        const isLocal = this.lanEndpoints.some((e) => e.host === m.host) || this.configured.some((e) => e.host === m.host);
        const changed = this.observed.report(fromId, isLocal ? null : { kind: 'public', host: m.host, port: m.port }, nowMs);
        return changed ? this.resign(nowMs) : [];
      }
      case 'renew':
        return this.renewRequested(fromId, fromIPv4, nowMs);
      case 'cert':
        return this.renewed(m.chain, fromId, nowMs);
      case 'revoke':
      case 'revsum':
      case 'revids':
      case 'revwant': {
        const r = this.revocations.onControl(m, fromId, nowMs);
        return [...r.replies.map(reply), ...this.revoked(r.accepted, nowMs, fromIPv4)];
      }
    }
  }

  // ---- revocations ----

  /** Takes a revocation issued here (revoke.ts planRevocation; the daemon persisted it first): the same checks as one from outside. */
  applyRevocation(bytes: Uint8Array, nowMs: number): Action[] {
    const r = this.revocations.offer(bytes, nowMs);
    return r ? this.revoked([r], nowMs) : [];
  }

  /** New revocations: drop every record they cover, pass them on (the revoked node hears it too), persist. */
  private revoked(accepted: Revocation[], nowMs: number, except?: string): Action[] {
    if (!accepted.length) return [];
    const to = this.neighbours(nowMs).filter((ip) => ip !== except);
    this.dropped.revoked += this.store.removeWhere((r) => this.revocations.covers(r.chain));
    this.cachedNetmap = null;
    // At most MAX_REVOCATIONS_PER_MESSAGE: one message's worth, or the local one.
    const bytes = encodeControl({ type: 'revoke', revocations: accepted.map((r) => r.bytes) });
    return [{ type: 'revocations' }, { type: 'netmap' }, { type: 'persist' }, ...to.map((ip): Action => ({ type: 'send', to: ip, bytes }))];
  }

  /** Issuer: a member we certified asks for a fresh certificate (renew.ts). */
  private renewRequested(fromId: string, fromIPv4: string, nowMs: number): Action[] {
    const chain = this.renewals.answer(fromId, this.store.get(fromId)!.chain, this.chain, nowMs);
    return chain ? [{ type: 'send', to: fromIPv4, bytes: encodeControl({ type: 'cert', chain: chain.map((c) => c.bytes) }) }] : [];
  }

  /** Member: our issuer answered; adopt the chain if it binds us and lasts longer, then re-sign with it. */
  private renewed(certs: Uint8Array[], fromId: string, nowMs: number): Action[] {
    const r = this.renewals.offered(this.chain, certs, fromId === nodeIdOf(this.chain[0]!.issuerPub), nowMs);
    if (r === 'malformed') this.dropped.malformed++;
    else if (r === 'invalid') this.dropped.invalidChain++;
    if (!Array.isArray(r)) return [];
    this.chain = r;
    return [{ type: 'chain' }, ...this.resign(nowMs, true)];
  }

  // ---- time ----

  tick(nowMs: number): Action[] {
    const out: Action[] = [];
    const nbrs = this.neighbours(nowMs);
    if (nowMs - this.lastGossipMs >= GOSSIP_INTERVAL_MS) {
      this.lastGossipMs = nowMs;
      const rev = this.revocations.summary() as { count: number; hash: Uint8Array };
      const bytes = encodeControl({ type: 'summary', ...summaryOf(this.store), revCount: rev.count, revHash: rev.hash });
      for (const to of gossipTargets(nbrs, this.gossipRound++)) out.push({ type: 'send', to, bytes });
      if (this.revocations.sweep(nowMs)) out.push({ type: 'revocations' });
    }
    if (nowMs - this.lastPingMs >= PING_INTERVAL_MS) {
      this.lastPingMs = nowMs;
      this.rtts.startRound();
      // Only a ping that goes straight to the member measures its link (rtt.ts): relayed ones are not pinged.
      const direct = new Set(this.netmap().nodes.filter((n) => n.path === 'direct').map((n) => n.id));
      const links = nbrs.map((to) => ({ to, id: this.store.idByIPv4(to)! })).filter((l) => direct.has(l.id));
      for (const { to, id } of this.rtts.pick(links, (l) => l.id, this.pingRound++)) {
        out.push({ type: 'send', to, bytes: encodeControl({ type: 'ping', nonce: this.rtts.ping(id, true, nowMs), sentMs: nowMs }) });
      }
    }
    out.push(...this.fromPunch(this.punches.tick(this.punchView, nowMs)));
    this.rtts.sweep(nowMs, (id) => this.isDirect(id));
    if (this.store.sweep(nowMs).length) { this.cachedNetmap = null; out.push({ type: 'netmap' }, { type: 'persist' }); }
    // Our certificate in its last third: ask our issuer, at the address its certificate carries.
    if (this.renewals.shouldAsk(this.chain, nowMs)) out.push({ type: 'send', to: formatIPv4(this.chain[1]!.ipv4), bytes: encodeControl({ type: 'renew' }) });
    out.push(...this.resign(nowMs, this.resignNeeded || nowMs - this.body.seq >= RESIGN_INTERVAL_MS));
    this.resignNeeded = false;
    return out;
  }

  /** Whether our traffic to this member goes straight to it (not through a relay). */
  private isDirect(id: string): boolean { return this.pathTo(id) === 'direct'; }

  private pathTo(id: string): string | undefined { return netNode(this.netmap(), id)?.path; }

  /** Punch actions as node actions; a netmap change among them drops the cached netmap. */
  private fromPunch(actions: PunchAction[]): Action[] {
    if (actions.some((a) => a.type === 'netmap')) this.cachedNetmap = null;
    return actions;
  }

  /** The daemon has installed the TTL rule (see punch.ts). */
  punchOpened(peer: string, nowMs: number): Action[] { return this.fromPunch(this.punches.opened(peer, nowMs)); }

  /** Our first initiation has left: tell the other side to dial back. */
  punchSignal(peer: string, nowMs: number): Action[] { return this.fromPunch(this.punches.signal(this.punchView, peer, nowMs)); }

  /** Punch states for status output, by node id. */
  punchStates(): ReadonlyMap<string, Readonly<PunchState>> { return this.punches.all; }
}
