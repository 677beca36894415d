// The exit methods of the method table (methods.ts): `exit.offer`,
// `exit.use` and `exits`. A change is checked whole before anything is saved:
// bad input gets one line and changes nothing.
import { ApiError } from '../api/protocol.ts';
import { MAX_EXIT_CAPACITY_MBIT } from '../uci/settings.ts';
import { DEFAULT_EXIT_CAPACITY_MBIT, exitInConfig, type ExitConfig } from './exits.ts';
import type { Kithd } from './lifecycle.ts';
import type { Mesh } from './mesh.ts';

const usage = (m: string) => new ApiError('usage', m);
const failed = (m: string) => new ApiError('failed', m);

function meshOf(d: Kithd): Mesh {
  if (!d.mesh) throw failed('not a member of any network: run "kith init <name>" or "kith join <code>"');
  return d.mesh;
}

async function save(d: Kithd, mesh: Mesh, next: ExitConfig): Promise<unknown> {
  if (exitInConfig(d.settings.exit)) throw failed(`the exit is set in ${d.config.file} (config exit); change it there`);
  await d.store!.update((cur) => ({ ...cur, exit: next }));
  mesh.exits.configure(next);
  await mesh.settle();
  return mesh.exits.view(mesh.netmap());
}

/** `kith exit offer [--capacity-mbit N]` / `kith exit offer off`. */
export async function exitOffer(d: Kithd, params: Record<string, unknown>): Promise<unknown> {
  const mesh = meshOf(d);
  const off = params['off'] === true;
  const cap = params['capacityMbit'];
  if (off && cap != null) throw usage('"off" takes no capacity');
  if (cap != null && (!Number.isInteger(cap) || (cap as number) < 1 || (cap as number) > MAX_EXIT_CAPACITY_MBIT)) {
    throw usage(`invalid capacity "${String(cap)}": 1-${MAX_EXIT_CAPACITY_MBIT} Mbit/s`);
  }
  const cur = mesh.exits.config;
  if (!off && cur.use !== null) throw failed(`this node uses an exit (${cur.use}); a node cannot offer one and use one at once: run "kith exit use off" first`);
  return save(d, mesh, { offerMbit: off ? 0 : (cap as number | null) ?? DEFAULT_EXIT_CAPACITY_MBIT, use: cur.use });
}

/** `kith exit use auto|<node>|off`. */
export async function exitUse(d: Kithd, params: Record<string, unknown>): Promise<unknown> {
  const mesh = meshOf(d);
  const raw = params['node'];
  if (typeof raw !== 'string' || raw === '') throw usage('missing "node": auto, off, or a member\'s name or node id');
  const want = raw.toLowerCase();
  const cur = mesh.exits.config;
  let use: string | null;
  if (want === 'off') use = null;
  else if (want === 'auto') use = 'auto';
  else {
    const nm = mesh.netmap();
    const node = nm.nodes.find((n) => n.name === want || n.id === want);
    if (!node) throw failed(`no member "${raw}"`);
    if (node.id === nm.self.id) throw failed(`"${raw}" is this node`);
    const rec = mesh.core.nodeById(node.id);
    if (!rec || rec.exitCapacityMbit <= 0) throw failed(`${node.name} offers no exit`);
    use = node.name;
  }
  if (use !== null && cur.offerMbit > 0) throw failed('this node offers an exit; a node cannot offer one and use one at once: run "kith exit offer off" first');
  return save(d, mesh, { offerMbit: cur.offerMbit, use });
}

/** `kith exits`: the offers this node knows. */
export function exitList(d: Kithd): Promise<unknown[]> {
  const mesh = meshOf(d);
  return mesh.exits.offers(mesh.netmap());
}
