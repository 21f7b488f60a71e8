// Start-up of the security features, for main.ts: read and check the
// settings, load the TLS stores once (a bad store stops the start with a
// configuration error), and, with client.certReload, reload them when their
// files change.

import { Logger } from '../util/log.js';
import type { Config } from '../config/config.js';
import { securitySettings, type SecuritySettings } from './settings.js';
import { loadTlsMaterial, type TlsMaterial } from './keystores.js';
import { CertWatcher } from './cert-reload.js';

const log = new Logger('security');

export interface PreparedSecurity {
  settings: SecuritySettings;
  /** The TLS material as loaded at start-up, or null without TLS. */
  material: TlsMaterial | null;
}

/** Throws ConfigError (naming the file, line and key) if anything is unusable. */
export function prepareSecurity(cfg: Config): PreparedSecurity {
  const settings = securitySettings(cfg);
  const material = settings.tls === null ? null : loadTlsMaterial(cfg, settings.tls);
  return { settings, material };
}

/** Logs what is on, once, at start-up. */
export function logSecurity(p: PreparedSecurity): void {
  const s = p.settings;
  for (const w of s.warnings) log.warn(w);
  if (p.material !== null) {
    const t = s.tls!;
    log.info(`TLS: ${p.material.summary}; trust store ${t.trustStore?.location ?? '(Node.js bundled roots)'}; ` +
      `ssl.clientAuth=${t.clientAuth}; protocols ${t.minVersion}..${t.maxVersion}` +
      `${s.portUnification ? '; client port takes TLS and plaintext (client.portUnification)' : ''}`);
  }
  if (s.sasl !== null) {
    log.info(`SASL DIGEST-MD5: ${Object.keys(s.sasl.users).length} user(s) from section '${s.sasl.section}' of ${s.sasl.jaasFile}`);
  }
  if (s.enforceSchemes !== null) log.info(`authentication enforced: a connection must authenticate with ${s.enforceSchemes.join(' or ')}`);
  if (s.auditFile !== null) log.info(`audit log: ${s.auditFile}`);
}

/** With client.certReload, watches the stores and hands new material to `deliver`. */
export function startCertReload(cfg: Config, p: PreparedSecurity, deliver: (m: TlsMaterial) => void): CertWatcher | null {
  const t = p.settings.tls;
  if (t === null || !t.certReload) return null;
  const files = [t.keyStore.location, ...(t.trustStore === null ? [] : [t.trustStore.location])];
  return new CertWatcher(files, () => {
    try {
      const m = loadTlsMaterial(cfg, t);
      log.info(`certificate files changed: new TLS handshakes use ${m.summary}`);
      deliver(m);
    } catch (e) {
      log.error(`certificate files changed but cannot be used, keeping the previous ones: ${(e as Error).message}`);
    }
  });
}
