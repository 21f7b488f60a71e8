// ACL semantics: validating the ACL a client sends (Apache's fixupACL) and
// checking a permission against a node's ACL for a connection's
// authenticated ids (Apache's checkACL). Schemes: world (anyone), auth
// (expands to the connection's authenticated ids), digest (user:base64 sha1),
// ip (address or CIDR), super (the superDigest user).

import crypto from 'node:crypto';
import net from 'node:net';
import type { ACL, Id } from '../jute/records.js';
import { Err, KeeperError } from '../jute/errors.js';

/** Authenticated ids of a connection; `ip` is always present. */
export type AuthInfo = Id[];

export interface AclPolicy {
  skipACL: boolean;
  /** 'super:<base64 sha1>' as configured by DigestAuthenticationProvider.superDigest, or null. */
  superDigest: string | null;
}

/** digest scheme id for user:password: user:base64(sha1(user:password)). */
export function digestId(userPassword: string): string {
  const colon = userPassword.indexOf(':');
  const user = colon < 0 ? userPassword : userPassword.slice(0, colon);
  return `${user}:${crypto.createHash('sha1').update(userPassword, 'utf8').digest('base64')}`;
}

function validDigestId(id: string): boolean {
  // Apache: id.split(":").length == 2 (Java drops trailing empty strings).
  const parts = id.split(':');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.length === 2;
}

interface IpRange { bytes: Buffer; bits: number }

function parseIpRange(spec: string): IpRange | null {
  const slash = spec.indexOf('/');
  const addr = slash < 0 ? spec : spec.slice(0, slash);
  const kind = net.isIP(addr);
  if (kind === 0) return null;
  const bytes = ipBytes(addr);
  if (bytes === null) return null;
  let bits = bytes.length * 8;
  if (slash >= 0) {
    const b = spec.slice(slash + 1);
    if (!/^\d+$/.test(b)) return null;
    bits = Number(b);
    if (bits < 0 || bits > bytes.length * 8) return null;
  }
  return { bytes, bits };
}

function ipBytes(addr: string): Buffer | null {
  if (net.isIPv4(addr)) return Buffer.from(addr.split('.').map(Number));
  if (!net.isIPv6(addr)) return null;
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  if (v4) return Buffer.from(v4[1]!.split('.').map(Number));
  const [head, tail] = addr.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) return null;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function ipMatches(clientAddr: string, spec: string): boolean {
  const range = parseIpRange(spec);
  const client = ipBytes(clientAddr);
  if (range === null || client === null || client.length !== range.bytes.length) return false;
  let bits = range.bits;
  for (let i = 0; i < client.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((client[i]! & mask) !== (range.bytes[i]! & mask)) return false;
  }
  return true;
}

/** Schemes with a server-side provider, and whether an id of theirs is well formed. */
function validId(scheme: string, id: string): boolean {
  switch (scheme) {
    case 'digest': return validDigestId(id);
    case 'ip': return parseIpRange(id) !== null;
    default: return false;
  }
}

/** Schemes whose ids count as "authenticated" for the auth scheme's expansion. */
function isAuthenticatedScheme(scheme: string): boolean {
  return scheme === 'digest' || scheme === 'x509' || scheme === 'sasl';
}

/**
 * Validate and expand an ACL as Apache's PrepRequestProcessor.fixupACL:
 * duplicates dropped, an empty or null list is INVALIDACL, `auth` expands to
 * the connection's authenticated ids (INVALIDACL without one), other schemes
 * must have a provider that accepts the id.
 */
export function fixupACL(path: string, authInfo: AuthInfo, acls: ACL[] | null): ACL[] {
  if (acls === null || acls.length === 0) throw new KeeperError(Err.INVALIDACL, path);
  const uniq: ACL[] = [];
  for (const a of acls) {
    if (!uniq.some((u) => u.perms === a.perms && u.id.scheme === a.id.scheme && u.id.id === a.id.id)) uniq.push(a);
  }
  const out: ACL[] = [];
  for (const a of uniq) {
    const { scheme, id } = a.id;
    if (scheme === 'world' && id === 'anyone') {
      out.push(a);
    } else if (scheme === 'auth') {
      let any = false;
      for (const cid of authInfo) {
        if (isAuthenticatedScheme(cid.scheme)) {
          any = true;
          out.push({ perms: a.perms, id: cid });
        }
      }
      if (!any) throw new KeeperError(Err.INVALIDACL, path);
    } else {
      if (!validId(scheme, id)) throw new KeeperError(Err.INVALIDACL, path);
      out.push(a);
    }
  }
  return out;
}

/**
 * Throws NOAUTH unless one of the connection's ids is granted `perm` by the
 * ACL. The super user and skipACL pass everything; an empty ACL passes.
 */
export function checkACL(policy: AclPolicy, acl: readonly ACL[], perm: number, authInfo: AuthInfo, path?: string): void {
  if (policy.skipACL) return;
  if (isSuper(policy, authInfo)) return;
  if (acl.length === 0) return;
  for (const a of acl) {
    if ((a.perms & perm) === 0) continue;
    const { scheme, id } = a.id;
    if (scheme === 'world' && id === 'anyone') return;
    for (const cid of authInfo) {
      if (cid.scheme !== scheme) continue;
      if (scheme === 'ip' ? ipMatches(cid.id, id) : cid.id === id) return;
    }
  }
  throw new KeeperError(Err.NOAUTH, path);
}

export function isSuper(policy: AclPolicy, authInfo: AuthInfo): boolean {
  for (const cid of authInfo) if (cid.scheme === 'super') return true;
  return false;
}

/**
 * Handle an addauth packet. Returns the id to add, or null when the scheme
 * has no provider (AUTHFAILED). A digest with the superDigest's credentials
 * also grants super.
 */
export function authenticate(policy: AclPolicy, scheme: string, auth: Uint8Array | null): Id[] | null {
  if (scheme !== 'digest') return null;
  const text = auth === null ? '' : Buffer.from(auth).toString('utf8');
  const id = digestId(text);
  const out: Id[] = [];
  if (policy.superDigest !== null && id === policy.superDigest) out.push({ scheme: 'super', id: '' });
  out.push({ scheme: 'digest', id });
  return out;
}
