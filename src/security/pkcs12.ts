// Reads the certificates out of a PKCS#12 file (RFC 7292), for trust stores:
// Node's `pfx` option insists on a private key, and a Java trust store made
// by `keytool -importcert -storetype PKCS12` (or `openssl pkcs12 -export
// -nokeys`) has none. Private keys are left to Node (`pfx` + `passphrase`).
//
//   PFX            := SEQ { version 3, authSafe ContentInfo(data), macData? }
//   AuthSafe       := SEQ OF ContentInfo (data | encryptedData)
//   SafeContents   := SEQ OF SafeBag { bagId, [0] bagValue, attributes? }
//   certBag        := SEQ { x509Certificate, [0] OCTET STRING (the DER certificate) }
//
// The MAC is checked first (a wrong password is "wrong password", not a
// decryption error). Encryption: PBES2 (PBKDF2 + AES-CBC or 3DES, what
// OpenSSL 3 and Java 17 write) and the PKCS#12 PBE with SHA-1 and 3DES
// (older files). RC2 (OpenSSL 1.x's default for certificates) needs the
// legacy provider Node does not load: the error says how to re-export.

import crypto from 'node:crypto';
import {
  DerError, children, child, content, oid, readDer, smallInt, expectTag,
  TAG_OCTET_STRING, TAG_SEQUENCE, type Der,
} from './der.js';

export class Pkcs12Error extends Error {
  override name = 'Pkcs12Error';
}

const OID_DATA = '1.2.840.113549.1.7.1';
const OID_ENCRYPTED_DATA = '1.2.840.113549.1.7.6';
const OID_CERT_BAG = '1.2.840.113549.1.12.10.1.3';
const OID_X509_CERT = '1.2.840.113549.1.9.22.1';
const OID_PBES2 = '1.2.840.113549.1.5.13';
const OID_PBKDF2 = '1.2.840.113549.1.5.12';
const OID_PBE_SHA1_3DES = '1.2.840.113549.1.12.1.3';
const OID_PBE_SHA1_RC2_128 = '1.2.840.113549.1.12.1.5';
const OID_PBE_SHA1_RC2_40 = '1.2.840.113549.1.12.1.6';

const digests = new Map<string, { name: string; u: number; v: number }>([
  ['1.3.14.3.2.26', { name: 'sha1', u: 20, v: 64 }],
  ['2.16.840.1.101.3.4.2.1', { name: 'sha256', u: 32, v: 64 }],
  ['2.16.840.1.101.3.4.2.2', { name: 'sha384', u: 48, v: 128 }],
  ['2.16.840.1.101.3.4.2.3', { name: 'sha512', u: 64, v: 128 }],
]);
const hmacPrfs = new Map<string, string>([
  ['1.2.840.113549.2.7', 'sha1'], ['1.2.840.113549.2.9', 'sha256'], ['1.2.840.113549.2.10', 'sha384'],
  ['1.2.840.113549.2.11', 'sha512'],
]);
const ciphers = new Map<string, { name: string; keyLength: number }>([
  ['2.16.840.1.101.3.4.1.2', { name: 'aes-128-cbc', keyLength: 16 }],
  ['2.16.840.1.101.3.4.1.22', { name: 'aes-192-cbc', keyLength: 24 }],
  ['2.16.840.1.101.3.4.1.42', { name: 'aes-256-cbc', keyLength: 32 }],
  ['1.2.840.113549.3.7', { name: 'des-ede3-cbc', keyLength: 24 }],
]);

/** PKCS#12 passwords for the MAC and the old PBE schemes: BMPString with a trailing NUL. */
function bmpPassword(password: string): Buffer {
  const b = Buffer.alloc((password.length + 1) * 2);
  for (let i = 0; i < password.length; i++) b.writeUInt16BE(password.charCodeAt(i), i * 2);
  return b;
}

