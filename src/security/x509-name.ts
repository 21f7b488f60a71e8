// The identity of a client certificate as Apache ZooKeeper's
// X509AuthenticationProvider names it: the subject as Java's
// X500Principal.getName() prints it (RFC 2253 form). zoonode reads the
// certificate's DER itself instead of Node's display string, so that
// attribute order, multi-valued RDNs, escaping and unusual attribute types
// come out exactly as Java prints them:
//
//   - RDNs in reverse order of the certificate's encoding, joined by ','
//   - attribute values of one RDN joined by '+', in encoding order
//   - keywords only for CN C L ST O OU STREET DC UID; any other attribute as
//     its dotted OID with '#' and the hex of the value's DER encoding
//   - string values (Printable, T61, IA5, General, BMP, UTF8) with
//     , = + < > # ; " \ escaped by a backslash, NUL as \00, and leading or
//     trailing spaces (and CRs) escaped by a backslash; other types as '#'+hex

import {
  DerError, children, child, content, encoding, oid, readDer, expectTag,
  TAG_BMP_STRING, TAG_GENERAL_STRING, TAG_IA5_STRING, TAG_PRINTABLE_STRING, TAG_SEQUENCE, TAG_SET,
  TAG_T61_STRING, TAG_UTF8_STRING, type Der,
} from './der.js';

const rfc2253Keywords = new Map<string, string>([
  ['2.5.4.3', 'CN'], ['2.5.4.6', 'C'], ['2.5.4.7', 'L'], ['2.5.4.8', 'ST'], ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'], ['2.5.4.9', 'STREET'], ['0.9.2342.19200300.100.1.25', 'DC'], ['0.9.2342.19200300.100.1.1', 'UID'],
]);

const escapees = ',=+<>#;"\\';

function decodeString(v: Der): string | null {
  const b = content(v);
  switch (v.tag) {
    case TAG_PRINTABLE_STRING: case TAG_T61_STRING: case TAG_IA5_STRING: case TAG_GENERAL_STRING:
      return b.toString('latin1');
    case TAG_UTF8_STRING:
      return b.toString('utf8');
    case TAG_BMP_STRING: {
      const swapped = Buffer.from(b);
      if (swapped.length % 2 !== 0) throw new DerError('BMPString of odd length');
      swapped.swap16();
      return swapped.toString('utf16le');
    }
    default:
      return null;
  }
}

function escapeValue(s: string): string {
  let esc = '';
  for (const c of s) {
    if (escapees.includes(c)) esc += `\\${c}`;
    else if (c === '\u0000') esc += '\\00';
    else esc += c;
  }
  let lead = 0;
  while (lead < esc.length && (esc[lead] === ' ' || esc[lead] === '\r')) lead++;
  let trail = esc.length - 1;
  while (trail >= 0 && (esc[trail] === ' ' || esc[trail] === '\r')) trail--;
  if (lead === 0 && trail === esc.length - 1) return esc;
  let out = '';
  for (let i = 0; i < esc.length; i++) out += (i < lead || i > trail ? '\\' : '') + esc[i];
  return out;
}

function formatAva(ava: Der): string {
  expectTag(ava, TAG_SEQUENCE, 'AttributeTypeAndValue');
  const type = oid(child(ava, 0, 'AttributeTypeAndValue'));
  const value = child(ava, 1, 'AttributeTypeAndValue');
  const keyword = rfc2253Keywords.get(type);
  const str = keyword === undefined ? null : decodeString(value);
  if (keyword === undefined || str === null) return `${keyword ?? type}=#${encoding(value).toString('hex')}`;
  return `${keyword}=${escapeValue(str)}`;
}

/** A DER Name (SEQUENCE OF RDN) in Java's RFC 2253 form. */
export function formatName(name: Der): string {
  expectTag(name, TAG_SEQUENCE, 'Name');
  const rdns = children(name).map((rdn) => children(expectTag(rdn, TAG_SET, 'RelativeDistinguishedName')).map(formatAva).join('+'));
  return rdns.reverse().join(',');
}

/** The subject of a DER certificate, as X500Principal.getName() prints it. */
export function certificateSubject(certDer: Buffer): string {
  const cert = expectTag(readDer(certDer), TAG_SEQUENCE, 'Certificate');
  const tbs = expectTag(child(cert, 0, 'Certificate'), TAG_SEQUENCE, 'TBSCertificate');
  const fields = children(tbs);
  // [0] version is optional: subject is the 6th field with it, the 5th without.
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = fields[4 + offset];
  if (subject === undefined) throw new DerError('TBSCertificate: no subject');
  return formatName(subject);
}
