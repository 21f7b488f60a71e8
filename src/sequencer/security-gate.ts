// The sequencer's side of authentication and auditing, kept out of the
// request pipeline proper:
//
//   - ids a connection proved before its handshake (x509 from its TLS
//     certificate) join its auth info when its ConnectRequest arrives;
//   - SASL (opcode 102): one DIGEST-MD5 exchange per connection, answered at
//     once like Apache's processSasl (not queued behind the session's writes);
//     success adds sasl:<user> (and super for a superUser);
//   - enforcement (enforce.auth.*, sessionRequireClientSASLAuth): any request
//     but auth and sasl from a connection without an id of an enforced scheme
//     is answered SESSIONCLOSEDREQUIRESASLAUTH and the connection closes, as
//     Apache's AuthenticationHelper does;
//   - the audit log: writes as Apache's AuditHelper logs them (request path
//     and create mode taken when the request arrives), ephemeral nodes
//     deleted with their session, and authentication events.

import { Logger } from '../util/log.js';
import { hex64 } from '../util/long.js';
import { Reader, JuteError } from '../jute/reader.js';
import { OpCode } from '../jute/opcodes.js';
import { Err } from '../jute/errors.js';
import {
  readCreate, readMultiRequest, readPathVersion, readSetACL, readSetData, type ACL, type Id, type RequestACL,
} from '../jute/records.js';
import type { ApplyResult } from '../tree/data-tree.js';
import { DigestMd5Server, SaslError } from '../security/digest-md5.js';
import { AuditLog, AuditOp, auditUsers, javaHostAddress, type AuditEvent, type AuditResult } from '../security/audit-log.js';
import type { SecuritySettings } from '../security/settings.js';
import type { Conn } from './session.js';

const log = new Logger('auth');

/** What the audit log needs of a write request, taken before prep consumes it. */
export interface AuditInfo {
  path: string | null;
  createMode: string | null;
  acl: string | null;
  /** multi: create mode by the create's requested path. */
  createModes: Map<string, string> | null;
}

/** Apache's CreateMode.toString().toLowerCase() for a flag. */
const createModeNames = ['persistent', 'ephemeral', 'persistent_sequential', 'ephemeral_sequential', 'container',
  'persistent_with_ttl', 'persistent_sequential_with_ttl'];

/** ZKUtil.aclToString: scheme:id:perms for each, with no separator between entries (as Apache writes it). */
export function aclToString(acl: readonly (ACL | RequestACL)[] | null): string {
  if (acl === null) return '';
  let s = '';
  for (const a of acl) {
    let p = '';
    if (a.perms & 4) p += 'c';
    if (a.perms & 8) p += 'd';
    if (a.perms & 1) p += 'r';
    if (a.perms & 2) p += 'w';
    if (a.perms & 16) p += 'a';
    s += `${a.id.scheme}:${a.id.id}:${p}`;
  }
  return s;
}

export interface SaslOutcome {
  /** Error code for the reply header (OK, AUTHFAILED or SESSIONCLOSEDREQUIRESASLAUTH). */
  err: number;
  /** SetSASLResponse token (null: a null buffer). */
  token: Buffer | null;
  /** Close the connection after the reply. */
  close: boolean;
}

export class SecurityGate {
  readonly audit: AuditLog | null;
  private readonly enforce: readonly string[] | null;

  constructor(readonly settings: SecuritySettings | null, audit: AuditLog | null) {
    this.audit = audit;
    this.enforce = settings?.enforceSchemes ?? null;
  }

  get enforced(): boolean {
    return this.enforce !== null;
  }

  /** False when enforcement is on and the connection has no id of an enforced scheme. */
  mayProceed(conn: Conn): boolean {
    const e = this.enforce;
    if (e === null) return true;
    for (const id of conn.authInfo) if (e.includes(id.scheme)) return true;
    log.warn(`${conn.address}:${conn.port} session 0x${sessionHex(conn)}: authenticated with ` +
      `[${conn.authInfo.map((i) => i.scheme).join(', ')}], not with ${e.join(' or ')} as required; closing the connection`);
    this.auditAuth(conn, 'authRequired', 'failure');
    return false;
  }