/** RFC 7292 Appendix B.2: derive n bytes for purpose id (1 key, 2 IV, 3 MAC key). */
export function pkcs12Kdf(hash: { name: string; u: number; v: number }, password: Buffer, salt: Buffer,
  iterations: number, id: number, n: number): Buffer {
  const { v, u } = hash;
  const fill = (src: Buffer): Buffer => {
    if (src.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(password)]);
  const out = Buffer.alloc(n);
  for (let off = 0; off < n; off += u) {
    let A = crypto.createHash(hash.name).update(D).update(I).digest();
    for (let i = 1; i < iterations; i++) A = crypto.createHash(hash.name).update(A).digest();
    A.copy(out, off, 0, Math.min(u, n - off));
    const B = Buffer.alloc(v);
    for (let i = 0; i < v; i++) B[i] = A[i % u]!;
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const s = I[j + k]! + B[k]! + carry;
        I[j + k] = s & 0xff;
        carry = s >> 8;
      }
    }
  }
  return out;
}

function decrypt(alg: Der, data: Buffer, password: string): Buffer {
  const algOid = oid(child(alg, 0, 'AlgorithmIdentifier'));
  const params = child(alg, 1, 'AlgorithmIdentifier');
  try {
    if (algOid === OID_PBES2) {
      const kdf = child(params, 0, 'PBES2 parameters');
      const enc = child(params, 1, 'PBES2 parameters');
      if (oid(child(kdf, 0, 'PBES2 kdf')) !== OID_PBKDF2) throw new Pkcs12Error('PBES2 with a key derivation other than PBKDF2');
      const kp = children(child(kdf, 1, 'PBKDF2 parameters'));
      const salt = content(expectTag(kp[0]!, TAG_OCTET_STRING, 'PBKDF2 salt'));
      const iterations = smallInt(kp[1]!);
      let prf = 'sha1';
      for (const extra of kp.slice(2)) {
        if (extra.tag === TAG_SEQUENCE) {
          const p = hmacPrfs.get(oid(child(extra, 0, 'PBKDF2 prf')));
          if (p === undefined) throw new Pkcs12Error('PBKDF2 with an unsupported pseudo-random function');
          prf = p;
        }
      }
      const cipher = ciphers.get(oid(child(enc, 0, 'PBES2 cipher')));
      if (cipher === undefined) throw new Pkcs12Error('PBES2 with an unsupported cipher');
      const iv = content(expectTag(child(enc, 1, 'PBES2 cipher'), TAG_OCTET_STRING, 'cipher IV'));
      const key = crypto.pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, cipher.keyLength, prf);
      const d = crypto.createDecipheriv(cipher.name, key, iv);
      return Buffer.concat([d.update(data), d.final()]);
    }
    if (algOid === OID_PBE_SHA1_3DES || algOid === OID_PBE_SHA1_RC2_128 || algOid === OID_PBE_SHA1_RC2_40) {
      const salt = content(expectTag(child(params, 0, 'PBE parameters'), TAG_OCTET_STRING, 'PBE salt'));
      const iterations = smallInt(child(params, 1, 'PBE parameters'));
      const sha1 = digests.get('1.3.14.3.2.26')!;
      const pw = bmpPassword(password);
      const [name, keyLength] = algOid === OID_PBE_SHA1_3DES ? ['des-ede3-cbc', 24]
        : algOid === OID_PBE_SHA1_RC2_128 ? ['rc2-cbc', 16] : ['rc2-40-cbc', 5];
      const key = pkcs12Kdf(sha1, pw, salt, iterations, 1, keyLength as number);
      const iv = pkcs12Kdf(sha1, pw, salt, iterations, 2, 8);
      let d: crypto.Decipher;
      try {
        d = crypto.createDecipheriv(name as string, key, iv);
      } catch {
        throw new Pkcs12Error('it is encrypted with RC2, which this Node.js build does not provide; re-export it, ' +
          'e.g. openssl pkcs12 -export -nokeys -certpbe AES-256-CBC -in ca.pem -out truststore.p12');
      }
      return Buffer.concat([d.update(data), d.final()]);
    }
  } catch (e) {
    if (e instanceof Pkcs12Error || e instanceof DerError) throw e;
    throw new Pkcs12Error(`cannot decrypt it (${(e as Error).message}); is the password right?`);
  }
  throw new Pkcs12Error(`it uses an unsupported encryption (${algOid})`);
}

