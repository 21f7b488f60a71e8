// ACL semantics: validating the ACL a client sends (Apache's fixupACL) and
// checking a permission against a node's ACL for a connection's
// authenticated ids (Apache's checkACL). Schemes: world (anyone), auth
// (expands to the connection's authenticated ids), digest (user:base64 sha1),
// ip (address or CIDR), super (the superDigest user).

import crypto from 'node:crypto';
import type { ACL, Id, RequestACL } from '../jute/records.js';
import { Err, KeeperError } from '../jute/errors.js';
import { JuteError } from '../jute/reader.js';

/** Authenticated ids of a connection; `ip` is always present. */
export type AuthInfo = Id[];

export interface AclPolicy {
  skipACL: boolean;
  /** 'super:<base64 sha1>' as configured by DigestAuthenticationProvider.superDigest, or null. */
  superDigest: string | null;
  /**
   * Schemes with a registered provider beyond ip and digest: x509 (TLS
   * configured) and sasl (an authProvider line). ACL ids of other schemes are
   * INVALIDACL, as in Apache. Absent: ip and digest only.
   */
  schemes?: ReadonlySet<string>;
  /** letAnySaslUserDoX: the sasl ACL id that any SASL-authenticated connection matches. */
  letAnySaslUserDoX?: string | null;
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

interface IpRange { bytes: number[]; bits: number }

/** Java's Integer.parseInt for the decimal digits Apache's ip provider accepts ("+8", "007"). */
function javaParseInt(s: string): number | null {
  if (!/^[+-]?[0-9]+$/.test(s)) return null;
  const v = Number(s);
  return v >= -2147483648 && v <= 2147483647 ? v : null;
}

/**
 * An IPv4 address as Apache 3.8's ip provider reads it: four dot-separated
 * parts, each Java-parsed and 0..255. IPv6 ids are not supported by Apache
 * 3.8 (INVALIDACL), so not here either.
 */
function ipv4Bytes(addr: string): number[] | null {
  const parts = addr.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    const v = javaParseInt(p);
    if (v === null || v < 0 || v > 255) return null;
    out.push(v);
  }
  return out;
}

function parseIpRange(spec: string): IpRange | null {
  const slash = spec.indexOf('/');
  const bytes = ipv4Bytes(slash < 0 ? spec : spec.slice(0, slash));
  if (bytes === null) return null;
  let bits = 32;
  if (slash >= 0) {
    const b = javaParseInt(spec.slice(slash + 1));
    if (b === null || b < 0 || b > 32) return null;
    bits = b;
  }
  return { bytes, bits };
}

/** The address Java reports for a client: an IPv4-mapped IPv6 address is its IPv4 form. */
export function clientIpId(remoteAddress: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  return m ? m[1]! : remoteAddress;
}

function ipMatches(clientAddr: string, spec: string): boolean {
  const range = parseIpRange(spec);
  const client = ipv4Bytes(clientIpId(clientAddr));
  if (range === null || client === null) return false;
  let bits = range.bits;
  for (let i = 0; i < 4 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((client[i]! & mask) !== (range.bytes[i]! & mask)) return false;
  }
  return true;
}

const noProviders: AclPolicy = { skipACL: false, superDigest: null };

/**
 * Whether an id of a scheme with a provider (hasProvider) is well formed:
 * x509 ids must parse as an X.500 name (X500Principal), sasl ids as a
 * Kerberos name (KerberosName: with an '@', of the form a[/b]@c).
 */
function validId(scheme: string, id: string): boolean {
  switch (scheme) {
    case 'digest': return validDigestId(id);
    case 'ip': return parseIpRange(id) !== null;
    case 'x509': return validX500Name(id);
    case 'sasl': return !id.includes('@') || /^[^/@]*(\/[^/@]*)?@[^/@]*$/.test(id);
    default: return false;
  }
}

