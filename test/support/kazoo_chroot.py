#!/usr/bin/python3
# Test support (not a test file): kazoo with a chroot connection string
# (HOST:PORT/app) against a ZooKeeper server, next to a client without one.
# Prints one JSON line per step, {"step": NAME, "ok": ..., ...}, then
# {"step": "done"}. Every wait is bounded; a watchdog exits the process.
#
# usage: /usr/bin/python3 kazoo_chroot.py HOST:PORT CHROOT [WATCHDOG_SECONDS]

import sys
import threading

from kazoo.client import KazooClient
from kazoo_harness import emit, start_watchdog, step, barrier

HOSTS = sys.argv[1]
CHROOT = sys.argv[2] if len(sys.argv) > 2 else "/app"
WATCHDOG_S = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0
WAIT_S = 5.0

watchdog = start_watchdog(WATCHDOG_S)


def ev(e):
    return None if e is None else {"type": e.type, "path": e.path}


class Recorder(object):
    """A watch function that records its events and can be waited on."""

    def __init__(self):
        self.events = []
        self.cond = threading.Condition()

    def __call__(self, event):
        with self.cond:
            self.events.append(ev(event))
            self.cond.notify_all()

    def wait(self, n=1):
        with self.cond:
            return self.cond.wait_for(lambda: len(self.events) >= n, WAIT_S)


plain = KazooClient(hosts=HOSTS, timeout=10.0)
plain.start(timeout=10)
plain.ensure_path(CHROOT)
rooted = KazooClient(hosts=HOSTS + CHROOT, timeout=10.0)
rooted.start(timeout=10)


@step("create")
def _():
    x = rooted.create("/x", b"one")
    seq = rooted.create("/s-", b"", sequence=True)
    eph = rooted.create("/e", b"", ephemeral=True)
    deep = rooted.create("/deep/er", b"d", makepath=True)
    path2, stat2 = rooted.create("/with-stat", b"ws", include_data=True)
    return {"x": x, "seq": seq, "eph": eph, "deep": deep, "create2_path": path2,
            "eph_owner_is_session": stat2 is not None and rooted.exists("/e").ephemeralOwner == rooted.client_id[0],
            "under_chroot": {p: plain.exists(CHROOT + p) is not None for p in ("/x", seq, "/e", "/deep/er", "/with-stat")},
            "at_real_root": {p: plain.exists(p) is not None for p in ("/x", "/e", "/deep")}}


@step("read")
def _():
    data, stat = rooted.get("/x")
    children = sorted(rooted.get_children("/"))
    real = sorted(plain.get_children(CHROOT))
    return {"data": data.decode(), "version": stat.version, "children": children, "same_as_real": children == real,
            "root_exists": rooted.exists("/") is not None,
            "root_stat_matches_chroot": rooted.exists("/").czxid == plain.exists(CHROOT).czxid}


@step("transaction")
def _():
    t = rooted.transaction()
    t.create("/tx", b"t")
    t.create("/tx-seq-", b"", sequence=True)
    t.set_data("/x", b"two")
    results = t.commit()
    out = []
    for r in results:
        out.append(r if isinstance(r, (str, bool)) else type(r).__name__)
    return {"results": out, "tx_under_chroot": plain.exists(CHROOT + "/tx") is not None,
            "x_data_real": plain.get(CHROOT + "/x")[0].decode()}


@step("watches")
def _():
    data_w = Recorder()
    child_w = Recorder()
    exist_w = Recorder()
    rooted.get("/x", watch=data_w)
    rooted.get_children("/", watch=child_w)
    rooted.exists("/later", watch=exist_w)
    # Changes made through the client without a chroot, at the real paths.
    plain.set(CHROOT + "/x", b"three")
    ok_data = data_w.wait()
    plain.create(CHROOT + "/later", b"")
    ok_exist = exist_w.wait()
    ok_child = child_w.wait()
    # A delete seen through a fresh data watch.
    del_w = Recorder()
    rooted.get("/later", watch=del_w)
    plain.delete(CHROOT + "/later")
    ok_del = del_w.wait()
    barrier(rooted)
    return {"waits": [ok_data, ok_exist, ok_child, ok_del], "data": data_w.events, "exist": exist_w.events,
            "child": child_w.events, "delete": del_w.events}


@step("delete")
def _():
    rooted.delete("/deep", recursive=True)
    return {"deep_gone_real": plain.exists(CHROOT + "/deep") is None, "x_still_there": plain.exists(CHROOT + "/x") is not None}


@step("close")
def _():
    sid = rooted.client_id[0]
    rooted.stop()
    rooted.close()
    return {"ephemeral_gone": plain.exists(CHROOT + "/e") is None, "had_session": sid != 0}


plain.stop()
plain.close()
emit({"step": "done"})
watchdog.cancel()
