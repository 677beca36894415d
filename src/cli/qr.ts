// Draws a QR code in a terminal with half-block characters (two rows per line).
import qrcode from 'qrcode-generator';

export function terminalQr(text: string): string {
  const qr = qrcode(0, 'M');
  // Upper case makes the code fit QR's compact alphanumeric mode.
  qr.addData(text.toUpperCase(), 'Alphanumeric');
  qr.make();
  const n = qr.getModuleCount();
  const quiet = 2;
  const dark = (r: number, c: number) => r >= 0 && c >= 0 && r < n && c < n && qr.isDark(r, c);
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
