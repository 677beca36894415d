// The public API of the ubus client: blobmsg codec, frame codec, the sans-I/O
// protocol state machine and the socket client built on it.
export {
  BLOBMSG_TYPE, BLOBMSG_MAX_DEPTH, BlobDecodeError, blobmsgTypeName, decodeAttrs, decodeBlobmsg, decodeBlobmsgNodes,
  decodeBlobmsgTable, encodeAttr, encodeBlobmsg, encodeBlobmsgNode, encodeBlobmsgNodes, encodeBlobmsgTable,
  nodeToValue, nodesToTable, toBlobmsgNode,
} from './blob.ts';
export type { BlobAttr, BlobTable, BlobValue, BlobmsgNode, BlobmsgType } from './blob.ts';
export {
  FrameSplitter, UBUS_ATTR, UBUS_MAX_MSGLEN, UBUS_MSG, UBUS_STATUS, UBUS_SYSTEM_OBJECT_EVENT, decodeMessage,
  encodeMessage, msgTypeName, statusName,
} from './message.ts';
export type { UbusAttrs, UbusMessage } from './message.ts';
export { checkArgs, decodeSignature, encodeSignature, RPC_SESSION_ARG } from './policy.ts';
export type { UbusArgPolicy, UbusArgs, UbusArgType, UbusInvokeContext, UbusMethod, UbusMethods } from './policy.ts';
export { UbusProtocol, MAX_INFLIGHT_INVOKES, MAX_PENDING_REQUESTS } from './protocol.ts';
export type { InvokeOutcome, ObjectEntry, ProtocolEvent } from './protocol.ts';
export { UbusError, UbusStatusError } from './errors.ts';
export {
  UbusClient, UBUS_DEFAULT_SOCKET, UBUS_DEFAULT_TIMEOUT_MS, RECONNECT_MAX_MS, RECONNECT_MIN_MS,
} from './client.ts';
export type { UbusClientOptions, UbusListener, UbusObjectHandle, UbusObjectInfo, UbusPlatform } from './client.ts';
