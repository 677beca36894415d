// libubox blob attributes and blobmsg values (the typed JSON-like payload that
// ubus carries), with a strict bounds-checked decoder and an exact encoder.
//
// Byte layout (all integers big-endian; every attribute is padded with zeros
// to a multiple of 4, the pad is not counted in its own raw_len but is counted
// in its parent's):
//
//   blob attribute
//     u32  id_len        bit 31: extended, bits 24..30: id, bits 0..23: raw_len
//                        (raw_len includes these 4 header bytes)
//     u8[raw_len-4]      payload; a nested attribute's payload is its children
//     u8[0..3]           zero pad
//
//   blobmsg attribute = blob attribute with extended=1 and id = blobmsg type:
//     u16  namelen
//     u8[namelen] name, u8 NUL, zero pad so that 2+namelen+1 rounds up to 4
//     value: ARRAY/TABLE  children (array members have empty names)
//            STRING       UTF-8 bytes + NUL
//            INT64/32/16  two's complement, 8/4/2 bytes
//            INT8 (BOOL)  1 byte
//            DOUBLE       IEEE 754 binary64, 8 bytes
//            UNSPEC       raw bytes (empty for JSON null)
//   A non-extended attribute inside a blobmsg list has no name: id is the
//   type and the payload is the value (the decoder accepts it, name "").
//
// JS mapping (libubox blobmsg_json.c): object ↔ TABLE, array ↔ ARRAY, string ↔
// STRING, boolean ↔ INT8, null ↔ UNSPEC, integers → INT32 if they fit, else
// INT64 (decoded back to a number when it is a safe integer, else a bigint),
// other numbers → DOUBLE. Numbers are never encoded as INT8: rpcd and LuCI
// render INT8 as true/false.
import { DecodeError } from '../core/codec.ts';
import { utf8Decode, utf8Encode } from '../core/bytes.ts';
import { concat } from '../core/bytes.ts';

/** Remote bytes are not a valid blob / blobmsg / ubus message. */
export class BlobDecodeError extends DecodeError {
  override name = 'BlobDecodeError';
}

// Specification constants (libubox blobmsg.h).
export const BLOBMSG_TYPE = {
  UNSPEC: 0, ARRAY: 1, TABLE: 2, STRING: 3, INT64: 4, INT32: 5, INT16: 6, INT8: 7, BOOL: 7, DOUBLE: 8,
} as const;
export type BlobmsgType = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;
const TYPE_NAMES = ['unspec', 'array', 'table', 'string', 'int64', 'int32', 'int16', 'int8', 'double'] as const;
/** The lower-case name of a blobmsg type id ("int32"), or "type <n>". */
export function blobmsgTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `type ${type}`;
}
/** Largest raw_len a blob attribute header can express (24 bits). */
export const BLOB_ATTR_LEN_MASK = 0xffffff;

// Implementation limits.
/** Deepest nesting of tables/arrays accepted when encoding or decoding. */
export const BLOBMSG_MAX_DEPTH = 64;

/** A JS value that maps onto blobmsg. */
export type BlobValue = null | boolean | number | bigint | string | BlobValue[] | BlobTable;
export interface BlobTable { [key: string]: BlobValue }

/** One blob attribute as found on the wire; payload excludes header and pad. */
export interface BlobAttr {
  id: number;
  extended: boolean;
  payload: Uint8Array;
}

/** A blobmsg value with its exact wire type (what the JS mapping loses). */
export type BlobmsgNode =
  | { name: string; type: 0; value: Uint8Array }
  | { name: string; type: 1 | 2; value: BlobmsgNode[] }
  | { name: string; type: 3; value: string }
  | { name: string; type: 4; value: bigint }
  | { name: string; type: 5 | 6 | 8; value: number }
  /** INT8 keeps the raw unsigned byte; its JS value is `value !== 0`. */
  | { name: string; type: 7; value: number };

export function padLen(n: number): number {
  return (n + 3) & ~3;
}

