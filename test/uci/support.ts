// Test helpers for src/uci: an in-memory FileSystem, the golden-fixture loader
// (skips cleanly when the fixtures are absent), and a plain view of models.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileStat, FileSystem } from '../../src/platform/types.ts';
import type { UciPackage } from '../../src/uci/index.ts';
import { needs } from '../support/needs.ts';

/** A FileSystem in memory that records every atomic write. */
export class MemoryFs implements FileSystem {
  readonly files = new Map<string, Uint8Array>();
  readonly writes: { path: string; mode: number }[] = [];

  async readFile(path: string): Promise<Uint8Array> {
    const f = this.files.get(path);
    if (!f) throw new Error(`ENOENT: ${path}`);
    return f.slice();
  }
  async writeFileAtomic(path: string, data: Uint8Array, mode: number): Promise<void> {
    this.writes.push({ path, mode });
    this.files.set(path, data.slice());
  }
  async stat(path: string): Promise<FileStat | null> {
    const f = this.files.get(path);
    return f ? { size: f.length, isDirectory: false, mode: 0o644 } : null;
  }
  async mkdirp(): Promise<void> {}
  async remove(path: string): Promise<void> { this.files.delete(path); }
  async readDir(): Promise<string[]> { return [...this.files.keys()]; }
}

export interface CliRun { argv: string[]; exit_code: number; stdout: string; stderr: string }

export interface FixtureCase {
  id: string;
  description: string;
  input: string;
  show: CliRun;
  show_cfg_names: CliRun;
  export: CliRun;
  show_nonstrict?: CliRun;
  get?: CliRun[];
  steps?: CliRun[];
  file_after?: string;
  show_after?: CliRun;
  [extra: string]: unknown;
}

/** Where the golden cases live: $KITH_FIXTURES_DIR (the fixtures root or its uci/ dir), else ../shared next to the repo. */
export function fixturesDir(): string {
  const env = process.env['KITH_FIXTURES_DIR'];
  if (env) return existsSync(join(env, 'uci', 'cases.json')) ? join(env, 'uci') : env;
  return fileURLToPath(new URL('../../../shared/fixtures/uci/', import.meta.url));
}

/** The cases of one fixture file, or null (after saying so) when it is not there. */
export function loadFixture(name: 'cases.json' | 'edits.json'): FixtureCase[] | null {
  const path = join(fixturesDir(), name);
  if (!existsSync(path)) {
    needs(false, `the uci fixtures (${path})`, 'put ../shared beside the project or set KITH_FIXTURES_DIR')(`fixtures: ${name}`, () => undefined);
    return null;
  }
  return (JSON.parse(readFileSync(path, 'utf8')) as { cases: FixtureCase[] }).cases;
}

/** Sections without line numbers, for comparing content. */
export function plain(pkg: UciPackage): unknown {
  return pkg.sections.map((s) => ({ type: s.type, name: s.name, options: [...s.options] }));
}