  /** Ids proved before the handshake (the TLS client certificate). */
  connectIds(conn: Conn, ids: readonly Id[]): void {
    for (const id of ids) conn.addAuth(id);
    if (ids.some((i) => i.scheme === 'x509')) this.auditAuth(conn, 'auth:x509', 'success');
  }

  /** addauth x509: succeeds (adding nothing new) only on a connection whose certificate was verified. */
  x509Ids(conn: Conn): Id[] | null {
    const ids = conn.authInfo.filter((i) => i.scheme === 'x509');
    return ids.length > 0 ? ids : null;
  }

  /** One SASL token from the client. */
  sasl(conn: Conn, token: Uint8Array | null): SaslOutcome {
    const s = this.settings;
    if (s === null || s.sasl === null) {
      // Apache without a JAAS Server section: no SASL server, answered OK with a null token.
      log.warn(`SASL packet from ${conn.address}:${conn.port} but SASL is not configured (java.security.auth.login.config)`);
      return { err: Err.OK, token: null, close: false };
    }
    if (conn.saslServer === null) {
      conn.saslServer = new DigestMd5Server({ users: s.sasl.users, superPassword: s.sasl.superPassword });
    }
    const server = conn.saslServer as DigestMd5Server;
    try {
      const out = server.evaluate(token ?? new Uint8Array(0));
      if (server.complete) {
        const id = server.authorizationId!;
        log.info(`session 0x${sessionHex(conn)}: SASL authenticated ${conn.address}:${conn.port} as sasl:${id}`);
        this.addId(conn, { scheme: 'sasl', id });
        if (s.saslSuperUsers.includes(id)) {
          this.addId(conn, { scheme: 'super', id: '' });
          log.info(`session 0x${sessionHex(conn)}: authenticated id '${id}' as super user`);
        }
        this.auditAuth(conn, 'auth:sasl', 'success');
      }
      return { err: Err.OK, token: out, close: false };
    } catch (e) {
      if (!(e instanceof SaslError)) throw e;
      log.warn(`client ${conn.address}:${conn.port} failed to SASL authenticate` +
        `${server.username !== null ? ` as '${server.username}'` : ''}: ${e.message}`);
      this.auditAuth(conn, 'auth:sasl', 'failure', server.username);
      if (s.allowSaslFailedClients && !s.saslRequired) {
        log.warn('keeping the connection despite the SASL failure (allowSaslFailedClients)');
        return { err: Err.OK, token: null, close: false };
      }
      return { err: s.saslRequired ? Err.SESSIONCLOSEDREQUIRESASLAUTH : Err.AUTHFAILED, token: null, close: true };
    }
  }

  private addId(conn: Conn, id: Id): void {
    conn.addAuth(id);
  }

  // ---- audit --------------------------------------------------------------------

  /**
   * An authentication event (zoonode's addition to Apache's audit log):
   * operation auth:<scheme> for addauth, SASL and certificates, authRequired
   * for a request refused by enforcement. `user` on a failure is the name
   * the client tried, when known.
   */
  auditAuth(conn: Conn, operation: string, result: AuditResult, user: string | null = null): void {
    if (this.audit === null) return;
    this.audit.write({
      session: conn.session === null ? undefined : `0x${hex64(conn.session.id)}`,
      user: user ?? auditUsers(conn.authInfo),
      ip: javaHostAddress(conn.address),
      operation,
    }, result);
  }

  /** Reads what the audit log needs of a write request (only when auditing); null for ops Apache does not audit. */
  auditInfo(type: number, r: Reader): AuditInfo | null {
    if (this.audit === null) return null;
    const cursor = new Reader(r.buf, r.pos, r.end);
    try {
      switch (type) {
        case OpCode.create: case OpCode.create2: case OpCode.createContainer: {
          const c = readCreate(cursor, false);
          return { path: c.path, createMode: createModeNames[c.flags] ?? null, acl: null, createModes: null };
        }
        case OpCode.delete: case OpCode.deleteContainer:
          return { path: readPathVersion(cursor).path, createMode: null, acl: null, createModes: null };
        case OpCode.setData:
          return { path: readSetData(cursor).path, createMode: null, acl: null, createModes: null };
        case OpCode.setACL: {
          const a = readSetACL(cursor);
          return { path: a.path, createMode: null, acl: aclToString(a.acl), createModes: null };
        }
        case OpCode.multi: {
          const modes = new Map<string, string>();
          for (const op of readMultiRequest(cursor)) {
            if (op.type === OpCode.create || op.type === OpCode.create2 || op.type === OpCode.createContainer) {
              const m = createModeNames[op.req.flags];
              if (m !== undefined) modes.set(op.req.path, m);
            }
          }
          return { path: null, createMode: null, acl: null, createModes: modes };
        }
        case OpCode.reconfig:
          return { path: null, createMode: null, acl: null, createModes: null };
        default:
          return null;
      }
    } catch (e) {
      if (e instanceof JuteError) return { path: null, createMode: null, acl: null, createModes: null };
      throw e;
    }
  }

