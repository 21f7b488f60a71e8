#!/usr/bin/python3
# Test support (not a test file): drive the Python client kazoo against a
# ZooKeeper server and print what happened as JSON, one line per step:
#   {"step": NAME, "ok": true, ...results}   or
#   {"step": NAME, "ok": false, "error": "...", "traceback": "..."}
# and finally {"step": "done"}. Every wait is bounded; a watchdog exits the
# process (after printing {"step": "watchdog"}) if the whole run takes too long.
#
# usage: /usr/bin/python3 kazoo_scenario.py HOST:PORT [ROOT] [WATCHDOG_SECONDS]

import sys
import threading

from kazoo.client import KazooClient
from kazoo_harness import emit, start_watchdog, step, barrier
from kazoo.exceptions import BadVersionError, InvalidACLError, NoAuthError, NodeExistsError, NoNodeError, NotEmptyError
from kazoo.security import CREATOR_ALL_ACL

HOSTS = sys.argv[1]
ROOT = sys.argv[2] if len(sys.argv) > 2 else "/kazoo"
WATCHDOG_S = float(sys.argv[3]) if len(sys.argv) > 3 else 40.0
WAIT_S = 5.0

watchdog = start_watchdog(WATCHDOG_S)

clients = []


def new_client():
    c = KazooClient(hosts=HOSTS, timeout=10.0)
    clients.append(c)
    c.start(timeout=10)
    return c


def ev(e):
    return None if e is None else {"type": e.type, "state": e.state, "path": e.path}


def hex64(n):
    """A 64-bit id as 16 hex digits (JSON numbers lose precision above 2^53)."""
    return "%016x" % (n & 0xFFFFFFFFFFFFFFFF)


def stat_dict(s):
    if s is None:
        return None
    return {"version": s.version, "cversion": s.cversion, "numChildren": s.numChildren,
            "dataLength": s.dataLength, "ephemeralOwner": hex64(s.ephemeralOwner),
            "czxid": s.czxid, "mzxid": s.mzxid}


state = {}


@step("start")
def _():
    c = new_client()
    state["c"] = c
    return {"connected": c.connected, "state": str(c.state), "session_id": hex64(c.client_id[0]),
            "negotiated_timeout_ms": c._session_timeout}


c = state.get("c")
if c is None:
    emit({"step": "done"})
    sys.exit(1)


@step("ensure_path")
def _():
    c.ensure_path(ROOT + "/a/b/c")
    again = c.ensure_path(ROOT + "/a/b/c")  # idempotent
    exists = {p: c.exists(p) is not None for p in (ROOT, ROOT + "/a", ROOT + "/a/b", ROOT + "/a/b/c")}
    return {"exists": exists, "second_call": again is not None or True}


@step("create")
def _():
    plain = c.create(ROOT + "/plain", b"v0")
    eph = c.create(ROOT + "/eph", b"e", ephemeral=True)
    eph_stat = c.exists(eph)
    seq1 = c.create(ROOT + "/seq/n-", b"", sequence=True, makepath=True)
    seq2 = c.create(ROOT + "/seq/n-", b"", sequence=True)
    eseq = c.create(ROOT + "/seq/e-", b"", ephemeral=True, sequence=True)
    eseq_stat = c.exists(eseq)
    try:
        c.create(ROOT + "/plain", b"again")
        dup = "no error"
    except NodeExistsError:
        dup = "NodeExistsError"
    path2, stat2 = c.create(ROOT + "/with-stat", b"xyz", include_data=True)
    return {"plain": plain, "eph": eph, "eph_owner": hex64(eph_stat.ephemeralOwner), "session_id": hex64(c.client_id[0]),
            "seq1": seq1, "seq2": seq2, "eseq": eseq, "eseq_owner": hex64(eseq_stat.ephemeralOwner),
            "duplicate": dup, "create2_path": path2, "create2_stat": stat_dict(stat2)}


@step("get_set_version")
def _():
    p = ROOT + "/plain"
    d0, s0 = c.get(p)
    s1 = c.set(p, b"v1", version=0)
    try:
        c.set(p, b"stale", version=0)
        stale = "no error"
    except BadVersionError:
        stale = "BadVersionError"
    d1, s1b = c.get(p)
    blob = bytes(range(256))
    c.set(p, blob)
    d2, s2 = c.get(p)
    c.set(p, b"")
    d3, s3 = c.get(p)
    try:
        c.get(ROOT + "/missing")
        missing = "no error"
    except NoNodeError:
        missing = "NoNodeError"
    return {"d0": d0.decode(), "v0": s0.version, "v1": s1.version, "stale": stale,
            "d1": d1.decode(), "v1b": s1b.version, "binary_ok": d2 == blob, "v2": s2.version,
            "empty_len": len(d3), "empty_is_bytes": isinstance(d3, bytes), "v3": s3.version,
            "missing": missing}


@step("get_children_watch")
def _():
    kids = ROOT + "/kids"
    c.ensure_path(kids)
    fired = []
    got = threading.Event()

    def w(event):
        fired.append(ev(event))
        got.set()

    before = c.get_children(kids, watch=w)
    c.create(kids + "/k1")
    ok = got.wait(WAIT_S)
    c.create(kids + "/k2")  # the watch is one-shot: no second call
    barrier(c)
    after = sorted(c.get_children(kids))
    children, st = c.get_children(kids, include_data=True)
    return {"before": before, "fired_in_time": ok, "events": fired, "after": after,
            "numChildren": st.numChildren}


