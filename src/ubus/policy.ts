// Server objects' argument-policy tables (netifd/procd style): the SIGNATURE
// sent with ADD_OBJECT, and the check of an incoming call's arguments against
// the policy (wrong type → INVALID_ARGUMENT, the ubus_rpc_session argument
// that LuCI adds is accepted and stripped).
import {
  BLOBMSG_TYPE, BlobDecodeError, blobmsgTypeName, decodeBlobmsgNodes, encodeBlobmsgNodes, nodeToValue,
  type BlobTable, type BlobValue, type BlobmsgNode,
} from './blob.ts';
import { UBUS_STATUS } from './message.ts';

/** The argument types a method can declare. 'int' is a 32-bit integer on the wire. */
export type UbusArgType = 'string' | 'int' | 'bool' | 'table' | 'array';
export type UbusArgPolicy = Record<string, UbusArgType>;

interface ArgTypeMap { string: string; int: number; bool: boolean; table: BlobTable; array: BlobValue[] }
/** A handler's arguments: every declared argument is optional, as in blobmsg_parse. */
export type UbusArgs<P extends UbusArgPolicy> = { [K in keyof P]?: ArgTypeMap[P[K]] };

/** Who called, as ubusd reports it. */
export interface UbusInvokeContext {
  object: string;
  method: string;
  /** The caller's ubus client id. */
  peer: number;
  user?: string;
  group?: string;
  /** The rpcd session id LuCI passes as `ubus_rpc_session`, if any. */
  session?: string;
}

export interface UbusMethod<P extends UbusArgPolicy = UbusArgPolicy> {
  args: P;
  /**
   * The handler checks its arguments itself: it gets every argument the caller sent (except
   * ubus_rpc_session), whatever its type, and `args` is only the signature announced.
   */
  unchecked?: boolean;
  /** Returns the reply table (sent as DATA), or nothing (STATUS only). */
  handler(args: UbusArgs<P>, ctx: UbusInvokeContext): Promise<BlobTable | void> | BlobTable | void;
}
export type UbusMethods = Record<string, UbusMethod>;

/** The blobmsg type announced in the signature for each argument type. */
export const ARG_WIRE_TYPE: Record<UbusArgType, number> = {
  string: BLOBMSG_TYPE.STRING, int: BLOBMSG_TYPE.INT32, bool: BLOBMSG_TYPE.BOOL, table: BLOBMSG_TYPE.TABLE, array: BLOBMSG_TYPE.ARRAY,
};

export const RPC_SESSION_ARG = 'ubus_rpc_session';

/** The SIGNATURE payload: one table per method holding `arg: <blobmsg type id>` as INT32. */
export function encodeSignature(methods: UbusMethods): Uint8Array {
  const nodes: BlobmsgNode[] = Object.entries(methods).map(([name, m]) => ({
    name,
    type: 2,
    value: Object.entries(m.args).map(([arg, t]): BlobmsgNode => {
      const wire = ARG_WIRE_TYPE[t];
      if (wire === undefined) throw new TypeError(`ubus method "${name}": argument "${arg}" has unknown type "${String(t)}"`);
      return { name: arg, type: 5, value: wire };
    }),
  }));
  return encodeBlobmsgNodes(nodes);
}

/** Reads a SIGNATURE payload (from LOOKUP) as method → argument → blobmsg type id. */
export function decodeSignature(payload: Uint8Array): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const m of decodeBlobmsgNodes(payload, 'signature')) {
    if (m.type !== 2) throw new BlobDecodeError(`signature: method "${m.name}" is ${blobmsgTypeName(m.type)}, expected table`);
    const args: Record<string, number> = {};
    for (const a of m.value) {
      if (a.type !== 5) throw new BlobDecodeError(`signature: ${m.name}.${a.name} is ${blobmsgTypeName(a.type)}, expected int32`);
      Object.defineProperty(args, a.name, { value: a.value, enumerable: true, writable: true, configurable: true });
    }
    Object.defineProperty(out, m.name, { value: args, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export type ArgCheck =
  | { ok: true; args: UbusArgs<UbusArgPolicy>; session?: string }
  | { ok: false; status: number; reason: string };

function matches(t: UbusArgType, n: BlobmsgNode): boolean {
  switch (t) {
    case 'string': return n.type === 3;
    // INT64 is accepted when the value fits the declared int32 (some clients send every integer as INT64).
    case 'int': return n.type === 5 || n.type === 6 || (n.type === 4 && n.value >= -(2n ** 31n) && n.value < 2n ** 31n);
    case 'bool': return n.type === 7;
    case 'table': return n.type === 2;
    case 'array': return n.type === 1;
  }
}

/**
 * Checks a call's DATA payload against a policy. Undeclared arguments are
 * ignored (as blobmsg_parse does); a missing DATA attribute or a declared
 * argument of another type is INVALID_ARGUMENT. `unchecked` (a method that
 * checks its own arguments) passes every argument but ubus_rpc_session on as
 * it came; a missing or undecodable DATA attribute is still refused.
 */
export function checkArgs(policy: UbusArgPolicy, data: Uint8Array | undefined, unchecked?: boolean): ArgCheck {
  const bad = (reason: string): ArgCheck => ({ ok: false, status: UBUS_STATUS.INVALID_ARGUMENT, reason });
  if (data === undefined) return bad('no DATA attribute');
  let nodes: BlobmsgNode[];
  try {
    nodes = decodeBlobmsgNodes(data, 'arguments');
  } catch (e) {
    if (e instanceof BlobDecodeError) return bad(e.message);
    throw e;
  }
  const args: UbusArgs<UbusArgPolicy> = {};
  let session: string | undefined;
  for (const n of nodes) {
    if (n.name === RPC_SESSION_ARG && n.type === 3) session = n.value;
    if (unchecked) {
      if (n.name === RPC_SESSION_ARG) continue;
    } else {
      const t = Object.hasOwn(policy, n.name) ? policy[n.name] : undefined;
      if (t === undefined) continue;
      if (!matches(t, n)) return bad(`argument "${n.name}" is ${blobmsgTypeName(n.type)}, expected ${t}`);
    }
    Object.defineProperty(args, n.name, { value: nodeToValue(n), enumerable: true, writable: true, configurable: true });
  }
  return session === undefined ? { ok: true, args } : { ok: true, args, session };
}
