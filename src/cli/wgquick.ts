// The wg-quick configuration `kith client add` prints for the stock WireGuard
// apps (phones, laptops): the client's key and addresses, this node as its one peer.
export interface ClientConfigView {
  name: string;
  address: string;
  ipv6: string;
  privateKey: string;
  serverPublicKey: string;
  endpoint: string;
  dns: string;
  allowedIPs: string[];
  keepaliveSec: number;
}

export function wgQuickConfig(c: ClientConfigView): string {
  return [
    `# kith client "${c.name}"`,
    '[Interface]',
    `PrivateKey = ${c.privateKey}`,
    `Address = ${c.address}/32, ${c.ipv6}/128`,
    `DNS = ${c.dns}`,
    '',
    '[Peer]',
    `PublicKey = ${c.serverPublicKey}`,
    `AllowedIPs = ${c.allowedIPs.join(', ')}`,
    `Endpoint = ${c.endpoint}`,
    `PersistentKeepalive = ${c.keepaliveSec}`,
    '',
  ].join('\n');
}
