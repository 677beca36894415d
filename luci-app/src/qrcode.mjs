// The entry of the LuCI resource kith/qrcode.js (built by build/bundle.mjs):
// qrcode-generator, and a function that draws a text as an SVG path. The
// resource wraps this in a LuCI class module; views 'require kith.qrcode'.
import qrcode from 'qrcode-generator';

/**
 * The QR code of text as {size, path}: size in modules (with a 4-module
 * quiet zone) and an SVG path of the dark modules, one unit per module.
 * Upper-case text fits QR's compact alphanumeric mode (invite codes);
 * bytes keeps the text as it is (a WireGuard config).
 */
export function qrPath(text, bytes) {
  const qr = qrcode(0, bytes ? 'L' : 'M');
  if (bytes) qr.addData(String(text), 'Byte');
  else qr.addData(String(text).toUpperCase(), 'Alphanumeric');
  qr.make();
  const n = qr.getModuleCount();
  const quiet = 4;
  let path = '';
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (qr.isDark(r, c)) path += `M${c + quiet} ${r + quiet}h1v1h-1z`;
    }
  }
  return { size: n + 2 * quiet, path };
}
