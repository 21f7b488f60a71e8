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

import { ZkClient, OPEN_ACL, type ConnectOptions } from './zk-client.js';
import { fourLetter } from './servers.js';
import { OpCode } from '../src/jute/opcodes.js';
import { writeCreate, writePathInt, writePathWatch, type ACL } from '../src/jute/records.js';

export const CHURN_ROOT = '/churn';

/** Creates the nodes the rounds use (run once per server, before the first round). */
export async function prepareChurn(c: ZkClient): Promise<void> {
  await c.create(CHURN_ROOT, null);
  await c.create(`${CHURN_ROOT}/hot`, Buffer.from('0'));
  for (let r = 0; r < 5; r++) await c.create(`${CHURN_ROOT}/r${r}`, null);
}

/** The counts a churn must leave as it found them (mntr's zk_watch_count and so on). */
export interface ChurnCounts { watches: number; ephemerals: number; znodes: number; connections: number }

const countKeys: Record<keyof ChurnCounts, string> = {
  watches: 'zk_watch_count', ephemerals: 'zk_ephemerals_count', znodes: 'zk_znode_count', connections: 'zk_num_alive_connections',
};

/** The server's ChurnCounts from mntr; throws if a key is missing (a renamed metric must fail loudly). */
export async function churnCounts(port: number): Promise<ChurnCounts> {
  const m = new Map((await fourLetter(port, 'mntr', 5000)).trim().split('\n').map((l) => l.split('\t') as [string, string]));
  const out = {} as ChurnCounts;
  for (const [k, key] of Object.entries(countKeys) as [keyof ChurnCounts, string][]) {
    const v = m.get(key);
    if (v === undefined) throw new Error(`mntr has no ${key}`);
    out[k] = Number(v);
  }
  return out;
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
    await c.request(OpCode.addWatch, (w) => writePathInt(w, { path: r, value: 1 })); // persistent recursive
    const acl: ACL[] = [...OPEN_ACL, { perms: 1, id: { scheme: 'digest', id: `u${round}x${i}:abc=` } }];
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
        for (let k = 0; k < 20; k++) c.request(OpCode.getData, (w) => writePathWatch(w, { path: `${CHURN_ROOT}/hot`, watch: true })).catch(() => {});
        c.request(OpCode.create, (w) => writeCreate(w, { path: `${CHURN_ROOT}/late-${round}-${i}`, data: Buffer.alloc(10), acl: OPEN_ACL, flags: 1, ttl: -1 }, false))
          .catch(() => {});
        c.destroy();
    }
  }));
  return { connectFailures: sessions - cs.length, firstFailure };
}
