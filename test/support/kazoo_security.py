#!/usr/bin/python3
# Test support (not a test file): kazoo (with pure-sasl for DIGEST-MD5)
# against a server with TLS and SASL, one JSON line per step:
#   {"step": NAME, "ok": true, ...}  or  {"step": NAME, "ok": false, "error": "...", "traceback": "..."}
# A step that is expected to be refused reports ok=true with "refused": <how>.
# Every wait is bounded; a watchdog ends the process if the run takes too long.
#
# usage: kazoo_security.py SCENARIO JSON_ARGS
#   SCENARIO tls:          connect over TLS with a client certificate; write, read,
#                          an ACL for the certificate's x509 id
#   SCENARIO sasl:         DIGEST-MD5 login; an ACL for sasl:<user>; another
#                          session without it is refused (NoAuth)
#   SCENARIO refused:      one connection attempt expected to fail (wrong password,
#                          expired or untrusted certificate, no certificate)

import json
import sys
import traceback

from kazoo.client import KazooClient
from kazoo_harness import emit, start_watchdog
from kazoo.exceptions import NoAuthError
from kazoo.security import ACL, Id, Permissions

SCENARIO = sys.argv[1]
ARGS = json.loads(sys.argv[2])
WATCHDOG_S = float(ARGS.get("watchdog", 40))
watchdog = start_watchdog(WATCHDOG_S)


def step(name, fn):
    try:
        res = fn() or {}
        res.update({"step": name, "ok": True})
        emit(res)
        return True
    except Exception as e:  # noqa: BLE001 - every failure is reported
        emit({"step": name, "ok": False, "error": "%s: %s" % (type(e).__name__, e), "traceback": traceback.format_exc()})
        return False


def client(a):
    kw = {"hosts": a["hosts"], "timeout": 10.0}
    if a.get("ssl"):
        kw.update(use_ssl=True, ca=a.get("ca"), certfile=a.get("certfile"), keyfile=a.get("keyfile"),
                  verify_certs=a.get("verify", True))
    if a.get("sasl"):
        kw["sasl_options"] = {"mechanism": "DIGEST-MD5", "username": a["sasl"]["user"], "password": a["sasl"]["password"]}
    return KazooClient(**kw)


def tls():
    zk = client(ARGS)
    step("connect", lambda: zk.start(timeout=10) or {})
    root = ARGS.get("root", "/tls")

    def write_read():
        zk.create(root, b"over tls")
        data, stat = zk.get(root)
        return {"data": data.decode(), "version": stat.version}
    step("write-read", write_read)

    def x509_acl():
        path = root + "/cert-only"
        zk.create(path, b"secret", acl=[ACL(Permissions.ALL, Id("x509", ARGS["dn"]))])
        data, _ = zk.get(path)
        acl, _ = zk.get_acls(path)
        return {"data": data.decode(), "acl": [[a.perms, a.id.scheme, a.id.id] for a in acl]}
    step("x509-acl", x509_acl)

    def addauth_x509():
        # addauth x509 re-checks the connection's certificate (Apache's X509AuthenticationProvider).
        zk.add_auth("x509", "")
        return {"exists": zk.exists(root) is not None}
    step("addauth-x509", addauth_x509)
    zk.stop()
    zk.close()


def sasl():
    zk = client(ARGS)
    step("connect", lambda: zk.start(timeout=10) or {})
    root = ARGS.get("root", "/sasl")
    user = ARGS["sasl"]["user"]

    def sasl_acl():
        zk.create(root, b"for " + user.encode(), acl=[ACL(Permissions.ALL, Id("sasl", user))])
        data, _ = zk.get(root)
        return {"data": data.decode()}
    step("sasl-acl", sasl_acl)

    def other_session():
        plain = KazooClient(hosts=ARGS["hosts"], timeout=10.0)
        plain.start(timeout=10)
        try:
            plain.get(root)
            return {"refused": None}
        except NoAuthError:
            return {"refused": "NoAuthError"}
        finally:
            plain.stop()
            plain.close()
    step("other-session", other_session)
    zk.stop()
    zk.close()


def refused():
    zk = client(ARGS)
    states = []
    zk.add_listener(lambda s: states.append(str(s)))

    def attempt():
        try:
            zk.start(timeout=float(ARGS.get("wait", 6)))
        except Exception as e:  # noqa: BLE001
            return {"refused": type(e).__name__, "message": str(e), "states": states}
        try:
            zk.get("/")
            return {"refused": None, "states": states}
        except Exception as e:  # noqa: BLE001
            return {"refused": type(e).__name__, "message": str(e), "states": states}
    step("attempt", attempt)
    try:
        zk.stop()
        zk.close()
    except Exception:  # noqa: BLE001
        pass


{"tls": tls, "sasl": sasl, "refused": refused}[SCENARIO]()
emit({"step": "done", "ok": True})
watchdog.cancel()
