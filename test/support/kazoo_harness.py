# Test support (not a test file): what the kazoo scripts share. Output is one
# JSON line per step; a watchdog ends the process if a run takes too long;
# `step` runs a function at once and reports its result or its failure;
# `barrier` waits for kazoo's callback thread to run every queued watch.
# Imported by kazoo_scenario.py, kazoo_recipes.py, kazoo_chroot.py and
# kazoo_security.py (Python puts a script's own folder on sys.path).

import json
import os
import sys
import threading
import traceback

from kazoo.protocol.states import Callback

_out_lock = threading.Lock()


def emit(obj):
    with _out_lock:
        sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
        sys.stdout.flush()


def start_watchdog(seconds):
    """Exit with status 3, after a {"step": "watchdog"} line, if the run lasts longer than seconds."""
    def fire():
        emit({"step": "watchdog", "ok": False, "error": "scenario did not finish within %.0f s" % seconds})
        os._exit(3)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    return timer


def step(name):
    """Decorator: run the function now and emit {"step": name, "ok": ...} with its result or error."""
    def deco(fn):
        try:
            res = fn() or {}
            res.update({"step": name, "ok": True})
        except Exception as e:  # noqa: BLE001 - report every failure as data
            res = {"step": name, "ok": False, "error": "%s: %s" % (type(e).__name__, e),
                   "traceback": traceback.format_exc()}
        emit(res)
        return fn
    return deco


def barrier(client, wait_s=5.0):
    """Wait until every watch callback queued so far has run (kazoo runs them in order on one thread)."""
    done = threading.Event()
    client.handler.dispatch_callback(Callback("watch", done.set, ()))
    if not done.wait(wait_s):
        raise RuntimeError("callback queue barrier timed out")
