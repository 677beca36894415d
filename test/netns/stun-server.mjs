// A tiny STUN server (RFC 5389 Binding, RFC 5780 CHANGE-REQUEST) on the
// simulated internet, for test/netns/portmap.sh: miniupnpd refuses to map
// ports on a WAN address it considers reserved (TEST-NET is) unless STUN shows
// nothing filters in front of it. Answers each Binding request with the
// sender's address (MAPPED-ADDRESS), from the other address and/or port when
// asked. Usage: stun-server.mjs <ip1> <ip2> <port1> <port2>.
import dgram from 'node:dgram';
const [ip1, ip2, p1, p2] = process.argv.slice(2);
const socks = new Map();
for (const ip of [ip1, ip2]) for (const port of [Number(p1), Number(p2)]) {
  const s = dgram.createSocket('udp4');
  s.bind(port, ip);
  socks.set(`${ip}:${port}`, s);
  s.on('message', (m, from) => {
    if (m.length < 20 || m.length > 512 || m.readUInt16BE(0) !== 0x0001) return;
    let change = 0;
    for (let at = 20; at + 4 <= m.length;) {
      const type = m.readUInt16BE(at), len = m.readUInt16BE(at + 2);
      if (type === 0x0003 && len === 4 && at + 8 <= m.length) change = m.readUInt32BE(at + 4);
      at += 4 + Math.ceil(len / 4) * 4;
    }
    const res = Buffer.alloc(32);
    res.writeUInt16BE(0x0101, 0);
    res.writeUInt16BE(12, 2);
    m.copy(res, 4, 4, 20); // magic cookie and transaction id
    res.writeUInt16BE(0x0001, 20); // MAPPED-ADDRESS
    res.writeUInt16BE(8, 22);
    res.writeUInt16BE(0x0001, 24); // IPv4
    res.writeUInt16BE(from.port, 26);
    from.address.split('.').forEach((o, i) => res.writeUInt8(Number(o), 28 + i));
    const out = socks.get(`${change & 4 ? (ip === ip1 ? ip2 : ip1) : ip}:${change & 2 ? (port === Number(p1) ? p2 : p1) : port}`);
    out.send(res, from.port, from.address);
  });
}
