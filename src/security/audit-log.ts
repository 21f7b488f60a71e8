// The audit log (audit.enable=true): one line per write, per ephemeral node
// deleted with its session, per authentication event, and at server start
// and stop. Fields and order are Apache ZooKeeper's (AuditEvent), tab
// separated, a missing field left out, the result last; the line prefix is
// what Apache's default logback pattern for the audit logger writes
// ("%d{ISO8601} %p %c{2}: %m"), so tools that read Apache's
// zookeeper_audit.log read this one:
//
//   2026-11-22 05:51:22,123 INFO audit.Slf4jAuditLogger: session=0x1000..\tuser=127.0.0.1,bob\tip=127.0.0.1\toperation=create\tznode=/a\tznode_type=persistent\tresult=success
//
// Failures are logged at ERROR, as Apache's Slf4jAuditLogger does. Writes
// are appended asynchronously (the sequencer never waits on this file);
// close() flushes.

import fs from 'node:fs';
import path from 'node:path';
import { Logger } from '../util/log.js';
import type { Id } from '../jute/records.js';

const log = new Logger('audit');

export type AuditResult = 'success' | 'failure' | 'invoked';

export interface AuditEvent {
  session?: string;
  user?: string | null;
  ip?: string;
  operation: string;
  znode?: string | null;
  znodeType?: string | null;
  acl?: string | null;
}

/** Apache's AuditConstants. */
export const AuditOp = {
  start: 'serverStart',
  stop: 'serverStop',
  create: 'create',
  delete: 'delete',
  setData: 'setData',
  setAcl: 'setAcl',
  multi: 'multiOperation',
  reconfig: 'reconfig',
  ephemeralDeleted: 'ephemeralZNodeDeletionOnSessionCloseOrExpire',
} as const;

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** logback's %d{ISO8601}: local time, "yyyy-MM-dd HH:mm:ss,SSS". */
export function iso8601(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:` +
    `${pad(d.getSeconds())},${pad(d.getMilliseconds(), 3)}`;
}

/** The event's message as Apache's AuditEvent.toString() builds it. */
export function formatAuditEvent(e: AuditEvent, result: AuditResult): string {
  const parts: string[] = [];
  const add = (k: string, v: string | null | undefined) => { if (v !== null && v !== undefined) parts.push(`${k}=${v}`); };
  add('session', e.session);
  add('user', e.user);
  add('ip', e.ip);
  add('operation', e.operation);
  add('znode', e.znode);
  add('znode_type', e.znodeType);
  add('acl', e.acl);
  parts.push(`result=${result}`);
  return parts.join('\t');
}

/**
 * The user field: each id's provider user name (digest: the name before
 * ':'; ip, sasl, x509: the id; super has no provider and is left out),
 * joined by ','; null when nothing is left (Apache's AuthUtil.getUsers).
 */
export function auditUsers(ids: readonly Id[]): string | null {
  const names: string[] = [];
  for (const id of ids) {
    let n: string | null;
    switch (id.scheme) {
      case 'digest': n = id.id.split(':')[0] ?? ''; break;
      case 'ip': case 'sasl': case 'x509': n = id.id; break;
      default: n = null;
    }
    if (n !== null && n.trim() !== '') names.push(n);
  }
  return names.length === 0 ? null : names.join(',');
}

/** An address as Java's InetAddress.getHostAddress() prints it (IPv6 uncompressed). */
export function javaHostAddress(addr: string): string {
  if (!addr.includes(':')) return addr;
  const zone = addr.indexOf('%');
  const a = zone >= 0 ? addr.slice(0, zone) : addr;
  const halves = a.split('::');
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length > 1 && halves[1] !== '' ? halves[1]!.split(':') : [];
  const groups = halves.length > 1 ? [...head, ...Array(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail] : head;
  return groups.map((g) => (g.includes('.') ? g : parseInt(g, 16).toString(16))).join(':');
}

export class AuditLog {
  private readonly out: fs.WriteStream;
  private failed = false;

  constructor(readonly file: string, readonly serverUser: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.out = fs.createWriteStream(file, { flags: 'a' });
    this.out.on('error', (e) => {
      if (!this.failed) log.error(`cannot write the audit log ${file}: ${e.message}; audit lines are being lost`);
      this.failed = true;
    });
  }

  write(e: AuditEvent, result: AuditResult): void {
    const level = result === 'failure' ? 'ERROR' : 'INFO';
    this.out.write(`${iso8601(new Date())} ${level} audit.Slf4jAuditLogger: ${formatAuditEvent(e, result)}\n`);
  }

  /** Writes what is buffered and closes the file. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.out.closed || this.out.destroyed) { resolve(); return; }
      this.out.end(() => resolve());
    });
  }
}