  /**
   * A client write was applied (or refused: `failedTxn`, an error txn), as
   * Apache's AuditHelper.addAuditLog logs it.
   */
  auditWrite(conn: Conn, requestType: number, info: AuditInfo, rc: ApplyResult | null, failedTxn: boolean): void {
    if (this.audit === null) return;
    const base: AuditEvent = {
      session: conn.session === null ? '0x0' : `0x${hex64(conn.session.id)}`,
      user: auditUsers(conn.authInfo),
      ip: javaHostAddress(conn.address),
      operation: '',
    };
    const result: AuditResult = failedTxn || rc === null || rc.err !== 0 ? 'failure' : 'success';
    const path = failedTxn || rc === null ? info.path : rc.path;
    switch (requestType) {
      case OpCode.create: case OpCode.create2: case OpCode.createContainer:
        this.audit.write({ ...base, operation: AuditOp.create, znode: path, znodeType: info.createMode }, result);
        return;
      case OpCode.delete: case OpCode.deleteContainer:
        this.audit.write({ ...base, operation: AuditOp.delete, znode: path }, result);
        return;
      case OpCode.setData:
        this.audit.write({ ...base, operation: AuditOp.setData, znode: path }, result);
        return;
      case OpCode.setACL:
        this.audit.write({ ...base, operation: AuditOp.setAcl, znode: path, acl: info.acl }, result);
        return;
      case OpCode.reconfig:
        this.audit.write({ ...base, operation: AuditOp.reconfig, znode: path }, result);
        return;
      case OpCode.multi: {
        if (failedTxn || rc === null || rc.multi === null) {
          this.audit.write({ ...base, operation: AuditOp.multi }, 'failure');
          return;
        }
        let failed = false;
        for (const sub of rc.multi) {
          switch (sub.type) {
            case OpCode.create: case OpCode.create2: case OpCode.createTTL: case OpCode.createContainer:
              this.audit.write({ ...base, operation: AuditOp.create, znode: sub.path,
                znodeType: sub.path === null ? null : info.createModes?.get(sub.path) ?? null }, 'success');
              break;
            case OpCode.delete: case OpCode.deleteContainer:
              this.audit.write({ ...base, operation: AuditOp.delete, znode: sub.path }, 'success');
              break;
            case OpCode.setData:
              this.audit.write({ ...base, operation: AuditOp.setData, znode: sub.path }, 'success');
              break;
            case OpCode.error:
              failed = true;
              break;
            default:
              break;
          }
        }
        if (failed) this.audit.write({ ...base, operation: AuditOp.multi }, 'failure');
        return;
      }
      default:
        return;
    }
  }

  /** Ephemeral nodes deleted because their session closed or expired (a system operation). */
  auditEphemerals(sessionId: bigint, paths: readonly string[], deleted: (path: string) => boolean): void {
    if (this.audit === null) return;
    const session = `0x${hex64(sessionId)}`;
    for (const p of paths) {
      this.audit.write({ session, user: this.audit.serverUser, operation: AuditOp.ephemeralDeleted, znode: p },
        deleted(p) ? 'success' : 'failure');
    }
  }

  auditServer(operation: 'serverStart' | 'serverStop'): void {
    this.audit?.write({ user: this.audit.serverUser, operation }, operation === 'serverStart' ? 'success' : 'invoked');
  }
}

function sessionHex(conn: Conn): string {
  return conn.session === null ? '0' : hex64(conn.session.id);
}