// ---------------------------------------------------------------- attributes

/** Encodes one attribute, padded to a multiple of 4. */
export function encodeAttr(id: number, payload: Uint8Array, extended = false): Uint8Array {
  const rawLen = 4 + payload.length;
  if (rawLen > BLOB_ATTR_LEN_MASK) throw new RangeError(`blob attribute id ${id}: ${payload.length} bytes exceeds the 24-bit length field`);
  if (!Number.isInteger(id) || id < 0 || id > 0x7f) throw new RangeError(`blob attribute id ${id} is not in 0..127`);
  const out = new Uint8Array(padLen(rawLen));
  new DataView(out.buffer).setUint32(0, (extended ? 0x80000000 : 0) + id * 0x1000000 + rawLen);
  out.set(payload, 4);
  return out;
}

/** Decodes a sequence of padded attributes (a nested attribute's payload). */
export function decodeAttrs(buf: Uint8Array, what: string): BlobAttr[] {
  const out: BlobAttr[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  while (pos < buf.length) {
    if (buf.length - pos < 4) throw new BlobDecodeError(`${what}: ${buf.length - pos} trailing bytes at offset ${pos}, not an attribute`);
    const idLen = view.getUint32(pos);
    const rawLen = idLen & BLOB_ATTR_LEN_MASK;
    const id = (idLen >>> 24) & 0x7f;
    if (rawLen < 4) throw new BlobDecodeError(`${what}: attribute id ${id} at offset ${pos} has length ${rawLen} < 4`);
    if (padLen(rawLen) > buf.length - pos) {
      throw new BlobDecodeError(`${what}: attribute id ${id} at offset ${pos} has length ${rawLen}, only ${buf.length - pos} bytes left`);
    }
    out.push({ id, extended: idLen >= 0x80000000, payload: buf.subarray(pos + 4, pos + rawLen) });
    pos += padLen(rawLen);
  }
  return out;
}

/** Concatenation, shared with the core's byte helpers. */
export const concatBytes = (parts: Uint8Array[]): Uint8Array => concat(...parts);

// ------------------------------------------------------------ blobmsg encode

function blobmsgHeader(name: string, where: string): Uint8Array {
  const nb = utf8Encode(name);
  if (nb.includes(0)) throw new RangeError(`blobmsg ${where}: name contains a NUL byte`);
  if (nb.length > 0xffff) throw new RangeError(`blobmsg ${where}: name of ${nb.length} bytes exceeds 65535`);
  const out = new Uint8Array(padLen(2 + nb.length + 1));
  out[0] = nb.length >> 8; out[1] = nb.length & 255;
  out.set(nb, 2);
  return out;
}

function fixed(n: number, set: (v: DataView) => void): Uint8Array {
  const out = new Uint8Array(n);
  set(new DataView(out.buffer));
  return out;
}

function encodeValue(node: BlobmsgNode, where: string, depth: number): Uint8Array {
  switch (node.type) {
    case 0: return node.value;
    case 1: case 2: {
      if (depth >= BLOBMSG_MAX_DEPTH) throw new RangeError(`blobmsg ${where}: nesting deeper than ${BLOBMSG_MAX_DEPTH}`);
      return concatBytes(node.value.map((c, i) => encodeNodeAt(c, `${where}${node.type === 1 ? `[${i}]` : `.${c.name}`}`, depth + 1)));
    }
    case 3: {
      const b = utf8Encode(node.value);
      if (b.includes(0)) throw new RangeError(`blobmsg ${where}: string contains a NUL byte`);
      const out = new Uint8Array(b.length + 1);
      out.set(b);
      return out;
    }
    case 4: return fixed(8, (v) => v.setBigInt64(0, node.value));
    case 5: return fixed(4, (v) => v.setInt32(0, node.value));
    case 6: return fixed(2, (v) => v.setInt16(0, node.value));
    case 7: return Uint8Array.of(node.value & 255);
    case 8: return fixed(8, (v) => v.setFloat64(0, node.value));
  }
}

function encodeNodeAt(node: BlobmsgNode, where: string, depth: number): Uint8Array {
  return encodeAttr(node.type, concatBytes([blobmsgHeader(node.name, where), encodeValue(node, where, depth)]), true);
}

/** Encodes one typed blobmsg attribute exactly as given (padded). */
export function encodeBlobmsgNode(node: BlobmsgNode): Uint8Array {
  return encodeNodeAt(node, node.name || '(root)', 0);
}

/** Encodes typed nodes as a container payload (DATA, SIGNATURE, TABLE body). */
export function encodeBlobmsgNodes(nodes: BlobmsgNode[]): Uint8Array {
  return concatBytes(nodes.map((n) => encodeNodeAt(n, n.name, 1)));
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Maps a JS value to a typed node; throws TypeError/RangeError on values blobmsg cannot carry. */
export function toBlobmsgNode(name: string, value: unknown, where = name, depth = 0): BlobmsgNode {
  if (value === null) return { name, type: 0, value: new Uint8Array(0) };
  switch (typeof value) {
    case 'boolean': return { name, type: 7, value: value ? 1 : 0 };
    case 'string': return { name, type: 3, value };
    case 'bigint':
      if (value < INT64_MIN || value > INT64_MAX) throw new RangeError(`blobmsg ${where}: ${value} does not fit in int64`);
      return { name, type: 4, value };
    case 'number':
      if (Number.isInteger(value)) {
        if (value >= INT32_MIN && value <= INT32_MAX) return { name, type: 5, value: value | 0 };
        if (value >= -(2 ** 63) && value < 2 ** 63) return { name, type: 4, value: BigInt(value) };
      }
      return { name, type: 8, value }; // fractions, NaN, ±Infinity, integers beyond int64
    case 'object': {
      if (depth >= BLOBMSG_MAX_DEPTH) throw new RangeError(`blobmsg ${where}: nesting deeper than ${BLOBMSG_MAX_DEPTH}`);
      if (Array.isArray(value)) {
        return { name, type: 1, value: value.map((v, i) => toBlobmsgNode('', v === undefined ? null : v, `${where}[${i}]`, depth + 1)) };
      }
      if (!isPlainObject(value)) throw new TypeError(`blobmsg ${where}: cannot encode a ${value.constructor?.name ?? 'non-plain object'}`);
      const members: BlobmsgNode[] = [];
      for (const [k, v] of Object.entries(value)) {
        if (v !== undefined) members.push(toBlobmsgNode(k, v, `${where}.${k}`, depth + 1));
      }
      return { name, type: 2, value: members };
    }
    default:
      throw new TypeError(`blobmsg ${where}: cannot encode a ${typeof value}`);
  }
}

/** Encodes one named JS value as a blobmsg attribute (padded). */
export function encodeBlobmsg(name: string, value: BlobValue): Uint8Array {
  return encodeBlobmsgNode(toBlobmsgNode(name, value));
}

/** Encodes a JS object as the members of a blobmsg table: the payload of a DATA attribute. */
export function encodeBlobmsgTable(table: BlobTable): Uint8Array {
  const root = toBlobmsgNode('', table, 'table');
  if (root.type !== 2) throw new TypeError('blobmsg table: not an object');
  return encodeBlobmsgNodes(root.value);
}

// ------------------------------------------------------------ blobmsg decode

const FIXED_LEN: Partial<Record<number, number>> = { 4: 8, 5: 4, 6: 2, 7: 1, 8: 8 };

function decodeNode(attr: BlobAttr, where: string, depth: number): BlobmsgNode {
  let name = '';
  let body = attr.payload;
  if (attr.extended) {
    if (body.length < 2) throw new BlobDecodeError(`${where}: blobmsg header truncated (${body.length} bytes)`);
    const nameLen = (body[0]! << 8) | body[1]!;
    const hdrLen = padLen(2 + nameLen + 1);
    if (body.length < hdrLen) throw new BlobDecodeError(`${where}: name of ${nameLen} bytes overruns attribute of ${body.length} bytes`);
    if (body[2 + nameLen] !== 0) throw new BlobDecodeError(`${where}: name is not NUL-terminated`);
    name = utf8Decode(body.subarray(2, 2 + nameLen));
    body = body.subarray(hdrLen);
  }
  const at = `${where}${name ? `.${name}` : ''}`;
  const type = attr.id;
  if (type > 8) throw new BlobDecodeError(`${at}: unknown blobmsg type ${type}`);
  const want = FIXED_LEN[type];
  if (want !== undefined && body.length !== want) {
    throw new BlobDecodeError(`${at}: ${blobmsgTypeName(type)} value has ${body.length} bytes, expected ${want}`);
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  switch (type) {
    case 0: return { name, type, value: body.slice() };
    case 1: case 2: {
      if (depth >= BLOBMSG_MAX_DEPTH) throw new BlobDecodeError(`${at}: nesting deeper than ${BLOBMSG_MAX_DEPTH}`);
      return { name, type, value: decodeBlobmsgNodesAt(body, at, depth + 1) };
    }
    case 3: {
      if (body.length < 1 || body[body.length - 1] !== 0) throw new BlobDecodeError(`${at}: string is not NUL-terminated`);
      const nul = body.indexOf(0); // C readers stop at the first NUL
      return { name, type, value: utf8Decode(body.subarray(0, nul)) };
    }
    case 4: return { name, type, value: view.getBigInt64(0) };
    case 5: return { name, type, value: view.getInt32(0) };
    case 6: return { name, type, value: view.getInt16(0) };
    case 7: return { name, type, value: body[0]! };
    default: return { name, type: 8, value: view.getFloat64(0) };
  }
}

function decodeBlobmsgNodesAt(payload: Uint8Array, where: string, depth: number): BlobmsgNode[] {
  return decodeAttrs(payload, where).map((a) => decodeNode(a, where, depth));
}

/** Decodes a container payload (DATA, SIGNATURE, TABLE or ARRAY body) into typed nodes. */
export function decodeBlobmsgNodes(payload: Uint8Array, what = 'blobmsg'): BlobmsgNode[] {
  return decodeBlobmsgNodesAt(payload, what, 1);
}

function setKey(obj: BlobTable, key: string, value: BlobValue): void {
  // defineProperty, not assignment: a "__proto__" key must stay a plain key.
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The JS value of a typed node (INT8 → boolean, UNSPEC → null, safe INT64 → number). */
export function nodeToValue(node: BlobmsgNode): BlobValue {
  switch (node.type) {
    case 0: return null;
    case 1: return node.value.map(nodeToValue);
    case 2: return nodesToTable(node.value);
    case 4: return node.value >= BigInt(Number.MIN_SAFE_INTEGER) && node.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(node.value) : node.value;
    case 7: return node.value !== 0;
    default: return node.value;
  }
}

/** Members to an object; a repeated name keeps the last value. */
export function nodesToTable(nodes: BlobmsgNode[]): BlobTable {
  const out: BlobTable = {};
  for (const n of nodes) setKey(out, n.name, nodeToValue(n));
  return out;
}

/** Decodes the members of a blobmsg table (a DATA payload) to a JS object. */
export function decodeBlobmsgTable(payload: Uint8Array, what = 'blobmsg'): BlobTable {
  return nodesToTable(decodeBlobmsgNodes(payload, what));
}

/** Decodes one padded blobmsg attribute (as encodeBlobmsg produces) to its name and JS value. */
export function decodeBlobmsg(buf: Uint8Array, what = 'blobmsg'): { name: string; value: BlobValue } {
  const attrs = decodeAttrs(buf, what);
  if (attrs.length !== 1) throw new BlobDecodeError(`${what}: expected one attribute, found ${attrs.length}`);
  const node = decodeNode(attrs[0]!, what, 1);
  return { name: node.name, value: nodeToValue(node) };
}
