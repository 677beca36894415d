// Draws a QR code in a terminal with half-block characters (two rows per line).
import qrcode from 'qrcode-generator';

/**
 * The QR matrix of a text (true = dark module). Upper case fits QR's compact
 * alphanumeric mode (invite codes); 'bytes' keeps the text as it is (a WireGuard config).
 */
export function qrMatrix(text: string, mode: 'alphanumeric' | 'bytes' = 'alphanumeric'): boolean[][] {
  const qr = qrcode(0, mode === 'bytes' ? 'L' : 'M');
  if (mode === 'bytes') qr.addData(text, 'Byte');
  else qr.addData(text.toUpperCase(), 'Alphanumeric');
  qr.make();
  const n = qr.getModuleCount();
  return Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => qr.isDark(r, c)));
}

export function terminalQr(text: string, mode: 'alphanumeric' | 'bytes' = 'alphanumeric'): string {
  const m = qrMatrix(text, mode);
  const n = m.length;
  const quiet = 2;
  const dark = (r: number, c: number) => r >= 0 && c >= 0 && r < n && c < n && m[r]![c]!;
  const lines: string[] = [];
  for (let r = -quiet; r < n + quiet; r += 2) {
    let line = '';
    for (let c = -quiet; c < n + quiet; c++) {
      const top = dark(r, c);
      const bottom = dark(r + 1, c);
      // Light modules are drawn, so the code reads on dark terminals too.
      line += top ? (bottom ? ' ' : '▄') : bottom ? '▀' : '█';
    }
    lines.push(line);
  }
  return lines.join('\n');
}