function verifyMac(macData: Der, authSafe: Buffer, password: string): void {
  const parts = children(macData);
  const digestInfo = parts[0]!;
  const algOid = oid(child(child(digestInfo, 0, 'DigestInfo'), 0, 'AlgorithmIdentifier'));
  const expected = content(child(digestInfo, 1, 'DigestInfo'));
  const salt = content(expectTag(parts[1]!, TAG_OCTET_STRING, 'MAC salt'));
  const iterations = parts[2] === undefined ? 1 : smallInt(parts[2]);
  const hash = digests.get(algOid);
  if (hash === undefined) throw new Pkcs12Error(`its integrity check uses an unsupported digest (${algOid})`);
  const check = (pw: Buffer): boolean => {
    const key = pkcs12Kdf(hash, pw, salt, iterations, 3, hash.u);
    const mac = crypto.createHmac(hash.name, key).update(authSafe).digest();
    return mac.length === expected.length && crypto.timingSafeEqual(mac, expected);
  };
  // An empty password is encoded as two NUL bytes, or (some writers) as nothing at all.
  if (check(bmpPassword(password)) || (password === '' && check(Buffer.alloc(0)))) return;
  throw new Pkcs12Error('wrong password (the integrity check failed)');
}

function certsFromSafeContents(safe: Buffer, out: Buffer[]): void {
  const bags = expectTag(readDer(safe), TAG_SEQUENCE, 'SafeContents');
  for (const bag of children(bags)) {
    if (oid(child(bag, 0, 'SafeBag')) !== OID_CERT_BAG) continue;
    const certBag = child(child(bag, 1, 'SafeBag'), 0, 'CertBag');
    if (oid(child(certBag, 0, 'CertBag')) !== OID_X509_CERT) continue;
    const value = child(child(certBag, 1, 'CertBag'), 0, 'CertBag value');
    out.push(Buffer.from(content(expectTag(value, TAG_OCTET_STRING, 'certificate'))));
  }
}

/** The DER certificates in a PKCS#12 file. Throws Pkcs12Error with a reason a person can act on. */
export function pkcs12Certificates(file: Buffer, password: string): Buffer[] {
  try {
    const pfx = expectTag(readDer(file), TAG_SEQUENCE, 'PFX');
    const parts = children(pfx);
    if (parts.length < 2 || smallInt(parts[0]!) !== 3) throw new Pkcs12Error('not a PKCS#12 (version 3) file');
    const authSafeInfo = parts[1]!;
    if (oid(child(authSafeInfo, 0, 'ContentInfo')) !== OID_DATA) throw new Pkcs12Error('public-key integrity mode is not supported');
    const authSafe = content(expectTag(child(child(authSafeInfo, 1, 'ContentInfo'), 0, 'ContentInfo'), TAG_OCTET_STRING, 'authSafe'));
    if (parts[2] !== undefined) verifyMac(parts[2], authSafe, password);
    const out: Buffer[] = [];
    for (const ci of children(expectTag(readDer(authSafe), TAG_SEQUENCE, 'AuthenticatedSafe'))) {
      const type = oid(child(ci, 0, 'ContentInfo'));
      const body = child(child(ci, 1, 'ContentInfo'), 0, 'ContentInfo');
      if (type === OID_DATA) {
        certsFromSafeContents(content(expectTag(body, TAG_OCTET_STRING, 'data')), out);
      } else if (type === OID_ENCRYPTED_DATA) {
        const eci = child(body, 1, 'EncryptedData');
        const alg = child(eci, 1, 'EncryptedContentInfo');
        const encrypted = child(eci, 2, 'EncryptedContentInfo');
        // [0] IMPLICIT OCTET STRING: primitive (0x80) or, in BER-ish writers, constructed (0xa0).
        const bytes = encrypted.tag === 0x80 ? content(encrypted)
          : Buffer.concat(children(encrypted).map((c) => content(c)));
        certsFromSafeContents(decrypt(alg, bytes, password), out);
      }
    }
    return out;
  } catch (e) {
    if (e instanceof DerError) throw new Pkcs12Error(`not a readable PKCS#12 file (${e.message})`);
    throw e;
  }
}

/** DER certificate → PEM text. */
export function derToPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}
