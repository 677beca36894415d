// Which config file `kith config check` reads when --file is not given:
// OpenWrt's /etc/config/kith, else the Debian package's /etc/kith/kith.conf.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONFIG_FILES, defaultConfigFile } from '../../src/api/config.ts';
import type { FileStat } from '../../src/platform/types.ts';

/** An fs whose stat knows only `present`, and fails (like a permission error) for `broken`. */
function fsWith(present: string[], broken: string[] = []) {
  const asked: string[] = [];
  return {
    asked,
    async stat(path: string): Promise<FileStat | null> {
      asked.push(path);
      if (broken.includes(path)) throw new Error(`EACCES: ${path}`);
      return present.includes(path) ? { size: 1, isDirectory: false, mode: 0o644 } : null;
    },
  };
}

test('OpenWrt\'s /etc/config/kith wins when it exists', async () => {
  const fs = fsWith(['/etc/config/kith', '/etc/kith/kith.conf']);
  assert.is(await defaultConfigFile(fs), '/etc/config/kith');
  assert.equal(fs.asked, ['/etc/config/kith']);
});

test('without it, the Debian package\'s /etc/kith/kith.conf is read', async () => {
  assert.is(await defaultConfigFile(fsWith(['/etc/kith/kith.conf'])), '/etc/kith/kith.conf');
  assert.is(await defaultConfigFile(fsWith(['/etc/kith/kith.conf'], ['/etc/config/kith'])), '/etc/kith/kith.conf');
});

test('with neither, the OpenWrt path is named (its read error says what is missing)', async () => {
  assert.is(await defaultConfigFile(fsWith([])), '/etc/config/kith');
  assert.equal([...CONFIG_FILES], ['/etc/config/kith', '/etc/kith/kith.conf']);
});

test.run();