/** Roughly what X500Principal accepts: comma- or semicolon-separated type=value pairs (an empty name is valid). */
function validX500Name(id: string): boolean {
  if (id.trim() === '') return true;
  const parts = id.split(/(?<!\\)[,;+]/);
  return parts.every((p) => /^\s*([A-Za-z][A-Za-z0-9-]*|\d+(\.\d+)+)\s*=/.test(p));
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
 *
 * A request's scheme or id may be a null string (kazoo sends '' that way).
 * Apache's answers for those come from Java's null handling: a null scheme
 * is INVALIDACL; `auth` ignores its id; a null id where Apache compares or
 * parses it (world, a scheme with a provider, or the duplicate check
 * against an earlier entry with the same perms) throws inside the server,
 * which makes the whole request a MARSHALLINGERROR, a multi included. That
 * last case is thrown here as a JuteError.
 */
export function fixupACL(path: string, authInfo: AuthInfo, acls: readonly RequestACL[] | null, policy: AclPolicy = noProviders): ACL[] {
  if (acls === null || acls.length === 0) throw new KeeperError(Err.INVALIDACL, path);
  const uniq: RequestACL[] = [];
  for (const a of acls) {
    if (!uniq.some((u) => sameACL(a, u))) uniq.push(a);
  }
  const out: ACL[] = [];
  for (const a of uniq) {
    const { scheme, id } = a.id;
    if (scheme === null) throw new KeeperError(Err.INVALIDACL, path);
    if (scheme === 'world' && nonNull(id) === 'anyone') {
      out.push({ perms: a.perms, id: { scheme, id: 'anyone' } });
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
      if (!hasProvider(policy, scheme)) throw new KeeperError(Err.INVALIDACL, path);
      const valid = nonNull(id);
      if (!validId(scheme, valid)) throw new KeeperError(Err.INVALIDACL, path);
      out.push({ perms: a.perms, id: { scheme, id: valid } });
    }
  }
  return out;
}

/** Java's ACL.equals(earlier) as Apache's duplicate check calls it: a null scheme or id of `a` it reaches throws. */
function sameACL(a: RequestACL, earlier: RequestACL): boolean {
  if (a.perms !== earlier.perms) return false;
  if (nonNull(a.id.scheme) !== earlier.id.scheme) return false;
  return nonNull(a.id.id) === earlier.id.id;
}

/** A string Apache would call a method on: null there is its NullPointerException, a MARSHALLINGERROR. */
function nonNull(s: string | null): string {
  if (s === null) throw new JuteError('null string in an ACL id');
  return s;
}

/** Schemes with a server-side authentication provider (Apache's ProviderRegistry). */
function hasProvider(policy: AclPolicy, scheme: string): boolean {
  return scheme === 'digest' || scheme === 'ip' || ((scheme === 'x509' || scheme === 'sasl') && policy.schemes?.has(scheme) === true);
}

/**
 * Throws NOAUTH unless one of the connection's ids is granted `perm` by the
 * ACL. The super user and skipACL pass everything; an empty ACL passes.
 */
export function checkACL(policy: AclPolicy, acl: readonly ACL[], perm: number, authInfo: AuthInfo, path?: string): void {
  if (!permitted(policy, acl, perm, authInfo)) throw new KeeperError(Err.NOAUTH, path);
}

/** checkACL's test without the throw: whether the connection's ids are granted `perm`. */
export function permitted(policy: AclPolicy, acl: readonly ACL[], perm: number, authInfo: AuthInfo): boolean {
  if (policy.skipACL) return true;
  if (isSuper(policy, authInfo)) return true;
  if (acl.length === 0) return true;
  for (const a of acl) {
    if ((a.perms & perm) === 0) continue;
    const { scheme, id } = a.id;
    if (scheme === 'world' && id === 'anyone') return true;
    for (const cid of authInfo) {
      if (cid.scheme !== scheme) continue;
      if (scheme === 'ip' ? ipMatches(cid.id, id) : cid.id === id) return true;
      // Apache's SASLAuthenticationProvider.matches: the SASL user 'super', and letAnySaslUserDoX.
      if (scheme === 'sasl' && (cid.id === 'super' || (policy.letAnySaslUserDoX != null && id === policy.letAnySaslUserDoX))) return true;
    }
  }
  return false;
}

export function isSuper(policy: AclPolicy, authInfo: AuthInfo): boolean {
  for (const cid of authInfo) if (cid.scheme === 'super') return true;
  return false;
}

/**
 * Handle an addauth packet. Returns the ids to add, or null when the scheme
 * has no provider or the provider refuses (AUTHFAILED). Apache's providers:
 * `ip` ignores the credentials and adds the client's address (which the
 * connection already has); `digest` needs credentials (a null buffer fails)
 * and, with the superDigest's credentials, also grants super.
 */
export function authenticate(policy: AclPolicy, scheme: string, auth: Uint8Array | null, clientAddress: string | null = null): Id[] | null {
  if (scheme === 'ip') return clientAddress === null ? null : [{ scheme: 'ip', id: clientIpId(clientAddress) }];
  if (scheme !== 'digest' || auth === null) return null;
  const text = Buffer.from(auth).toString('utf8');
  const id = digestId(text);
  const out: Id[] = [];
  if (policy.superDigest !== null && id === policy.superDigest) out.push({ scheme: 'super', id: '' });
  out.push({ scheme: 'digest', id });
  return out;
}
