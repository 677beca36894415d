// Test helper run on a home LAN host: one PCP MAP request encoded by Kith's
// codec to the gateway, and its reply as Kith's decoder reads it, as JSON; so
// portmap.sh checks PCP against a real server too (kithd itself gets its
// mapping by NAT-PMP there, which miniupnpd answers first).
//   tsx pcp-probe.ts <gateway> <client ip> <internal port> <lifetime s>
import dgram from 'node:dgram';
import { decodeReply, encodePcpMapRequest, PORTMAP_SERVER_PORT } from '../../src/core/portmap.ts';

const [gateway, client, port, lifetime] = process.argv.slice(2);
const nonce = Uint8Array.from({ length: 12 }, (_, i) => i + 1);
const req = encodePcpMapRequest({ client: client!, nonce, internalPort: Number(port), externalPort: Number(port), external: '0.0.0.0', lifetimeSec: Number(lifetime) });
const s = dgram.createSocket('udp4');
const timer = setTimeout(() => { console.log(JSON.stringify({ error: 'no reply in 3 s' })); s.close(); }, 3000);
s.on('message', (m) => {
  clearTimeout(timer);
  try {
    const r = decodeReply(new Uint8Array(m));
    console.log(JSON.stringify({ ...r, ...('nonce' in r ? { nonceMatches: r.nonce.every((b, i) => b === nonce[i]) } : {}) }, (_, v) => (v instanceof Uint8Array ? undefined : v)));
  } catch (e) {
    console.log(JSON.stringify({ error: (e as Error).message }));
  }
  s.close();
});
s.bind(0, client, () => s.send(req, PORTMAP_SERVER_PORT, gateway));
