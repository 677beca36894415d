// Parses `wg show <if> dump`: the interface line, then one line per peer,
// tab-separated, exactly as wireguard-tools prints them.
export interface WgPeerState {
  publicKey: string;
  endpoint: string | null;
  allowedIPs: string[];
  /** Unix seconds of the latest handshake, 0 when none. */
  latestHandshakeSec: number;
  rxBytes: number;
  txBytes: number;
  keepaliveSec: number;
}

export interface WgState {
  privateKey: string;
  publicKey: string;
  listenPort: number;
  peers: WgPeerState[];
}

export class WgDumpError extends Error {
  override name = 'WgDumpError';
}

export function parseWgDump(text: string): WgState {
  const lines = text.split('\n').filter((l) => l.length > 0);
  const head = lines[0]?.split('\t');
  if (!head || head.length < 4) throw new WgDumpError(`wg dump: missing interface line in "${text.slice(0, 80)}"`);
  const peers: WgPeerState[] = [];
  for (const line of lines.slice(1)) {
    const f = line.split('\t');
    if (f.length < 8) throw new WgDumpError(`wg dump: peer line has ${f.length} fields: "${line.slice(0, 80)}"`);
    peers.push({
      publicKey: f[0]!,
      endpoint: f[2] === '(none)' ? null : f[2]!,
      allowedIPs: f[3] === '(none)' ? [] : f[3]!.split(','),
      latestHandshakeSec: Number(f[4]) || 0,
      rxBytes: Number(f[5]) || 0,
      txBytes: Number(f[6]) || 0,
      keepaliveSec: f[7] === 'off' ? 0 : Number(f[7]) || 0,
    });
  }
  return { privateKey: head[0]!, publicKey: head[1]!, listenPort: Number(head[2]) || 0, peers };
}
