// TLS for client connections, run inside each I/O worker thread. A tls.Server
// that never listens does the handshakes: the worker hands it sockets it
// accepted itself (from the TLS-only secureClientPort, or from the client
// port when the first byte is a TLS handshake record, 0x16), so TLS costs
// the plaintext path nothing.
//
// After the handshake the client certificate is checked as Apache's
// NettyServerCnxnFactory and X509AuthenticationProvider do:
//   ssl.clientAuth=need  a trusted certificate is required
//   ssl.clientAuth=want  none is fine; an untrusted or expired one is refused
//   ssl.clientAuth=none  no certificate is asked for
// A trusted certificate authenticates the connection as x509:<subject DN>
// (and super when the DN is X509AuthenticationProvider.superUser). Every
// refusal is one log line saying who and why; the worker carries on.

import type net from 'node:net';
import tls from 'node:tls';
import { Logger } from '../util/log.js';
import type { Id } from '../jute/records.js';
import { secureContextOptions, type TlsMaterial } from './keystores.js';
import { certificateSubject } from './x509-name.js';

const log = new Logger('tls');

/** A TLS handshake not finished within this is abandoned (Netty's SslHandler default). */
export const tlsHandshakeTimeoutMs = 10_000;
/** Handshake failures logged one by one per second at most; beyond that they are counted and summarised. */
const failureLogsPerSecondMax = 10;

export interface TlsAcceptorOptions {
  x509SuperUser: string | null;
  /** Called with a finished, verified TLS connection and the ids its certificate proves. */
  adopt: (socket: tls.TLSSocket, ids: Id[]) => void;
}

export class TlsAcceptor {
  private readonly server: tls.Server;
  private clientAuth: TlsMaterial['clientAuth'];
  /** Handshakes that failed or were refused since start (for the stats). */
  failures = 0;
  private logWindowStart = 0;
  private logsInWindow = 0;
  private suppressed = 0;
  /** Sockets handed in and not yet closed (handshakes in progress among them; close() ends them all). */
  private readonly pending = new Set<net.Socket>();

  constructor(material: TlsMaterial, private readonly opts: TlsAcceptorOptions) {
    this.clientAuth = material.clientAuth;
    this.server = tls.createServer({
      ...secureContextOptions(material),
      requestCert: material.clientAuth !== 'none',
      // Verified below, so that every refusal can say why.
      rejectUnauthorized: false,
      handshakeTimeout: tlsHandshakeTimeoutMs,
    });
    this.server.on('secureConnection', (s: tls.TLSSocket) => this.onSecure(s));
    this.server.on('tlsClientError', (err: Error & { code?: string; reason?: string }, s: tls.TLSSocket) => {
      // OpenSSL's reason ("wrong version number"), without its source file and line.
      const why = err.reason ?? err.message.split('\n')[0]!.replace(/^.*routines:/, '').replace(/:[^:]*\.c:\d+:?$/, '');
      const plaintext = /wrong version number|http request|unknown protocol|packet length too long/i.test(why);
      this.refuse(s, `TLS handshake failed: ${why}${plaintext ? ' (a plaintext client on a TLS port?)' : ''}`);
    });
  }

  /** Start a handshake on a socket the worker accepted. Data it already read must have been unshift()ed. */
  accept(socket: net.Socket): void {
    this.pending.add(socket);
    socket.once('close', () => this.pending.delete(socket));
    this.server.emit('connection', socket);
  }

  /** New key or trust material (certificate reload): used by handshakes from now on. */
  reload(material: TlsMaterial): void {
    this.server.setSecureContext(secureContextOptions(material));
    this.clientAuth = material.clientAuth;
  }

  private onSecure(s: tls.TLSSocket): void {
    const ids: Id[] = [];
    if (this.clientAuth !== 'none') {
      // The legacy getPeerCertificate(), not getPeerX509Certificate(): on
      // Node 20 each X509Certificate of a verified client certificate keeps
      // about 5 KB of native memory for good (a server taking 15,000 such
      // connections grew by 75 MB, and by 6 MB with this call instead).
      const cert = s.getPeerCertificate();
      if (cert === null || cert.raw === undefined) {
        if (this.clientAuth === 'need') {
          this.refuse(s, 'no client certificate (ssl.clientAuth=need)');
          return;
        }
      } else if (!s.authorized) {
        this.refuse(s, `client certificate '${subjectLine(cert.subject)}' refused: ${describeVerifyError(s.authorizationError)}`);
        return;
      } else {
        let dn: string;
        try {
          dn = certificateSubject(cert.raw);
        } catch (e) {
          this.refuse(s, `client certificate subject cannot be read: ${(e as Error).message}`);
          return;
        }
        if (this.opts.x509SuperUser !== null && dn === this.opts.x509SuperUser) ids.push({ scheme: 'super', id: dn });
        ids.push({ scheme: 'x509', id: dn });
        if (log.enabled('debug')) log.debug(`${s.remoteAddress}:${s.remotePort} authenticated by certificate as x509:${dn}`);
      }
    }
    this.opts.adopt(s, ids);
  }

  private refuse(s: tls.TLSSocket, why: string): void {
    this.failures++;
    const now = Date.now();
    if (now - this.logWindowStart >= 1000) {
      if (this.suppressed > 0) log.warn(`${this.suppressed} more TLS connections refused in the last second (not logged one by one)`);
      this.logWindowStart = now;
      this.logsInWindow = 0;
      this.suppressed = 0;
    }
    if (this.logsInWindow++ < failureLogsPerSecondMax) {
      log.warn(`closing TLS connection from ${normalize(s.remoteAddress)}:${s.remotePort}: ${why}`);
    } else {
      this.suppressed++;
    }
    s.destroy();
  }

  /** Abandon handshakes in progress (server shutdown). */
  close(): void {
    for (const s of this.pending) s.destroy();
    this.pending.clear();
  }
}

/** A certificate's subject as X509Certificate.subject prints it, on one line: 'O=zoonode tests, CN=expired client'. */
function subjectLine(subject: tls.Certificate | undefined): string {
  if (subject === undefined) return '';
  return Object.entries(subject as unknown as Record<string, string | string[]>)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}=${x}`))
    .join(', ');
}

function normalize(addr: string | undefined): string {
  const a = addr ?? '?';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

function describeVerifyError(code: string | Error | undefined): string {
  const c = typeof code === 'string' ? code : code?.message ?? 'not verified';
  switch (c) {
    case 'CERT_HAS_EXPIRED': return 'it has expired (CERT_HAS_EXPIRED)';
    case 'CERT_NOT_YET_VALID': return 'it is not valid yet (CERT_NOT_YET_VALID)';
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return `it is not signed by a CA in ssl.trustStore (${c})`;
    default: return c;
  }
}
