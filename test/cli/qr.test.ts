// `kith invite --qr`: the drawn code decodes back to the invite (with zbarimg
// when installed), and the terminal drawing is the same matrix.
/// <reference types="node" />
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { needs } from '../support/needs.ts';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qrMatrix, terminalQr } from '../../src/cli/qr.ts';
import { decodeInvite } from '../../src/core/invite.ts';

const CODE = 'kith1-056rc-mdt8v-nfake-ra0fe-qvc29-40mjx-35ncy-z0t4s-1q5a4-d810k-0000g-1s9p2-bh0';

test('the terminal drawing has two matrix rows per line and a quiet zone', () => {
  const m = qrMatrix(CODE);
  const lines = terminalQr(CODE).split('\n');
  assert.is(lines.length, Math.ceil((m.length + 4) / 2));
  assert.ok(lines.every((l) => [...l].length === m.length + 4));
  assert.is(lines[0], '█'.repeat(m.length + 4)); // light quiet zone drawn as full blocks
});

needs(spawnSync('zbarimg', ['--version']).status === 0, 'zbarimg', 'apt-get install zbar-tools')('the QR decodes to the invite code (zbarimg)', () => {
  const m = qrMatrix(CODE);
  const scale = 8;
  const quiet = 4;
  const size = (m.length + 2 * quiet) * scale;
  const rows: string[] = [];
  for (let y = 0; y < size; y++) {
    const r = Math.floor(y / scale) - quiet;
    let row = '';
    for (let x = 0; x < size; x++) {
      const c = Math.floor(x / scale) - quiet;
      row += r >= 0 && c >= 0 && r < m.length && c < m.length && m[r]![c] ? '1 ' : '0 ';
    }
    rows.push(row);
  }
  const dir = mkdtempSync(join(tmpdir(), 'kith-qr-'));
  try {
    const file = join(dir, 'code.pbm');
    writeFileSync(file, `P1\n${size} ${size}\n${rows.join('\n')}\n`);
    const r = spawnSync('zbarimg', ['--raw', '-q', file], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    const decoded = r.stdout.trim();
    assert.is(decoded.toLowerCase(), CODE);
    assert.ok(decodeInvite(decoded).secret.length === 16, 'the scanned text is a valid invite');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
