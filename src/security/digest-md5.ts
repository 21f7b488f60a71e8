// The server side of SASL DIGEST-MD5 (RFC 2831) as Apache ZooKeeper runs it
// (Java's DigestMD5Server created with protocol "zookeeper" and server name
// "zk-sasl-md5", no properties):
//
//   client: (empty token)
//   server: realm="zk-sasl-md5",nonce="<40 base64 chars>",charset=utf-8,algorithm=md5-sess
//   client: username="bob",realm="zk-sasl-md5",nonce="...",cnonce="...",nc=00000001,
//           qop=auth,digest-uri="zookeeper/zk-sasl-md5",response=<32 hex>[,charset=utf-8][,authzid="..."]
//   server: rspauth=<32 hex>                      (complete: the connection is sasl:bob)
//
// Only qop=auth (authentication, no security layer) is offered, as Apache's
// server offers it. The authorised id is the authentication id (Apache's
// SaslServerCallbackHandler maps it so, whatever authzid the client asks
// for). Every refusal is a SaslError whose message says why, as Java's do.

import crypto from 'node:crypto';

export class SaslError extends Error {
  override name = 'SaslError';
}

export const digestRealm = 'zk-sasl-md5';
export const digestUri = 'zookeeper/zk-sasl-md5';
/** Java's DigestMD5Server refuses a response longer than this. */
const responseLengthMax = 4096;

const directiveNames = ['realm', 'qop', 'algorithm', 'nonce', 'cnonce', 'nc', 'username', 'digest-uri', 'response',
  'maxbuf', 'charset', 'cipher', 'authzid', 'auth-param'] as const;
type Directive = (typeof directiveNames)[number];

/** Parses `key=value,key="quoted \" value"` as Java's parseDirectives does (keys case-insensitive, at most once each). */
export function parseDirectives(buf: Buffer): Map<Directive, Buffer> {
  const out = new Map<Directive, Buffer>();
  const isLws = (b: number) => b === 13 || b === 10 || b === 32 || b === 9;
  let i = 0;
  const skip = () => { while (i < buf.length && isLws(buf[i]!)) i++; };
  const put = (k: string, v: number[]) => {
    const key = k.toLowerCase() as Directive;
    if (!(directiveNames as readonly string[]).includes(key)) return; // auth-param: ignored
    if (key === 'realm' ? false : out.has(key)) throw new SaslError(`DIGEST-MD5: peer sent more than one ${key} directive`);
    if (!out.has(key)) out.set(key, Buffer.from(v));
  };
  skip();
  while (i < buf.length) {
    let key = '';
    while (i < buf.length && buf[i] !== 0x3d && buf[i] !== 0x2c && !isLws(buf[i]!)) key += String.fromCharCode(buf[i++]!);
    skip();
    if (i < buf.length && buf[i] === 0x2c && key === '') { i++; skip(); continue; }
    if (i >= buf.length || buf[i] !== 0x3d) throw new SaslError(`DIGEST-MD5: '=' expected after key: ${key}`);
    if (key === '') throw new SaslError('DIGEST-MD5: empty directive key');
    i++;
    skip();
    const v: number[] = [];
    if (i < buf.length && buf[i] === 0x22) {
      i++;
      for (;;) {
        if (i >= buf.length) throw new SaslError(`DIGEST-MD5: unmatched quote found for directive: ${key}`);
        const b = buf[i++]!;
        if (b === 0x5c) {
          if (i >= buf.length) throw new SaslError(`DIGEST-MD5: unmatched quote found for directive: ${key}`);
          v.push(buf[i++]!);
        } else if (b === 0x22) {
          break;
        } else {
          v.push(b);
        }
      }
      skip();
      if (i < buf.length && buf[i] !== 0x2c) throw new SaslError(`DIGEST-MD5: expecting comma after quoted string of ${key}`);
    } else {
      while (i < buf.length && buf[i] !== 0x2c && !isLws(buf[i]!)) v.push(buf[i++]!);
      skip();
    }
    put(key, v);
    if (i < buf.length && buf[i] === 0x2c) i++;
    skip();
  }
  return out;
}

/** Latin-1 bytes when every character fits, else UTF-8 (RFC 2831 2.1.2.1, as Java does). */
function credentialBytes(s: string): Buffer {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return Buffer.from(s, 'utf8');
  return Buffer.from(s, 'latin1');
}

