// client.certReload: watch the key store and trust store files and build new
// TLS material when one changes, as Apache's X509Util FileChangeWatcher does
// (it watches the files' directories, so a file replaced by a rename, the
// way certificate tools and Kubernetes secrets update, is seen too). New
// handshakes use the new material; open connections keep theirs. A file that
// cannot be used (half written, wrong password) is logged and the previous
// material stays in force; the next change is tried again.

import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { Logger } from '../util/log.js';

const log = new Logger('tls');

/** Changes closer together than this are read once (writers touch a file several times). */
const settleMs = 200;

export class CertWatcher {
  private readonly watchers: fs.FSWatcher[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly digests = new Map<string, string>();

  /** `reload` is called (after the files settle) when the content of one of `files` changed. */
  constructor(private readonly files: readonly string[], private readonly reload: () => void) {
    for (const f of files) this.digests.set(f, digest(f));
    const dirs = new Map<string, Set<string>>();
    for (const f of files) {
      const d = path.dirname(f);
      if (!dirs.has(d)) dirs.set(d, new Set());
      dirs.get(d)!.add(path.basename(f));
    }
    for (const [dir, names] of dirs) {
      const w = fs.watch(dir, { persistent: false }, (_event, name) => {
        if (name === null || names.has(name.toString())) this.changed();
      });
      w.on('error', (e) => log.warn(`watching ${dir} for certificate changes failed: ${e.message}`));
      this.watchers.push(w);
    }
    log.info(`certificate reload on: watching ${files.join(', ')}`);
  }

  private changed(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      let any = false;
      for (const f of this.files) {
        const d = digest(f);
        if (d !== this.digests.get(f)) {
          this.digests.set(f, d);
          any = true;
        }
      }
      if (any) this.reload();
    }, settleMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
  }
}

function digest(file: string): string {
  try {
    return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  } catch {
    return 'unreadable';
  }
}
