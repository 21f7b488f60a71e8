// Record kinds carried by the rings. Every record starts with an 8-byte
// header: u8 kind, u8 flags, u16 reserved, u32 connId (the worker-local id of
// the client connection). The rest is per kind:
//
// worker → sequencer (request ring)
//   REQ_CONNECT  i32 protocolVersion, i64 lastZxidSeen, i32 timeOut, i64 sessionId,
//                i32 passwdLength, passwd, i32 addressLength, address (utf8), i32 port
//                flags: bit0 = client sent the readOnly byte, bit1 = readOnly,
//                bit2 = then i32 count, count × (i32 len, scheme utf8, i32 len, id utf8):
//                ids the connection already proved (a TLS client certificate: x509)
//   REQ_PACKET   the whole client frame: RequestHeader {xid, type} then the request record
//   REQ_TOUCH    (a ping was answered by the worker; the session is alive)
//   REQ_CLOSED   (the socket is gone; the session lives on until it expires)
//
// sequencer → worker (reply ring)
//   REP_CONNECTED  i32 timeOut, i64 sessionId, 16-byte passwd, i64 last applied zxid
//   REP_REFUSED    flags: bit0 = answer with an invalid-session ConnectResponse
//                  before closing (otherwise close without a reply)
//   REP_FRAME      u32 totalLength, then the first bytes of a reply frame body
//                  (ReplyHeader + record); the worker prefixes totalLength
//   REP_FRAME_CONT more bytes of the frame started by the last REP_FRAME for this connId
//   REP_CLOSE      close the connection once queued output is flushed
//                  flags: reason (CloseReason)

export const MSG_HEADER_BYTES = 8;

export const REQ_CONNECT = 1;
export const REQ_PACKET = 2;
export const REQ_TOUCH = 3;
export const REQ_CLOSED = 4;

export const REP_CONNECTED = 1;
export const REP_REFUSED = 2;
export const REP_FRAME = 3;
export const REP_FRAME_CONT = 4;
export const REP_CLOSE = 5;

export const CONNECT_FLAG_HAS_READONLY = 1;
export const CONNECT_FLAG_READONLY = 2;
export const CONNECT_FLAG_AUTH_IDS = 4;
export const REFUSED_FLAG_SEND_INVALID = 1;

export const CloseReason = {
  sessionClosed: 1,
  sessionExpired: 2,
  sessionReconnected: 3,
  serverShutdown: 4,
  authFailed: 5,
} as const;

/** REP_FRAME payloads are split into fragments of at most this many bytes. */
export const FRAME_FRAGMENT_MAX = 1 << 16;

export function writeMsgHeader(view: DataView, at: number, kind: number, flags: number, connId: number): void {
  view.setUint8(at, kind);
  view.setUint8(at + 1, flags);
  view.setUint16(at + 2, 0);
  view.setUint32(at + 4, connId);
}
