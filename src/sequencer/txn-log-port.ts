// What the sequencer needs from durable storage. The persistence layer
// implements it with Apache's txn log format and group commit; the sequencer
// never waits on it: it appends, asks for a flush, and is told later (or at
// once) up to which zxid everything is durable. Replies and watch events for
// a txn go out only after that.

import type { Txn, TxnHeader } from '../jute/txn.js';

export interface TxnLogPort {
  /** Queue a txn for writing, in zxid order. */
  append(hdr: TxnHeader, txn: Txn | null): void;
  /** Start making everything appended durable; report through the durable callback. */
  flush(): void;
  /** Called with the highest zxid that is durable; set by the sequencer. */
  onDurable: (zxid: number) => void;
  /** Called when the log can take no more writes (disk full, I/O error); set by the sequencer. */
  onFailure: (err: Error) => void;
}
