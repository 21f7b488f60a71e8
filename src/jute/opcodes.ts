// Wire constants of the ZooKeeper client protocol (ZooDefs.java, Watcher.java,
// CreateMode.java). Values are the protocol; names follow Apache's.

export const OpCode = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  createSession: -10,
  closeSession: -11,
  error: -1,
} as const;

const opNames = new Map<number, string>(Object.entries(OpCode).map(([k, v]) => [v, k]));
export function opName(type: number): string {
  return opNames.get(type) ?? `unknown(${type})`;
}

/** Reserved xids. */
export const Xid = {
  notification: -1,
  ping: -2,
  auth: -4,
  setWatches: -8,
} as const;

export const Perms = {
  READ: 1,
  WRITE: 2,
  CREATE: 4,
  DELETE: 8,
  ADMIN: 16,
  ALL: 31,
} as const;

export const CreateFlag = {
  PERSISTENT: 0,
  EPHEMERAL: 1,
  PERSISTENT_SEQUENTIAL: 2,
  EPHEMERAL_SEQUENTIAL: 3,
  CONTAINER: 4,
  PERSISTENT_WITH_TTL: 5,
  PERSISTENT_SEQUENTIAL_WITH_TTL: 6,
} as const;

export interface CreateMode {
  readonly flag: number;
  readonly ephemeral: boolean;
  readonly sequential: boolean;
  readonly container: boolean;
  readonly ttl: boolean;
}

const createModes: readonly CreateMode[] = [
  { flag: 0, ephemeral: false, sequential: false, container: false, ttl: false },
  { flag: 1, ephemeral: true, sequential: false, container: false, ttl: false },
  { flag: 2, ephemeral: false, sequential: true, container: false, ttl: false },
  { flag: 3, ephemeral: true, sequential: true, container: false, ttl: false },
  { flag: 4, ephemeral: false, sequential: false, container: true, ttl: false },
  { flag: 5, ephemeral: false, sequential: false, container: false, ttl: true },
  { flag: 6, ephemeral: false, sequential: true, container: false, ttl: true },
];

/** The create mode for a flag value, or undefined for a flag Apache rejects. */
export function createModeOf(flag: number): CreateMode | undefined {
  return createModes[flag];
}

export const EventType = {
  None: -1,
  NodeCreated: 1,
  NodeDeleted: 2,
  NodeDataChanged: 3,
  NodeChildrenChanged: 4,
  DataWatchRemoved: 5,
  ChildWatchRemoved: 6,
  PersistentWatchRemoved: 7,
} as const;

export const KeeperState = {
  Disconnected: 0,
  SyncConnected: 3,
  AuthFailed: 4,
  ConnectedReadOnly: 5,
  SaslAuthenticated: 6,
  Closed: 7,
  Expired: -112,
} as const;

/** WatcherType in checkWatches/removeWatches requests. */
export const WatcherType = {
  Children: 1,
  Data: 2,
  Any: 3,
  Persistent: 4,
  PersistentRecursive: 5,
} as const;

export const AddWatchMode = {
  PERSISTENT: 0,
  PERSISTENT_RECURSIVE: 1,
} as const;
