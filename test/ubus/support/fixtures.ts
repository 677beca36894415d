/// <reference types="node" />
// Loading the ubus wire captures in the shared fixtures directory (shared/fixtures/ubus) (read in place).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromHex } from '../../../src/core/bytes.ts';

export interface FixtureNode { name: string; type: string; type_id: number; len: number; value: unknown; value_hex?: string }
export interface FixtureAttr {
  id: number; name: string; len: number; value?: unknown; value_hex?: unknown;
  blobmsg?: FixtureNode[]; json?: unknown; status_name?: string;
}
export interface FixtureFrame {
  conn: string;
  dir: 'client->ubusd' | 'ubusd->client';
  hex: string;
  decoded: {
    header: { version: number; type: number; type_name: string; seq: number; peer: number };
    blob: { id: number; extended: boolean; len: number };
    attrs: FixtureAttr[];
  };
}
export interface Fixture {
  file: string;
  connections: Record<string, { argv: string[]; client_id: string }>;
  cli?: Record<string, { argv: string[]; exit_code?: number; stdout: string; stderr: string }>;
  frames: FixtureFrame[];
}

/** `<fixtures>/ubus`, from KITH_FIXTURES_DIR or the shared directory beside the repo. */
export function ubusFixtureDir(base: string | URL): string {
  return join(typeof base === 'string' ? base : fileURLToPath(base), 'ubus');
}

export function loadFixtures(dir: string): Fixture[] | null {
  if (!existsSync(dir)) return null;
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
    .map((f) => ({ file: f, ...(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Omit<Fixture, 'file'>) }));
}

export function bytes(frame: FixtureFrame): Uint8Array {
  return fromHex(frame.hex);
}

/** The frames of a fixture on connections whose label starts with `conn`, in capture order. */
export function framesOf(fx: Fixture, conn: string, dir?: FixtureFrame['dir']): FixtureFrame[] {
  return fx.frames.filter((f) => f.conn.startsWith(conn) && (dir === undefined || f.dir === dir));
}

/** The one frame matching conn, direction, type name and seq. */
export function frameOf(fx: Fixture, conn: string, dir: FixtureFrame['dir'], type: string, seq: number): FixtureFrame {
  const hits = framesOf(fx, conn, dir).filter((f) => f.decoded.header.type_name === type && f.decoded.header.seq === seq);
  if (hits.length !== 1) throw new Error(`${fx.file}: ${hits.length} frames match ${conn} ${dir} ${type} seq ${seq}`);
  return hits[0]!;
}
