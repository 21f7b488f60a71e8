#!/usr/bin/python3
# Test support (not a test file): kazoo's recipes (Lock, Election, Queue,
# LockingQueue, Counter, Barrier, DoubleBarrier, Party, ShallowParty) against
# a ZooKeeper server, two or more clients each, reported as JSON, one line per
# step:
#   {"step": NAME, "ok": true, ...results}   or
#   {"step": NAME, "ok": false, "error": "...", "traceback": "..."}
# and finally {"step": "done"}. Every wait is bounded; a watchdog exits the
# process (after printing {"step": "watchdog"}) if the whole run takes too
# long. Threads that might block inside a recipe (kazoo waits without a
# timeout in DoubleBarrier) are daemons joined with a timeout.
#
# usage: /usr/bin/python3 kazoo_recipes.py HOST:PORT [ROOT] [WATCHDOG_SECONDS]

import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo_harness import emit, start_watchdog, step

HOSTS = sys.argv[1]
ROOT = sys.argv[2] if len(sys.argv) > 2 else "/recipes"
WATCHDOG_S = float(sys.argv[3]) if len(sys.argv) > 3 else 40.0
WAIT_S = 5.0

watchdog = start_watchdog(WATCHDOG_S)

clients = []


def new_client():
    c = KazooClient(hosts=HOSTS, timeout=10.0)
    clients.append(c)
    c.start(timeout=10)
    return c


def close_client(c):
    try:
        c.stop()
        c.close()
    except Exception:  # noqa: BLE001
        pass
    if c in clients:
        clients.remove(c)


def run_thread(fn):
    """Start fn in a daemon thread; returns (thread, result dict with 'value' or 'error')."""
    out = {}

    def body():
        try:
            out["value"] = fn()
        except Exception as e:  # noqa: BLE001
            out["error"] = "%s: %s" % (type(e).__name__, e)

    t = threading.Thread(target=body, daemon=True)
    t.start()
    return t, out