@step("data_watch")
def _():
    p = ROOT + "/dw"
    c.create(p, b"d0")
    calls = []
    cond = threading.Condition()

    def record(data, stat, event):
        with cond:
            calls.append({"data": None if data is None else data.decode(),
                          "version": None if stat is None else stat.version, "event": ev(event)})
            cond.notify_all()
        return True

    def wait_for(n):
        with cond:
            return cond.wait_for(lambda: len(calls) >= n, WAIT_S)

    c.DataWatch(p, record)
    initial = wait_for(1)
    c.set(p, b"d1")
    changed = wait_for(2)
    c.delete(p)
    deleted = wait_for(3)
    barrier(c)
    return {"initial": initial, "changed": changed, "deleted": deleted, "calls": list(calls)}


@step("children_watch")
def _():
    p = ROOT + "/cw"
    c.ensure_path(p)
    calls = []
    cond = threading.Condition()

    def record(children):
        with cond:
            calls.append(sorted(children))
            cond.notify_all()

    def wait_for(n):
        with cond:
            return cond.wait_for(lambda: len(calls) >= n, WAIT_S)

    c.ChildrenWatch(p, record)
    ok0 = wait_for(1)
    c.create(p + "/x")
    ok1 = wait_for(2)
    c.delete(p + "/x")
    ok2 = wait_for(3)
    return {"waits": [ok0, ok1, ok2], "calls": calls}


@step("lock")
def _():
    lock_path = ROOT + "/lock"
    c2 = new_client()
    lock1 = c.Lock(lock_path, "first")
    lock2 = c2.Lock(lock_path, "second")
    acquired1 = lock1.acquire(timeout=WAIT_S)
    held = lock1.is_acquired
    contenders = lock1.contenders()
    nodes = c.get_children(lock_path)
    nonblocking2 = lock2.acquire(blocking=False)

    # A second contender waits on the first one's node, then gets the lock when it is released.
    result = {}

    def contend():
        try:
            result["acquired2"] = lock2.acquire(timeout=WAIT_S * 2)
        except Exception as e:  # noqa: BLE001
            result["error2"] = "%s: %s" % (type(e).__name__, e)

    t = threading.Thread(target=contend, daemon=True)
    t.start()
    # Wait (bounded) until the contender's node exists, then release.
    waiting_seen = False
    for _ in range(100):
        if len(c.get_children(lock_path)) >= 2:
            waiting_seen = True
            break
        threading.Event().wait(0.05)
    lock1.release()
    t.join(WAIT_S * 3)
    contenders2 = lock2.contenders()
    lock2.release()
    remaining = c.get_children(lock_path)
    c2.stop()
    c2.close()
    return {"acquired1": acquired1, "held": held, "contenders": contenders,
            "nodes": len(nodes), "lock_node_names_ok": all("__lock__" in n for n in nodes),
            "nonblocking2": nonblocking2, "contender_waiting_seen": waiting_seen,
            "acquired2": result.get("acquired2"), "error2": result.get("error2"),
            "contenders_after": contenders2, "remaining": remaining}


@step("ephemeral_gone_on_stop")
def _():
    p = ROOT + "/owned"
    c3 = new_client()
    c3.create(p, b"", ephemeral=True)
    gone = threading.Event()
    events = []

    def w(event):
        events.append(ev(event))
        gone.set()

    present = c.exists(p, watch=w) is not None
    c3.stop()
    c3.close()
    fired = gone.wait(WAIT_S)
    return {"present": present, "fired": fired, "events": events, "exists_after": c.exists(p) is not None}


@step("creator_acl")
def _():
    # kazoo's CREATOR_ALL_ACL is auth:'' with ALL, which kazoo sends with a
    # null id; the server expands it to the creator's authenticated ids.
    fresh = new_client()
    try:
        fresh.create(ROOT + "/creator-noauth", b"x", acl=CREATOR_ALL_ACL)
        without_auth = "created"
    except InvalidACLError:
        without_auth = "InvalidACLError"
    owner = new_client()
    owner.add_auth("digest", "owner:pw")
    p = owner.create(ROOT + "/creator", b"mine", acl=CREATOR_ALL_ACL)
    acls, _stat = owner.get_acls(p)
    data, _ = owner.get(p)
    try:
        fresh.get(p)
        stranger = "read"
    except NoAuthError:
        stranger = "NoAuthError"
    tx = owner.transaction()
    tx.create(ROOT + "/creator-tx", b"t", acl=CREATOR_ALL_ACL)
    tx_result = tx.commit()
    owner.delete(ROOT + "/creator")
    owner.delete(ROOT + "/creator-tx")
    return {"without_auth": without_auth, "path": p, "data": data.decode(),
            "acls": [[a.perms, a.id.scheme, a.id.id] for a in acls], "stranger": stranger,
            "tx": [str(r) for r in tx_result]}


@step("ruok")
def _():
    # kazoo's four-letter-word helper, and server_version(), which parses 'envi'.
    return {"answer": c.command(b"ruok"), "version": list(c.server_version())}


@step("delete_recursive")
def _():
    try:
        c.delete(ROOT)
        nonrec = "no error"
    except NotEmptyError:
        nonrec = "NotEmptyError"
    c.delete(ROOT, recursive=True)
    return {"non_recursive": nonrec, "exists_after": c.exists(ROOT) is not None,
            "root_children": sorted(c.get_children("/"))}


@step("stop")
def _():
    c.stop()
    c.close()
    return {"connected": c.connected, "state": str(c.state)}


for other in clients:
    try:
        other.stop()
        other.close()
    except Exception:  # noqa: BLE001
        pass
emit({"step": "done"})
watchdog.cancel()