const md5 = (...parts: (Buffer | string)[]): Buffer => {
  const h = crypto.createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** response-value / rspauth: HEX(KD(HEX(H(A1)), nonce:nc:cnonce:qop:HEX(H(A2)))). */
export function digestResponse(a2Prefix: string, user: string, realm: string, password: string, nonce: Buffer,
  cnonce: Buffer, nc: string, qop: string, uri: string, authzid: Buffer | null): string {
  const hA1base = md5(credentialBytes(user), ':', credentialBytes(realm), ':', credentialBytes(password));
  const a1 = authzid === null ? md5(hA1base, ':', nonce, ':', cnonce) : md5(hA1base, ':', nonce, ':', cnonce, ':', authzid);
  const a2 = md5(`${a2Prefix}:${uri}`).toString('hex');
  return md5(a1.toString('hex'), ':', nonce, ':', nc, ':', cnonce, ':', qop, ':', a2).toString('hex');
}

export interface DigestMd5Options {
  /** name → password (JAAS user_<name> options). */
  users: Readonly<Record<string, string>>;
  /** SASLAuthenticationProvider.superPassword: the password of 'super' when set. */
  superPassword: string | null;
}

/** One connection's DIGEST-MD5 exchange. */
export class DigestMd5Server {
  private step = 1;
  private nonce: Buffer | null = null;
  /** The authorised id once complete. */
  authorizationId: string | null = null;
  /** The user the client named, once it has (for log lines and the audit log). */
  username: string | null = null;

  constructor(private readonly opts: DigestMd5Options) {}

  get complete(): boolean {
    return this.authorizationId !== null;
  }

  /** Next server token for a client token; throws SaslError when the exchange fails. */
  evaluate(token: Uint8Array): Buffer {
    if (token.length > responseLengthMax) {
      throw new SaslError(`DIGEST-MD5: Invalid digest response length. Got: ${token.length} Expected < ${responseLengthMax}`);
    }
    switch (this.step) {
      case 1: {
        // An initial response is ignored, as Java's server does.
        this.nonce = Buffer.from(crypto.randomBytes(30).toString('base64'), 'latin1');
        this.step = 3;
        return Buffer.concat([
          Buffer.from(`realm="${digestRealm}",nonce="`), this.nonce, Buffer.from('",charset=utf-8,algorithm=md5-sess'),
        ]);
      }
      case 3: {
        this.step = 0;
        return this.validate(Buffer.from(token));
      }
      default:
        throw new SaslError('DIGEST-MD5: Server at illegal state');
    }
  }

  private validate(token: Buffer): Buffer {
    const d = parseDirectives(token);
    const text = (k: Directive) => d.get(k)?.toString('utf8');
    const charset = text('charset');
    if (charset !== undefined && charset !== 'utf-8') {
      throw new SaslError(`DIGEST-MD5: digest response format violation. Incompatible charset value: ${charset}`);
    }
    const username = text('username');
    if (username === undefined) throw new SaslError('DIGEST-MD5: digest response format violation. Missing username.');
    this.username = username;
    const realm = text('realm') ?? '';
    if (realm !== digestRealm) throw new SaslError(`DIGEST-MD5: digest response format violation. Nonexistent realm: ${realm}`);
    const nonce = d.get('nonce');
    if (nonce === undefined) throw new SaslError('DIGEST-MD5: digest response format violation. Missing nonce.');
    if (!nonce.equals(this.nonce!)) throw new SaslError('DIGEST-MD5: digest response format violation. Mismatched nonce.');
    const cnonce = d.get('cnonce');
    if (cnonce === undefined) throw new SaslError('DIGEST-MD5: digest response format violation. Missing cnonce.');
    const nc = text('nc');
    if (nc !== undefined && parseInt(nc, 16) !== 1) {
      throw new SaslError(`DIGEST-MD5: digest response format violation. Nonce count does not match: ${nc}`);
    }
    const qop = text('qop') ?? 'auth';
    if (qop !== 'auth') {
      throw new SaslError(qop === 'auth-int' || qop === 'auth-conf'
        ? `DIGEST-MD5: server does not support  qop: ${qop}`
        : `DIGEST-MD5: digest response format violation. Invalid QOP: ${qop}`);
    }
    const uri = text('digest-uri');
    if (uri === undefined || uri.toLowerCase() !== digestUri.toLowerCase()) {
      throw new SaslError(`DIGEST-MD5: digest response format violation. Mismatched URI: ${uri ?? 'null'}; expecting: ${digestUri}`);
    }
    const response = d.get('response');
    if (response === undefined) throw new SaslError('DIGEST-MD5: digest response format  violation. Missing response.');
    const authzid = d.get('authzid') ?? null;
    const password = username === 'super' && this.opts.superPassword !== null ? this.opts.superPassword
      : Object.hasOwn(this.opts.users, username) ? this.opts.users[username]! : null;
    if (password === null) throw new SaslError(`DIGEST-MD5: cannot acquire password for ${username} in realm : ${realm}`);
    const ncText = '00000001';
    const expected = digestResponse('AUTHENTICATE', username, realm, password, nonce, cnonce, ncText, qop, uri, authzid);
    const got = response.toString('latin1');
    if (got.length !== expected.length || !crypto.timingSafeEqual(Buffer.from(got), Buffer.from(expected))) {
      throw new SaslError('DIGEST-MD5: digest response format violation. Mismatched response.');
    }
    this.authorizationId = username;
    const rspauth = digestResponse('', username, realm, password, nonce, cnonce, ncText, qop, uri, authzid);
    return Buffer.from(`rspauth=${rspauth}`);
  }
}
