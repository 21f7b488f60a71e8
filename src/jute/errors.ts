// KeeperException.Code values as sent in ReplyHeader.err. Older clients hang
// on codes they do not know, so the server only sends codes Apache sends.

export const Err = {
  OK: 0,
  SYSTEMERROR: -1,
  RUNTIMEINCONSISTENCY: -2,
  DATAINCONSISTENCY: -3,
  CONNECTIONLOSS: -4,
  MARSHALLINGERROR: -5,
  UNIMPLEMENTED: -6,
  OPERATIONTIMEOUT: -7,
  BADARGUMENTS: -8,
  NEWCONFIGNOQUORUM: -13,
  RECONFIGINPROGRESS: -14,
  UNKNOWNSESSION: -12,
  APIERROR: -100,
  NONODE: -101,
  NOAUTH: -102,
  BADVERSION: -103,
  NOCHILDRENFOREPHEMERALS: -108,
  NODEEXISTS: -110,
  NOTEMPTY: -111,
  SESSIONEXPIRED: -112,
  INVALIDCALLBACK: -113,
  INVALIDACL: -114,
  AUTHFAILED: -115,
  SESSIONMOVED: -118,
  NOTREADONLY: -119,
  EPHEMERALONLOCALSESSION: -120,
  NOWATCHER: -121,
  REQUESTTIMEOUT: -122,
  RECONFIGDISABLED: -123,
  SESSIONCLOSEDREQUIRESASLAUTH: -124,
  QUOTAEXCEEDED: -125,
  THROTTLEDOP: -127,
} as const;

export type ErrCode = (typeof Err)[keyof typeof Err];

const errNames = new Map<number, string>(Object.entries(Err).map(([k, v]) => [v, k]));
export function errName(code: number): string {
  return errNames.get(code) ?? `UNKNOWN(${code})`;
}

/**
 * Thrown inside request processing to answer with a KeeperException code.
 * It is an answer, not a fault: NODEEXISTS from a lock recipe, NONODE from an
 * exists probe, and every create a replay over a fuzzy snapshot repeats. So it
 * carries no stack trace; capturing one was 3-4 us each, 0.7 s of a restart
 * that replayed 170 k already-applied creates.
 */
export class KeeperError extends Error {
  override name = 'KeeperError';
  constructor(readonly code: number, readonly path?: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`${errName(code)}${path !== undefined ? ` ${path}` : ''}`);
    Error.stackTraceLimit = limit;
  }
}

/**
 * An error reply that still carries a record after the ReplyHeader, where
 * Apache sends one (a multiRead refused mid-way sends its MultiResponse so far).
 */
export class KeeperErrorWithBody extends KeeperError {
  constructor(code: number, readonly bodyBytes: Uint8Array) {
    super(code);
  }
}
