// Test support (not a test file): promise wrappers around the npm package
// node-zookeeper-client (a callback API without types), with every wait
// bounded in time.

import zookeeper from 'node-zookeeper-client';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type RawClient = any;

export const CreateMode = zookeeper.CreateMode as {
  PERSISTENT: number; EPHEMERAL: number; PERSISTENT_SEQUENTIAL: number; EPHEMERAL_SEQUENTIAL: number;
};
export const Event = zookeeper.Event as {
  NODE_CREATED: number; NODE_DELETED: number; NODE_DATA_CHANGED: number; NODE_CHILDREN_CHANGED: number;
};
export const Exception = zookeeper.Exception as {
  NO_NODE: number; NODE_EXISTS: number; NOT_EMPTY: number; BAD_VERSION: number;
  NO_CHILDREN_FOR_EPHEMERALS: number; SESSION_EXPIRED: number; CONNECTION_LOSS: number;
};

/** The stat record as node-zookeeper-client decodes it (longs are 8-byte Buffers). */
export interface NzkStat {
  czxid: Buffer; mzxid: Buffer; ctime: Buffer; mtime: Buffer;
  version: number; cversion: number; aversion: number;
  ephemeralOwner: Buffer; dataLength: number; numChildren: number; pzxid: Buffer;
}

export interface NzkEvent { type: number; name: string; path: string }

/** A raw notification as it came off the wire, before the client's watcher bookkeeping. */
export interface WireEvent { type: number; state: number; path: string }

/** Rejects with a clear message if p does not settle within ms. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** The error code of a node-zookeeper-client Exception, or undefined. */
export function codeOf(e: unknown): number | undefined {
  const x = e as { getCode?: () => number } | null;
  return x !== null && typeof x === 'object' && typeof x.getCode === 'function' ? x.getCode() : undefined;
}

export const opTimeoutMs = 10000;

export class Nzk {
  /** Every notification the server sent on this client's connections, in order. */
  readonly wireEvents: WireEvent[] = [];
  private readonly wireListeners = new Set<(e: WireEvent) => void>();

  private constructor(readonly client: RawClient) {
    // Spy on notifications as they arrive: node-zookeeper-client's watcher
    // bookkeeping would hide a duplicate event from the server.
    const wm = client.connectionManager.watcherManager;
    const orig = wm.emit.bind(wm);
    wm.emit = (ev: WireEvent) => {
      const e = { type: ev.type, state: ev.state, path: ev.path };
      this.wireEvents.push(e);
      for (const l of this.wireListeners) l(e);
      return orig(ev);
    };
  }

  /** Create a client and wait until it is connected (SyncConnected). */
  static async connect(connectString: string, options: Record<string, unknown> = {}, ms = 10000): Promise<Nzk> {
    const client = zookeeper.createClient(connectString, { retries: 0, ...options });
    const c = new Nzk(client);
    const connected = new Promise<void>((resolve, reject) => {
      client.once('connected', () => resolve());
      client.once('expired', () => reject(new Error('session expired while connecting')));
      client.once('authenticationFailed', () => reject(new Error('authentication failed while connecting')));
    });
    client.connect();
    try {
      await within(connected, ms, `node-zookeeper-client connecting to ${connectString}`);
    } catch (e) {
      c.kill();
      throw e;
    }
    return c;
  }

  get sessionId(): Buffer {
    return this.client.getSessionId();
  }

  get sessionIdHex(): string {
    return this.sessionId.toString('hex');
  }

  get sessionTimeout(): number {
    return this.client.getSessionTimeout();
  }

  private call<T>(what: string, fn: (cb: (err: unknown, ...rest: any[]) => void) => void, pick: (...rest: any[]) => T): Promise<T> {
    return within(new Promise<T>((resolve, reject) => {
      fn((err, ...rest) => (err ? reject(err) : resolve(pick(...rest))));
    }), opTimeoutMs, what);
  }

  create(path: string, data?: Buffer | null, mode: number = CreateMode.PERSISTENT): Promise<string> {
    return this.call(`create ${path}`, (cb) => this.client.create(path, data ?? undefined, mode, cb), (p: string) => p);
  }

  mkdirp(path: string, data?: Buffer): Promise<string> {
    return this.call(`mkdirp ${path}`, (cb) => (data === undefined ? this.client.mkdirp(path, cb) : this.client.mkdirp(path, data, cb)), (p: string) => p);
  }

