// Churn: what a busy ensemble's clients do to a server all day, in rounds.
// Each round opens a batch of sessions; each session creates an ephemeral
// sequential node, sets data, exists, child and persistent recursive
// watches, creates and deletes a node under a one-off digest ACL (a new ACL
// list each time) and a child under a watched subtree. A write then fires
// the data watches, and the sessions leave in three ways: closeSession,
// a dropped connection (the session expires later), and a dropped
// connection with requests still pipelined. Used by churn.ts (memory over
// time against Apache) and by the churn test (everything goes back to
// where it was).

import { ZkClient, type ConnectOptions } from './zk-client.js';
import { OpCode } from '../src/jute/opcodes.js';
import type { ACL } from '../src/jute/records.js';

export const CHURN_ROOT = '/churn';

/** Creates the nodes the rounds use (run once per server, before the first round). */
export async function prepareChurn(c: ZkClient): Promise<void> {
  await c.create(CHURN_ROOT, null);
  await c.create(`${CHURN_ROOT}/hot`, Buffer.from('0'));
  for (let r = 0; r < 5; r++) await c.create(`${CHURN_ROOT}/r${r}`, null);
}

export interface RoundResult {
  /** Sessions that could not be opened (their error, first one only). */
  connectFailures: number;
  firstFailure: string | null;
}

/**
 * One round of `sessions` sessions (timeout `timeoutMs`) against the server
 * on 127.0.0.1:port. `control` is a session that stays open (it fires the
 * data watches). `connectOptions(i)` for session i (TLS, say).
 */
export async function churnRound(port: number, control: ZkClient, round: number, sessions: number, timeoutMs: number,
  connectOptions: (i: number) => ConnectOptions = () => ({})): Promise<RoundResult> {
  const opened = await Promise.allSettled(Array.from({ length: sessions }, (_, i) => ZkClient.connect('127.0.0.1', port, { ...connectOptions(i), timeoutMs })));
  const cs: ZkClient[] = [];
  let firstFailure: string | null = null;
  for (const o of opened) {
    if (o.status === 'fulfilled') cs.push(o.value);
    else firstFailure ??= String(o.reason);
  }
  await Promise.all(cs.map(async (c, i) => {
    const r = `${CHURN_ROOT}/r${i % 5}`;
    await c.create(`${CHURN_ROOT}/e-`, Buffer.alloc(100), 3); // ephemeral sequential
    await c.getData(`${CHURN_ROOT}/hot`, true);
    await c.exists(`${CHURN_ROOT}/missing-${round}-${i}`, true);
    await c.getChildren(CHURN_ROOT, true);
    await c.request(OpCode.addWatch, (w) => { w.ustring(r); w.int(1); }); // persistent recursive
    const acl: ACL[] = [
      { perms: 31, id: { scheme: 'world', id: 'anyone' } },
      { perms: 1, id: { scheme: 'digest', id: `u${round}x${i}:abc=` } },
    ];
    const p = await c.create(`${CHURN_ROOT}/t-${round}-${i}`, Buffer.alloc(50), 0, acl);
    await c.getData(p, true);
    await c.delete(p);
    await c.create(`${r}/k${round}-${i}`, Buffer.alloc(10));
    await c.delete(`${r}/k${round}-${i}`);
  }));
  await control.setData(`${CHURN_ROOT}/hot`, Buffer.from(String(round)));
  await Promise.all(cs.map(async (c, i) => {
    switch (i % 3) {
      case 0:
        await c.close();
        break;
      case 1:
        c.destroy();
        break;
      default:
        for (let k = 0; k < 20; k++) c.request(OpCode.getData, (w) => { w.ustring(`${CHURN_ROOT}/hot`); w.bool(true); }).catch(() => {});
        c.request(OpCode.create, (w) => {
          w.ustring(`${CHURN_ROOT}/late-${round}-${i}`).buffer(Buffer.alloc(10)).int(1).int(31).ustring('world').ustring('anyone').int(1);
        }).catch(() => {});
        c.destroy();
    }
  }));
  return { connectFailures: sessions - cs.length, firstFailure };
}
