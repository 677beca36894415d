// The single owner of the durable state (state.json). Every change is a
// read-modify-write through `update(fn)`: changes run one at a time in the
// order they were asked for, each sees the state the previous one left, and
// the new state is written atomically (temp file, fsync, rename) before it is
// published. A change that throws, or a write that fails, leaves the state as
// it was and fails only its own caller. Nothing else keeps a copy: readers
// call `get()` whenever they need the state.
import type { FileSystem } from '../platform/types.ts';
import { loadState, saveState, type DurableState } from './state.ts';

/** A change: the next state, or null (or the same object) to leave the state unchanged. */
export type StateChange = (current: DurableState) => DurableState | null | Promise<DurableState | null>;

/** Where a store writes: state.json in a directory, or anything else for tests. */
export type StateWriter = (s: DurableState) => Promise<void>;

export class StateStore {
  private current: DurableState;
  private tail: Promise<unknown> = Promise.resolve();
  /** Changes written so far (a change that returned "unchanged" does not count). */
  writes = 0;

  constructor(initial: DurableState, private readonly write: StateWriter) {
    this.current = deepFreeze(structuredCloneJson(initial));
  }

  /**
   * Opens the state in `dir`, or creates it with `fresh()` (written before it
   * is returned). `created` says which.
   */
  static async open(fs: FileSystem, dir: string, fresh: () => DurableState): Promise<{ store: StateStore; created: boolean }> {
    const write: StateWriter = (s) => saveState(fs, dir, s);
    const loaded = await loadState(fs, dir);
    if (loaded) return { store: new StateStore(loaded, write), created: false };
    const s = fresh();
    await write(s);
    return { store: new StateStore(s, write), created: true };
  }

  /** The state as last written. Frozen: change it only through update(). */
  get(): DurableState { return this.current; }

  /**
   * Runs `fn` on the latest state once every earlier change has finished,
   * persists its result and only then publishes it. Resolves with the state
   * after the change; rejects (state unchanged) if `fn` throws or the write
   * fails.
   */
  update(fn: StateChange): Promise<DurableState> {
    const run = this.tail.then(() => this.apply(fn));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async apply(fn: StateChange): Promise<DurableState> {
    const before = this.current;
    const next = await fn(before);
    if (next === null || next === before) return before;
    const frozen = deepFreeze(structuredCloneJson(next));
    await this.write(frozen);
    this.current = frozen;
    this.writes++;
    return frozen;
  }
}

/** A copy through JSON, exactly what state.json holds (so memory and file never differ). */
function structuredCloneJson(s: DurableState): DurableState {
  return JSON.parse(JSON.stringify(s)) as DurableState;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as Record<string, unknown>)) deepFreeze(x);
  }
  return v;
}