  exists(path: string, watcher?: (e: NzkEvent) => void): Promise<NzkStat | null> {
    return this.call(`exists ${path}`, (cb) => (watcher ? this.client.exists(path, watcher, cb) : this.client.exists(path, cb)),
      (stat: NzkStat | null) => stat ?? null);
  }

  getData(path: string, watcher?: (e: NzkEvent) => void): Promise<{ data: Buffer | undefined; stat: NzkStat }> {
    return this.call(`getData ${path}`, (cb) => (watcher ? this.client.getData(path, watcher, cb) : this.client.getData(path, cb)),
      (data: Buffer | undefined, stat: NzkStat) => ({ data, stat }));
  }

  setData(path: string, data: Buffer | null, version = -1): Promise<NzkStat> {
    return this.call(`setData ${path}`, (cb) => this.client.setData(path, data, version, cb), (stat: NzkStat) => stat);
  }

  getChildren(path: string, watcher?: (e: NzkEvent) => void): Promise<{ children: string[]; stat: NzkStat }> {
    return this.call(`getChildren ${path}`, (cb) => (watcher ? this.client.getChildren(path, watcher, cb) : this.client.getChildren(path, cb)),
      (children: string[], stat: NzkStat) => ({ children, stat }));
  }

  remove(path: string, version = -1): Promise<void> {
    return this.call(`remove ${path}`, (cb) => this.client.remove(path, version, cb), () => undefined);
  }

  /** Resolves with the next wire notification matching pred (or one already seen after `from`). */
  waitWireEvent(pred: (e: WireEvent) => boolean, ms = 5000, from = 0): Promise<WireEvent> {
    const seen = this.wireEvents.slice(from).find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    let listener: ((e: WireEvent) => void) | undefined;
    const p = new Promise<WireEvent>((resolve) => {
      listener = (e) => { if (pred(e)) resolve(e); };
      this.wireListeners.add(listener);
    });
    return within(p, ms, 'waiting for a watch notification').finally(() => this.wireListeners.delete(listener!));
  }

  /** The connection manager's state (node-zookeeper-client internals: CLOSED = -2, SESSION_EXPIRED = -3). */
  get managerState(): number {
    return this.client.connectionManager.state;
  }

  /**
   * Close the session (closeSession) and wait for the connection to end.
   * Resolves true if the client reached CLOSED in time; never throws.
   */
  async close(ms = 3000): Promise<boolean> {
    const cm = this.client.connectionManager;
    if (cm.state === -2) { this.kill(); return true; }
    if (cm.state === -3) { this.kill(); return false; }
    const closed = new Promise<void>((resolve) => {
      const on = (s: number) => { if (s === -2) { cm.off('state', on); resolve(); } };
      cm.on('state', on);
    });
    let ok = false;
    try {
      this.client.close();
      await within(closed, ms, 'node-zookeeper-client close');
      ok = true;
    } catch {
      // fall through: make sure nothing is left running
    }
    this.kill();
    return ok;
  }

  /** Drop the socket and stop the client from reconnecting; the session is not closed. */
  kill(): void {
    const cm = this.client.connectionManager;
    cm.connect = () => {};
    cm.socket?.setTimeout(0);
    cm.socket?.destroy();
    cm.packetQueue?.removeAllListeners?.('readable');
  }

  /** Drop the socket without closing the session, and keep the client from reconnecting until allowReconnect(). */
  dropConnection(): void {
    const cm = this.client.connectionManager;
    const proto = Object.getPrototypeOf(cm);
    this.reconnect = () => { cm.connect = proto.connect; cm.connect(); };
    cm.connect = () => {};
    cm.socket.setTimeout(0);
    cm.socket.destroy();
  }

  private reconnect: (() => void) | null = null;

  /** Let a client stopped by dropConnection() connect again (with its old session id and password). */
  allowReconnect(): void {
    const r = this.reconnect;
    this.reconnect = null;
    r?.();
  }
}

/** Closes every client, in parallel, never throwing. */
export async function closeAll(clients: Iterable<Nzk | null | undefined>): Promise<void> {
  await Promise.all([...clients].filter((c): c is Nzk => c != null).map((c) => c.close()));
}
