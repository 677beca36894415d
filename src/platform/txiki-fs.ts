// Files on txiki.js: reads, atomic writes (temp file, fsync, rename, directory fsync), directories.
import type { FileSystem } from './types.ts';
import { tjs, noop, randomBytes } from './txiki-runtime.ts';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : path.slice(0, i);
}

export const txikiFs: FileSystem = {
  readFile: (path) => tjs.readFile(path),
  async writeFileAtomic(path, data, mode) {
    const tmp = `${path}.tmp-${tjs.pid}-${hex(randomBytes(4))}`;
    const fh = await tjs.open(tmp, 'wx', mode);
    try {
      // FileHandle.write is a single write(2): loop until everything is out.
      for (let off = 0; off < data.length;) off += await fh.write(data.subarray(off));
      await fh.chmod(mode); // open's mode is filtered by the umask
      await fh.sync();
      await fh.close();
      await tjs.rename(tmp, path);
    } catch (e) {
      await fh.close().catch(noop);
      await tjs.remove(tmp).catch(noop);
      throw e;
    }
    // fsync the directory so the rename itself is durable.
    try {
      const dir = await tjs.open(dirname(path), 'r');
      try { await dir.sync(); } finally { await dir.close(); }
    } catch { /* some filesystems refuse directory fsync */ }
  },
  async stat(path) {
    try {
      const s = await tjs.stat(path);
      return { size: s.size, isDirectory: s.isDirectory, mode: s.mode & 0o7777 };
    } catch { return null; }
  },
  async mkdirp(path, mode) { await tjs.makeDir(path, { recursive: true, mode }); },
  async remove(path) { await tjs.remove(path); },
  async readDir(path) {
    const dir = await tjs.readDir(path);
    const names: string[] = [];
    try {
      for await (const ent of dir) if (ent.name !== '.' && ent.name !== '..') names.push(ent.name);
    } finally { await dir.close().catch(noop); }
    // Node (libuv scandir) returns names sorted; match it.
    return names.sort();
  },
};