def wait_until(pred, timeout=WAIT_S, interval=0.02):
    """Poll pred (bounded in time); True once it holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return pred()


@step("lock")
def _():
    """Two clients take turns on one Lock; a read-modify-write under it never interleaves."""
    path = ROOT + "/lock"
    data_path = ROOT + "/lock-data"
    c1, c2 = new_client(), new_client()
    c1.ensure_path(ROOT)
    c1.create(data_path, b"0")
    inside = [0]
    max_inside = [0]
    track = threading.Lock()
    order = []

    def worker(client, name, rounds):
        lock = client.Lock(path, name)
        for _ in range(rounds):
            if not lock.acquire(timeout=WAIT_S * 2):
                raise RuntimeError("%s could not take the lock" % name)
            try:
                with track:
                    inside[0] += 1
                    max_inside[0] = max(max_inside[0], inside[0])
                    order.append(name)
                value = int(client.get(data_path)[0])
                time.sleep(0.005)
                client.set(data_path, str(value + 1).encode())
                with track:
                    inside[0] -= 1
            finally:
                lock.release()
        return True

    # First a plain contention check: the second waits until the first releases.
    l1 = c1.Lock(path, "one")
    l2 = c2.Lock(path, "two")
    got1 = l1.acquire(timeout=WAIT_S)
    nonblocking2 = l2.acquire(blocking=False)
    t, res = run_thread(lambda: l2.acquire(timeout=WAIT_S * 2))
    waiting = wait_until(lambda: len(c1.get_children(path)) >= 2)
    contenders = l1.contenders()
    early = not t.is_alive()
    released_at = time.monotonic()
    l1.release()
    t.join(WAIT_S * 3)
    got2_after = time.monotonic() >= released_at
    got2 = res.get("value")
    l2.release()

    t1, r1 = run_thread(lambda: worker(c1, "one", 10))
    t2, r2 = run_thread(lambda: worker(c2, "two", 10))
    t1.join(WAIT_S * 4)
    t2.join(WAIT_S * 4)
    final = int(c1.get(data_path)[0])
    remaining = c1.get_children(path)
    close_client(c2)
    close_client(c1)
    return {"got1": got1, "nonblocking2": nonblocking2, "waiting_seen": waiting, "contenders": contenders,
            "second_done_before_release": early, "got2": got2, "got2_error": res.get("error"),
            "got2_after_release": got2_after,
            "workers": [r1.get("value"), r2.get("value")], "worker_errors": [r1.get("error"), r2.get("error")],
            "final": final, "max_inside": max_inside[0], "turns": len(order),
            "both_had_turns": "one" in order and "two" in order, "remaining": remaining}


@step("election")
def _():
    """One leader at a time; the second runs only after the first leaves."""
    path = ROOT + "/election"
    c1, c2 = new_client(), new_client()
    e1 = c1.Election(path, "first")
    e2 = c2.Election(path, "second")
    log = []
    log_lock = threading.Lock()
    leave = {"first": threading.Event(), "second": threading.Event()}
    started = {"first": threading.Event(), "second": threading.Event()}

    def lead(name):
        with log_lock:
            log.append("start " + name)
        started[name].set()
        leave[name].wait(WAIT_S * 2)
        with log_lock:
            log.append("end " + name)

    t1, r1 = run_thread(lambda: e1.run(lead, "first"))
    first_started = started["first"].wait(WAIT_S)
    t2, r2 = run_thread(lambda: e2.run(lead, "second"))
    # The second contender registers, then must not lead while the first does.
    both = wait_until(lambda: len(e1.contenders()) >= 2)
    contenders = e1.contenders()
    second_early = started["second"].wait(0.3)
    leave["first"].set()
    t1.join(WAIT_S)
    second_started = started["second"].wait(WAIT_S)
    contenders_second = e2.contenders()
    leave["second"].set()
    t2.join(WAIT_S)
    with log_lock:
        seen = list(log)
    remaining = c1.get_children(path)
    close_client(c2)
    close_client(c1)
    return {"first_started": first_started, "both_contending": both, "contenders": contenders,
            "second_led_while_first_did": second_early, "second_started": second_started,
            "contenders_while_second_leads": contenders_second, "log": seen,
            "errors": [r1.get("error"), r2.get("error")], "threads_done": [not t1.is_alive(), not t2.is_alive()],
            "remaining": remaining}


@step("queue")
def _():
    """put/get in FIFO order; two consumers share the entries without duplicates or losses."""
    path = ROOT + "/queue"
    c1, c2 = new_client(), new_client()
    q1 = c1.Queue(path)
    q2 = c2.Queue(path)
    for i in range(5):
        q1.put(("item-%d" % i).encode())
    length = len(q1)
    fifo = [q2.get().decode() for _ in range(3)]
    # Priorities: a lower number comes out first.
    q1.put(b"low", priority=200)
    q1.put(b"high", priority=1)
    rest = []
    for _ in range(4):
        v = q1.get()
        rest.append(None if v is None else v.decode())
    empty = q1.get()
    # Two consumers drain 40 entries concurrently.
    n = 40
    for i in range(n):
        q1.put(("job-%02d" % i).encode())
    got = {"one": [], "two": []}

    def consume(q, name):
        for _ in range(n * 3):
            v = q.get()
            if v is None:
                break
            got[name].append(v.decode())
        return len(got[name])

    ta, ra = run_thread(lambda: consume(c1.Queue(path), "one"))
    tb, rb = run_thread(lambda: consume(c2.Queue(path), "two"))
    ta.join(WAIT_S * 3)
    tb.join(WAIT_S * 3)
    consumed = got["one"] + got["two"]
    result = {"length_after_puts": length, "fifo": fifo, "rest": rest, "empty": empty,
              "consumed": len(consumed), "distinct": len(set(consumed)),
              "all_jobs": sorted(consumed) == ["job-%02d" % i for i in range(n)],
              "each_in_order": all(g == sorted(g) for g in got.values()),
              "consumer_errors": [ra.get("error"), rb.get("error")],
              "length_at_end": len(q1)}
    close_client(c2)
    close_client(c1)
    return result


@step("locking_queue")
def _():
    """LockingQueue (uses multi): get() locks an entry, consume() removes it, release() gives it back."""
    path = ROOT + "/lqueue"
    c1, c2 = new_client(), new_client()
    q1 = c1.LockingQueue(path)
    q2 = c2.LockingQueue(path)
    q1.put(b"a")
    q1.put_all([b"b", b"c"])
    length = len(q1)
    first = q1.get(WAIT_S)
    other = q2.get(WAIT_S)
    held = q1.holds_lock()
    consumed = q1.consume()
    released = q2.release()
    again = q1.get(WAIT_S)
    q1.consume()
    third = q2.get(WAIT_S)
    q2.consume()
    none = q1.get(0.2)
    result = {"length": length, "first": first.decode(), "other": other.decode(), "held": held,
              "consumed": consumed, "released": released, "again": again.decode(), "third": third.decode(),
              "none": none, "length_at_end": len(q1)}
    close_client(c2)
    close_client(c1)
    return result


@step("counter")
def _():
    """Concurrent increments from two clients add up (version-checked sets, retried)."""
    path = ROOT + "/counter"
    c1, c2 = new_client(), new_client()
    k1 = c1.Counter(path)
    k2 = c2.Counter(path)
    k1 += 5
    pre, post = k1.pre_value, k1.post_value
    k2 -= 2
    value0 = k1.value
    n = 25

    def bump(counter):
        for _ in range(n):
            counter += 1
        return True

    t1, r1 = run_thread(lambda: bump(c1.Counter(path)))
    t2, r2 = run_thread(lambda: bump(c2.Counter(path)))
    t1.join(WAIT_S * 4)
    t2.join(WAIT_S * 4)
    final = k2.value
    version = c1.get(path)[1].version
    # Float counter and Curator-compatible (4-byte int) encoding.
    f = c1.Counter(ROOT + "/fcounter", default=1.5)
    f += 2.25
    cur = c1.Counter(ROOT + "/ccounter", support_curator=True)
    cur += 7
    raw = c2.get(ROOT + "/ccounter")[0]
    result = {"pre": pre, "post": post, "value0": value0, "final": final, "version": version,
              "errors": [r1.get("error"), r2.get("error")], "done": [not t1.is_alive(), not t2.is_alive()],
              "float": f.value, "curator_raw_hex": raw.hex(), "curator_value": cur.value}
    close_client(c2)
    close_client(c1)
    return result


@step("barrier")
def _():
    """Barrier: waiters block while it is up and go once it is removed."""
    path = ROOT + "/barrier"
    c1, c2 = new_client(), new_client()
    b1 = c1.Barrier(path)
    b2 = c2.Barrier(path)
    b1.create()
    short = b2.wait(timeout=0.3)
    t, res = run_thread(lambda: b2.wait(timeout=WAIT_S * 2))
    time.sleep(0.2)
    still_waiting = t.is_alive()
    removed = b1.remove()
    t.join(WAIT_S)
    after = b2.wait(timeout=0.5)
    result = {"wait_while_up": short, "still_waiting": still_waiting, "removed": removed,
              "waiter_released": res.get("value"), "waiter_error": res.get("error"),
              "wait_when_down": after, "exists_after": c1.exists(path) is not None}
    close_client(c2)
    close_client(c1)
    return result


@step("double_barrier")
def _():
    """DoubleBarrier for three: enter blocks until all have entered, leave until all have left."""
    path = ROOT + "/dbarrier"
    cs = [new_client() for _ in range(3)]
    bars = [c.DoubleBarrier(path, 3, identifier="m%d" % i) for i, c in enumerate(cs)]
    entered = [threading.Event() for _ in bars]
    left = [threading.Event() for _ in bars]
    go_leave = threading.Event()
    states = []

    def member(i):
        bars[i].enter()
        entered[i].set()
        go_leave.wait(WAIT_S * 2)
        if i == 0:
            # The first leaver waits for the others.
            pass
        bars[i].leave()
        left[i].set()
        return bars[i].participating

    threads = []
    results = []
    for i in range(2):
        t, r = run_thread(lambda i=i: member(i))
        threads.append(t)
        results.append(r)
    time.sleep(0.3)
    two_entered_early = any(e.is_set() for e in entered[:2])
    members_while_two = len([ch for ch in cs[0].get_children(path) if ch != "ready"])
    t, r = run_thread(lambda: member(2))
    threads.append(t)
    results.append(r)
    all_entered = all(e.wait(WAIT_S) for e in entered)
    ready_exists = cs[0].exists(path + "/ready") is not None
    go_leave.set()
    all_left = all(e.wait(WAIT_S) for e in left)
    for t in threads:
        t.join(WAIT_S)
    remaining = cs[0].get_children(path)
    states = [r.get("value") for r in results]
    result = {"entered_before_all_arrived": two_entered_early, "members_while_two": members_while_two,
              "all_entered": all_entered, "ready_created": ready_exists, "all_left": all_left,
              "participating_after_leave": states, "errors": [r.get("error") for r in results],
              "remaining": remaining}
    for c in cs:
        close_client(c)
    return result


@step("party")
def _():
    """Party and ShallowParty: members join and leave; len() follows; a lost session leaves too."""
    path = ROOT + "/party"
    c1, c2, c3 = new_client(), new_client(), new_client()
    p1 = c1.Party(path, "alpha")
    p2 = c2.Party(path, "beta")
    p3 = c3.Party(path, "gamma")
    lens = [len(p1)]
    p1.join()
    lens.append(len(p1))
    p2.join()
    p3.join()
    lens.append(len(p2))
    members = sorted(p1)
    p2.leave()
    lens.append(len(p1))
    members_after_leave = sorted(p3)
    # A member whose client closes its session drops out.
    close_client(c3)
    lens.append(len(p1))
    members_after_close = sorted(p1)
    p2.join()
    lens.append(len(p1))
    s1 = c1.ShallowParty(path + "-shallow", "one")
    s2 = c2.ShallowParty(path + "-shallow", "two")
    s1.join()
    s2.join()
    shallow = sorted(s1)
    shallow_len = len(s2)
    s1.leave()
    shallow_after = sorted(s2)
    result = {"lens": lens, "members": members, "members_after_leave": members_after_leave,
              "members_after_close": members_after_close, "shallow": shallow, "shallow_len": shallow_len,
              "shallow_after": shallow_after}
    close_client(c2)
    close_client(c1)
    return result


for other in list(clients):
    close_client(other)
emit({"step": "done"})
watchdog.cancel()
