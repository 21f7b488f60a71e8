// security/: TLS for client connections, client-certificate (x509) and SASL
// DIGEST-MD5 authentication, and the audit log, with Apache ZooKeeper's
// configuration keys and semantics.
//
// Owns: reading the ssl.*, authProvider.*, JAAS, enforce.auth.* and audit.*
// settings (settings.ts); loading PEM and PKCS#12 stores (keystores.ts,
// pkcs12.ts, der.ts); the TLS handshake and certificate check inside each
// I/O worker (tls-acceptor.ts); certificate names as Java prints them
// (x509-name.ts); JAAS files (jaas.ts); the DIGEST-MD5 server (digest-md5.ts);
// certificate reload (cert-reload.ts); the audit log file (audit-log.ts).
//
// Must never: block a thread that owns sockets (files are read at start-up or
// on reload, on the main thread), or touch the plaintext hot path (TLS
// connections are set apart before the first frame). Sits beside tree/ and
// persistence/: it imports util, config and jute only; io, sequencer and
// main.ts use it.

export * from './settings.js';
export * from './keystores.js';
export * from './pkcs12.js';
export * from './x509-name.js';
export * from './jaas.js';
export * from './digest-md5.js';
export * from './audit-log.js';
export * from './tls-acceptor.js';
export * from './cert-reload.js';
export * from './prepare.js';
