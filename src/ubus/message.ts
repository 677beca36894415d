// ubus frames: the 8-byte header, the message blob of plain attributes (parsed
// by id, never by position), message-type and status constants, and the
// incremental splitter that cuts a byte stream into frames.
//
// Frame layout (big-endian; ubus/ubusmsg.h):
//   u8  version      always 0
//   u8  type         UBUS_MSG.*
//   u16 seq          request sequence number, echoed by replies
//   u32 peer         object id / client id (see OPENWRT.md §5, peer rewriting)
//   blob attribute   id 0, not extended: the message blob, whose payload is
//                    plain attributes (UBUS_ATTR.*), each padded to 4
// A frame is 8 + raw_len bytes of the message blob; read 12 bytes, then
// raw_len - 4 more. The padded blob may not exceed UBUS_MAX_MSGLEN.
import { BlobDecodeError, concatBytes, decodeAttrs, encodeAttr, padLen } from './blob.ts';
import { utf8Decode, utf8Encode } from '../core/bytes.ts';

export const UBUS_MSG = {
  HELLO: 0, STATUS: 1, DATA: 2, PING: 3, LOOKUP: 4, INVOKE: 5, ADD_OBJECT: 6, REMOVE_OBJECT: 7,
  SUBSCRIBE: 8, UNSUBSCRIBE: 9, NOTIFY: 10, MONITOR: 11,
} as const;

export const UBUS_ATTR = {
  STATUS: 1, OBJPATH: 2, OBJID: 3, METHOD: 4, OBJTYPE: 5, SIGNATURE: 6, DATA: 7, TARGET: 8,
  ACTIVE: 9, NO_REPLY: 10, SUBSCRIBERS: 11, USER: 12, GROUP: 13,
} as const;

export const UBUS_STATUS = {
  OK: 0, INVALID_COMMAND: 1, INVALID_ARGUMENT: 2, METHOD_NOT_FOUND: 3, NOT_FOUND: 4, NO_DATA: 5,
  PERMISSION_DENIED: 6, TIMEOUT: 7, NOT_SUPPORTED: 8, UNKNOWN_ERROR: 9, CONNECTION_FAILED: 10,
  NO_MEMORY: 11, PARSE_ERROR: 12, SYSTEM_ERROR: 13,
} as const;

const STATUS_NAMES = Object.keys(UBUS_STATUS);
/** "METHOD_NOT_FOUND" for 3; "STATUS_<n>" for codes ubus does not define. */
export function statusName(code: number): string {
  return STATUS_NAMES[code] ?? `STATUS_${code}`;
}
const MSG_NAMES = Object.keys(UBUS_MSG);
export function msgTypeName(type: number): string {
  return MSG_NAMES[type] ?? `TYPE_${type}`;
}

/** ubusd's limit on the padded message blob (ubus/ubus_common.h). */
export const UBUS_MAX_MSGLEN = 1048576;
export const UBUS_HEADER_LEN = 8;
/** The built-in object that handles event register/send. */
export const UBUS_SYSTEM_OBJECT_EVENT = 1;

/** The message blob's attributes by id. DATA and SIGNATURE stay raw blobmsg payloads. */
export interface UbusAttrs {
  status?: number;
  objPath?: string;
  objId?: number;
  method?: string;
  objType?: number;
  signature?: Uint8Array;
  data?: Uint8Array;
  target?: number;
  active?: boolean;
  noReply?: boolean;
  subscribers?: number[];
  user?: string;
  group?: string;
}

export interface UbusMessage {
  type: number;
  seq: number;
  peer: number;
  attrs: UbusAttrs;
}

