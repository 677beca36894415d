/// <reference types="node" />
// Where the tests find txiki.js: $TJS, else ../shared/router/bin/tjs beside
// the project, else tjs on PATH; null when there is none.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function findTjs(): string | null {
  const beside = fileURLToPath(new URL('../../../shared/router/bin/tjs', import.meta.url));
  const candidates = process.env.TJS ? [process.env.TJS] : [beside, ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'tjs'))];
  for (const c of candidates) {
    try { accessSync(c, constants.X_OK); return c; } catch { /* next */ }
  }
  return null;
}
