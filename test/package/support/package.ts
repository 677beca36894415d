/// <reference types="node" />
// Shared steps of the package tests: bundles built if missing, build/ipk.mjs
// run into a temporary directory, an .ipk unpacked the way opkg does, a bin
// directory holding the `uci` stand-in, and temporary directories that are
// removed when the process exits.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SUPPORT = fileURLToPath(new URL('.', import.meta.url));
export const VERSION: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
/** A fixed SOURCE_DATE_EPOCH, so the archives' mtimes and SourceDateEpoch are known. */
export const EPOCH = 1_700_000_000;

const temps: string[] = [];
process.on('exit', () => { for (const d of temps) rmSync(d, { recursive: true, force: true }); });

export function tempDir(prefix = 'kith-pkg-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

export interface Run { status: number | null; stdout: string; stderr: string }

export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Run {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20, ...opts });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

export function mustRun(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** dash by absolute path: the scripts run with a PATH that holds only the tools a test allows. */
export const DASH = (() => {
  const r = spawnSync('sh', ['-c', 'command -v dash'], { encoding: 'utf8' });
  const path = (r.stdout ?? '').trim();
  if (r.status !== 0 || !path.startsWith('/')) throw new Error('these tests need dash (apt-get install dash): it catches bashisms');
  return path;
})();

const BUNDLES = ['dist/txiki/kith.js', 'dist/txiki/kithd.js', 'dist/txiki/kithd-boot.js', 'dist/node/kith.mjs', 'dist/node/kithd.mjs'];

export function ensureBundles(): void {
  if (BUNDLES.every((b) => existsSync(join(ROOT, b)))) return;
  mustRun(process.execPath, [join(ROOT, 'build/bundle.mjs')], { cwd: ROOT });
}

/** node build/ipk.mjs --out <dir> [args], with SOURCE_DATE_EPOCH=EPOCH. */
export function buildIpks(args: string[] = [], outDir = tempDir('kith-ipk-')): { dir: string; stdout: string } {
  ensureBundles();
  const stdout = mustRun(process.execPath, [join(ROOT, 'build/ipk.mjs'), '--out', outDir, ...args],
    { cwd: ROOT, env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) } });
  return { dir: outDir, stdout };
}

/** One tar member as `tar -tv --numeric-owner` lists it. */
export interface Member { mode: string; owner: string; size: number; mtime: string; path: string; link?: string }

export function listTar(file: string, gz = true): Member[] {
  const out = mustRun('tar', [gz ? '-tvzf' : '-tvf', file, '--numeric-owner', '--full-time'], { env: { ...process.env, TZ: 'UTC' } });
  return out.split('\n').filter(Boolean).map((l) => {
    const m = /^(\S+) (\S+) +(\d+) (\S+ \S+) (.*)$/.exec(l);
    if (!m) throw new Error(`cannot read tar listing line: ${l}`);
    const [path, link] = m[5]!.split(' -> ');
    return { mode: m[1]!, owner: m[2]!, size: Number(m[3]), mtime: m[4]!, path: path!, ...(link ? { link } : {}) };
  });
}

export interface Unpacked {
  /** The outer archive's members, in order. */
  outer: Member[];
  debianBinary: string;
  control: Member[];
  data: Member[];
  /** The control files by name (control, conffiles, postinst, ...). */
  scripts: Record<string, string>;
  /** data.tar.gz extracted here, as opkg installs it. */
  root: string;
  /** Size of the uncompressed data tar. */
  dataTarBytes: number;
}

/** Unpacks an .ipk as opkg does: the outer tar.gz, then control.tar.gz and data.tar.gz into a root. */
export function unpackIpk(ipk: string): Unpacked {
  const dir = tempDir('kith-unpack-');
  const outerDir = join(dir, 'outer');
  const controlDir = join(dir, 'control');
  const root = join(dir, 'root');
  for (const d of [outerDir, controlDir, root]) mkdirSync(d);
  mustRun('tar', ['-xzf', ipk, '-C', outerDir]);
  mustRun('tar', ['-xzf', join(outerDir, 'control.tar.gz'), '-C', controlDir]);
  mustRun('tar', ['-xzpf', join(outerDir, 'data.tar.gz'), '-C', root, '--numeric-owner']);
  const control = listTar(join(outerDir, 'control.tar.gz'));
  const scripts: Record<string, string> = {};
  for (const m of control) if (m.path !== './') scripts[m.path.replace(/^\.\//, '')] = readFileSync(join(controlDir, m.path), 'utf8');
  const raw = spawnSync('gzip', ['-dc', join(outerDir, 'data.tar.gz')], { maxBuffer: 256 << 20 });
  return {
    outer: listTar(ipk), debianBinary: readFileSync(join(outerDir, 'debian-binary'), 'utf8'), control, data: listTar(join(outerDir, 'data.tar.gz')),
    scripts, root, dataTarBytes: raw.stdout.length,
  };
}

let ipkCache: { dir: string; pkg: Unpacked } | null = null;

/** The kith package built once per test process with the default options, and unpacked. */
export function kithIpk(): { file: string; pkg: Unpacked } {
  if (!ipkCache) {
    const { dir } = buildIpks();
    ipkCache = { dir, pkg: unpackIpk(join(dir, `kith_${VERSION}-1_all.ipk`)) };
  }
  return { file: join(ipkCache.dir, `kith_${VERSION}-1_all.ipk`), pkg: ipkCache.pkg };
}

let binCache: string | null = null;

/**
 * A directory for PATH with `uci` (the stand-in in uci-cli.ts, bundled once)
 * and the shell tools the package's scripts call; nothing else, so a script
 * cannot reach the host's own uci or runtimes by accident.
 */
export async function toolBin(): Promise<string> {
  if (binCache) return binCache;
  const dir = tempDir('kith-bin-');
  const bundle = join(dir, 'uci-cli.mjs');
  await build({ entryPoints: [join(SUPPORT, 'uci-cli.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node18', outfile: bundle, logLevel: 'warning' });
  writeFileSync(join(dir, 'uci'), `#!/bin/sh\nexec '${process.execPath}' '${bundle}' "$@"\n`);
  chmodSync(join(dir, 'uci'), 0o755);
  for (const tool of ['cat', 'dirname', 'basename', 'printf', 'mkdir', 'rm']) {
    const r = run('sh', ['-c', `command -v ${tool}`]);
    const path = r.stdout.trim();
    if (r.status === 0 && path.startsWith('/')) symlinkSync(path, join(dir, tool));
  }
  binCache = dir;
  return dir;
}