function u32(v: number, signed = false): Uint8Array {
  const out = new Uint8Array(4);
  const view = new DataView(out.buffer);
  if (signed) view.setInt32(0, v); else view.setUint32(0, v);
  return out;
}
function cstr(s: string, what: string): Uint8Array {
  const b = utf8Encode(s);
  if (b.includes(0)) throw new RangeError(`ubus ${what}: string contains a NUL byte`);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

/** Encodes the attributes in ascending id order, as libubus does. */
export function encodeAttrs(a: UbusAttrs): Uint8Array {
  const parts: Uint8Array[] = [];
  const put = (id: number, payload: Uint8Array) => parts.push(encodeAttr(id, payload));
  if (a.status !== undefined) put(UBUS_ATTR.STATUS, u32(a.status, true));
  if (a.objPath !== undefined) put(UBUS_ATTR.OBJPATH, cstr(a.objPath, 'object path'));
  if (a.objId !== undefined) put(UBUS_ATTR.OBJID, u32(a.objId));
  if (a.method !== undefined) put(UBUS_ATTR.METHOD, cstr(a.method, 'method'));
  if (a.objType !== undefined) put(UBUS_ATTR.OBJTYPE, u32(a.objType));
  if (a.signature !== undefined) put(UBUS_ATTR.SIGNATURE, a.signature);
  if (a.data !== undefined) put(UBUS_ATTR.DATA, a.data);
  if (a.target !== undefined) put(UBUS_ATTR.TARGET, u32(a.target));
  if (a.active !== undefined) put(UBUS_ATTR.ACTIVE, Uint8Array.of(a.active ? 1 : 0));
  if (a.noReply !== undefined) put(UBUS_ATTR.NO_REPLY, Uint8Array.of(a.noReply ? 1 : 0));
  if (a.subscribers !== undefined) put(UBUS_ATTR.SUBSCRIBERS, concatBytes(a.subscribers.map((id) => encodeAttr(0, u32(id)))));
  if (a.user !== undefined) put(UBUS_ATTR.USER, cstr(a.user, 'user'));
  if (a.group !== undefined) put(UBUS_ATTR.GROUP, cstr(a.group, 'group'));
  return concatBytes(parts);
}

/** Encodes a whole frame; RangeError if it would exceed UBUS_MAX_MSGLEN (local misuse). */
export function encodeMessage(msg: UbusMessage): Uint8Array {
  const blob = encodeAttr(0, encodeAttrs(msg.attrs));
  if (blob.length > UBUS_MAX_MSGLEN) throw new RangeError(`ubus ${msgTypeName(msg.type)}: message of ${blob.length} bytes exceeds ${UBUS_MAX_MSGLEN}`);
  const out = new Uint8Array(UBUS_HEADER_LEN + blob.length);
  const view = new DataView(out.buffer);
  view.setUint8(1, msg.type);
  view.setUint16(2, msg.seq);
  view.setUint32(4, msg.peer);
  out.set(blob, UBUS_HEADER_LEN); // raw_len is a multiple of 4: padded children only
  return out;
}

const FIXED: Partial<Record<number, number>> = {
  [UBUS_ATTR.STATUS]: 4, [UBUS_ATTR.OBJID]: 4, [UBUS_ATTR.OBJTYPE]: 4, [UBUS_ATTR.TARGET]: 4,
  [UBUS_ATTR.ACTIVE]: 1, [UBUS_ATTR.NO_REPLY]: 1,
};
const ATTR_NAMES = Object.keys(UBUS_ATTR);

function str(p: Uint8Array, what: string): string {
  if (p.length < 1 || p[p.length - 1] !== 0) throw new BlobDecodeError(`${what}: string is not NUL-terminated`);
  return utf8Decode(p.subarray(0, p.indexOf(0)));
}

/** Parses a message blob's payload by attribute id; unknown ids are ignored, a repeated id keeps the last. */
export function decodeAttrsById(payload: Uint8Array, what: string): UbusAttrs {
  const a: UbusAttrs = {};
  for (const attr of decodeAttrs(payload, what)) {
    const p = attr.payload;
    const name = `${what} ${ATTR_NAMES[attr.id - 1] ?? `attr ${attr.id}`}`;
    const want = FIXED[attr.id];
    if (want !== undefined && p.length !== want) throw new BlobDecodeError(`${name}: ${p.length} bytes, expected ${want}`);
    const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
    switch (attr.id) {
      case UBUS_ATTR.STATUS: a.status = view.getInt32(0); break;
      case UBUS_ATTR.OBJPATH: a.objPath = str(p, name); break;
      case UBUS_ATTR.OBJID: a.objId = view.getUint32(0); break;
      case UBUS_ATTR.METHOD: a.method = str(p, name); break;
      case UBUS_ATTR.OBJTYPE: a.objType = view.getUint32(0); break;
      case UBUS_ATTR.SIGNATURE: a.signature = p; break;
      case UBUS_ATTR.DATA: a.data = p; break;
      case UBUS_ATTR.TARGET: a.target = view.getUint32(0); break;
      case UBUS_ATTR.ACTIVE: a.active = p[0] !== 0; break;
      case UBUS_ATTR.NO_REPLY: a.noReply = p[0] !== 0; break;
      case UBUS_ATTR.SUBSCRIBERS:
        a.subscribers = decodeAttrs(p, name).map((s) => {
          if (s.payload.length !== 4) throw new BlobDecodeError(`${name}: entry of ${s.payload.length} bytes, expected 4`);
          return new DataView(s.payload.buffer, s.payload.byteOffset, 4).getUint32(0);
        });
        break;
      case UBUS_ATTR.USER: a.user = str(p, name); break;
      case UBUS_ATTR.GROUP: a.group = str(p, name); break;
      default: break; // attribute from a newer ubus: ignore
    }
  }
  return a;
}

/** Decodes one whole frame (header + message blob, exactly). */
export function decodeMessage(frame: Uint8Array): UbusMessage {
  if (frame.length < UBUS_HEADER_LEN + 4) throw new BlobDecodeError(`ubus frame: ${frame.length} bytes, shorter than header`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const type = view.getUint8(1);
  const seq = view.getUint16(2);
  const peer = view.getUint32(4);
  const rawLen = checkHeader(view);
  if (frame.length !== UBUS_HEADER_LEN + rawLen) throw new BlobDecodeError(`ubus frame: ${frame.length} bytes, header says ${UBUS_HEADER_LEN + rawLen}`);
  const what = `ubus ${msgTypeName(type)} seq ${seq}`;
  return { type, seq, peer, attrs: decodeAttrsById(frame.subarray(UBUS_HEADER_LEN + 4), what) };
}

/** Validates the 12 leading bytes of a frame and returns the message blob's raw_len. */
function checkHeader(view: DataView): number {
  const version = view.getUint8(0);
  if (version !== 0) throw new BlobDecodeError(`ubus frame: version ${version}, expected 0`);
  const idLen = view.getUint32(UBUS_HEADER_LEN);
  const rawLen = idLen & 0xffffff;
  if (idLen >>> 24 !== 0) throw new BlobDecodeError(`ubus frame: message blob has id/flags 0x${(idLen >>> 24).toString(16)}, expected 0`);
  if (rawLen < 4) throw new BlobDecodeError(`ubus frame: message blob length ${rawLen} < 4`);
  if (padLen(rawLen) > UBUS_MAX_MSGLEN) throw new BlobDecodeError(`ubus frame: message blob of ${rawLen} bytes exceeds UBUS_MAX_MSGLEN ${UBUS_MAX_MSGLEN}`);
  return rawLen;
}

/**
 * Cuts a byte stream into frames. push() bytes as they arrive, then call
 * next() until it returns null. A bad header (wrong version, oversized
 * length) throws BlobDecodeError: the stream has lost sync and must be closed.
 * Buffered bytes never exceed one maximal frame plus the last chunk pushed.
 */
const SPLITTER_KEEP_BYTES = 65536;

export class FrameSplitter {
  private buf = new Uint8Array(4096);
  private start = 0;
  private end = 0;

  push(chunk: Uint8Array): void {
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start;
      if (live + chunk.length <= this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        let size = this.buf.length;
        while (size < live + chunk.length) size *= 2;
        const next = new Uint8Array(size);
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** The next complete frame (a copy), or null if more bytes are needed. */
  next(): Uint8Array | null {
    const have = this.end - this.start;
    if (have < UBUS_HEADER_LEN + 4) return null;
    const view = new DataView(this.buf.buffer, this.start, have);
    const total = UBUS_HEADER_LEN + checkHeader(view);
    if (have < total) return null;
    const frame = this.buf.slice(this.start, this.start + total);
    this.start += total;
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
      if (this.buf.length > SPLITTER_KEEP_BYTES) this.buf = new Uint8Array(4096); // give back a large frame's buffer
    }
    return frame;
  }

  /** Bytes received but not yet returned as frames. */
  get buffered(): number {
    return this.end - this.start;
  }
}
