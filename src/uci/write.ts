// Committing a model to disk through the platform FileSystem: atomic, and a
// no-op when the file already holds the same configuration (as `uci commit`
// leaves a file alone when nothing changed).
import { utf8Encode } from '../core/bytes.ts';
import type { FileSystem } from '../platform/types.ts';
import { uciEqual, type UciPackage } from './model.ts';
import { parseUci } from './parse.ts';
import { serializeUci } from './serialize.ts';

/** UCI files are world-readable, as uci creates them. */
export const UCI_FILE_MODE = 0o644;

/**
 * Writes pkg to path in `uci commit` form with fs.writeFileAtomic (temp file,
 * fsync, rename). If the current file parses to the same sections and options,
 * nothing is written, so its comments and layout survive: returns 'unchanged'.
 * An unreadable or malformed current file is replaced.
 */
export async function writeUciAtomic(fs: FileSystem, path: string, pkg: UciPackage): Promise<'written' | 'unchanged'> {
  const bytes = utf8Encode(serializeUci(pkg));
  if (await fs.stat(path)) {
    let same = false;
    try {
      same = uciEqual(parseUci(await fs.readFile(path), path), pkg);
    } catch {
      same = false;
    }
    if (same) return 'unchanged';
  }
  await fs.writeFileAtomic(path, bytes, UCI_FILE_MODE);
  return 'written';
}
