// Reproducible archives the way OpenWrt's scripts/ipkg-build makes them: a
// staged tree with explicit modes, then the system tar (GNU format, owner and
// group 0, sorted names, one fixed mtime) and gzip -n, so the same inputs give
// the same bytes.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Used when neither SOURCE_DATE_EPOCH nor git can say when the sources last changed. */
export const FALLBACK_EPOCH = 1_700_000_000;
const MAX_ARCHIVE_BYTES = 512 * 1024 * 1024;

/** SOURCE_DATE_EPOCH, else the time of the checkout's last commit, else FALLBACK_EPOCH. */
export function sourceDateEpoch(root) {
  const env = process.env.SOURCE_DATE_EPOCH;
  if (env !== undefined && env !== '') {
    if (!/^\d+$/.test(env)) throw new Error(`SOURCE_DATE_EPOCH must be seconds since 1970, not "${env}"`);
    return Number(env);
  }
  try {
    const out = execFileSync('git', ['-C', root, 'log', '-1', '--format=%ct'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (/^\d+$/.test(out)) return Number(out);
  } catch { /* not a git checkout */ }
  return FALLBACK_EPOCH;
}

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Writes a tree under dir: entries are {path, mode} with one of source (a file
 * to copy), text (contents) or symlink (a link target). Directories get 0755.
 */
export function stageTree(dir, entries) {
  for (const e of entries) {
    const dest = join(dir, e.path);
    for (let d = dirname(dest); d.length >= dir.length; d = dirname(d)) {
      mkdirSync(d, { recursive: true });
      chmodSync(d, 0o755);
      if (d === dir) break;
    }
    if (e.symlink !== undefined) { symlinkSync(e.symlink, dest); continue; }
    if (e.source !== undefined) copyFileSync(e.source, dest);
    else writeFileSync(dest, e.text);
    chmodSync(dest, e.mode);
  }
  chmodSync(dir, 0o755);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { maxBuffer: MAX_ARCHIVE_BYTES, ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${String(r.stderr).trim()}`);
  return r.stdout;
}

/** An uncompressed tar of members (paths relative to cwd), as ipkg-build runs tar. */
export function tar(cwd, members, epoch) {
  return run('tar', ['--format=gnu', '--numeric-owner', '--owner=0', '--group=0', '--sort=name', `--mtime=@${epoch}`,
    '-C', cwd, '-cf', '-', ...members]);
}

export function gzip(bytes) {
  return run('gzip', ['-n', '-c'], { input: bytes });
}

/** tar | gzip -n into file; returns the uncompressed tar's size (ipkg-build's Installed-Size). */
export function writeTarGz(file, cwd, members, epoch) {
  const raw = tar(cwd, members, epoch);
  writeFileSync(file, gzip(raw));
  return raw.length;
}

/** Runs fn with a fresh temporary directory and removes it afterwards. */
export function withTemp(prefix, fn) {
  const dir = tempDir(prefix);
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
