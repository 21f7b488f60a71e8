// Test support (not a test file): drive Go's ZooKeeper client
// (github.com/samuel/go-zookeeper/zk, Debian golang-github-samuel-go-zookeeper-dev;
// the same API as its successor github.com/go-zookeeper/zk) against a
// ZooKeeper server and print what happened as JSON, one line per step:
//
//	{"step": NAME, "ok": true, ...results}   or
//	{"step": NAME, "ok": false, "error": "..."}
//
// and finally {"step": "done"}. Every wait is bounded, each step has its own
// time limit, and a watchdog exits the process (after printing
// {"step": "watchdog"}) if the whole run takes too long.
//
// The output is meant to be the same on every server that behaves like Apache
// ZooKeeper 3.8: session ids are printed by name ("main", "c2", ...) wherever
// they appear as values (ephemeralOwner, cons), zxids are printed relative to
// the czxid of ROOT, and times only as checks ("recent"). Only the connect
// step prints the raw session id and the flw step the server's own figures.
// Child lists are sorted (the order is unspecified).
//
// usage: go_scenario HOST:PORT [ROOT] [WATCHDOG_SECONDS]
//
// Built by test/integration/go-client.test.ts in GOPATH mode
// (GO111MODULE=off GOPATH=/usr/share/gocode).
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"reflect"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/samuel/go-zookeeper/zk"
)

// R is one step's results.
type R = map[string]interface{}

const (
	sessionTimeout = 10 * time.Second
	waitTime       = 5 * time.Second
	stepTime       = 20 * time.Second
)

var (
	hostPort  string
	root      string
	outMu     sync.Mutex
	zxidBase  int64
	namesMu   sync.Mutex
	sessNames = map[int64]string{}
)

func emit(m R) {
	b, err := json.Marshal(m)
	if err != nil {
		b, _ = json.Marshal(R{"step": m["step"], "ok": false, "error": "cannot encode results: " + err.Error()})
	}
	outMu.Lock()
	os.Stdout.Write(append(b, '\n'))
	outMu.Unlock()
}

// failure is what fail() panics with inside a step.
type failure struct{ msg string }

func fail(format string, a ...interface{}) { panic(failure{fmt.Sprintf(format, a...)}) }

func must(err error, what string) {
	if err != nil {
		fail("%s: %v", what, err)
	}
}

func must1[T any](v T, err error) func(string) T {
	return func(what string) T { must(err, what); return v }
}

// step runs f with a time limit and emits its results; it reports whether f succeeded.
func step(name string, f func() R) bool {
	done := make(chan R, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				if fl, ok := r.(failure); ok {
					done <- R{"step": name, "ok": false, "error": fl.msg}
				} else {
					done <- R{"step": name, "ok": false, "error": fmt.Sprintf("panic: %v", r), "traceback": string(debug.Stack())}
				}
			}
		}()
		res := f()
		if res == nil {
			res = R{}
		}
		res["step"] = name
		res["ok"] = true
		done <- res
	}()
	select {
	case r := <-done:
		emit(r)
		return r["ok"] == true
	case <-time.After(stepTime):
		emit(R{"step": name, "ok": false, "error": fmt.Sprintf("step did not finish within %v", stepTime)})
		return false
	}
}

// ---- names for errors, states, events, sessions, stats ---------------------

var errNames = map[error]string{
	zk.ErrConnectionClosed:        "ErrConnectionClosed",
	zk.ErrUnknown:                 "ErrUnknown",
	zk.ErrAPIError:                "ErrAPIError",
	zk.ErrNoNode:                  "ErrNoNode",
	zk.ErrNoAuth:                  "ErrNoAuth",
	zk.ErrBadVersion:              "ErrBadVersion",
	zk.ErrNoChildrenForEphemerals: "ErrNoChildrenForEphemerals",
	zk.ErrNodeExists:              "ErrNodeExists",
	zk.ErrNotEmpty:                "ErrNotEmpty",
	zk.ErrSessionExpired:          "ErrSessionExpired",
	zk.ErrInvalidACL:              "ErrInvalidACL",
	zk.ErrAuthFailed:              "ErrAuthFailed",
	zk.ErrClosing:                 "ErrClosing",
	zk.ErrNothing:                 "ErrNothing",
	zk.ErrSessionMoved:            "ErrSessionMoved",
	zk.ErrNoServer:                "ErrNoServer",
	zk.ErrInvalidPath:             "ErrInvalidPath",
	zk.ErrDeadlock:                "ErrDeadlock",
	zk.ErrNotLocked:               "ErrNotLocked",
}

// en names an error: nil, the zk variable's name, or its text.
func en(err error) interface{} {
	if err == nil {
		return nil
	}
	if n, ok := errNames[err]; ok {
		return n
	}
	return err.Error()
}

func stateName(s zk.State) string {
	if n := s.String(); n != "Unknown" {
		return n
	}
	return fmt.Sprintf("State(%d)", int32(s))
}

func ev(e zk.Event) R {
	return R{"type": e.Type.String(), "state": stateName(e.State), "path": e.Path, "err": en(e.Err)}
}

func hex(id int64) string { return fmt.Sprintf("%016x", uint64(id)) }

func nameSession(id int64, name string) {
	namesMu.Lock()
	sessNames[id] = name
	namesMu.Unlock()
}

// sess is a session id by name when it is one of this program's sessions.
func sess(id int64) string {
	if id == 0 {
		return "0"
	}
	namesMu.Lock()
	defer namesMu.Unlock()
	if n, ok := sessNames[id]; ok {
		return n
	}
	return "other:" + hex(id)
}

func recent(ms int64) bool {
	d := time.Now().UnixNano()/1e6 - ms
	return d > -60000 && d < 60000
}

func statMap(s *zk.Stat) interface{} {
	if s == nil {
		return nil
	}
	if *s == (zk.Stat{}) {
		return "zero"
	}
	return R{
		"czxid": s.Czxid - zxidBase, "mzxid": s.Mzxid - zxidBase, "pzxid": s.Pzxid - zxidBase,
		"ctime_recent": recent(s.Ctime), "mtime_recent": recent(s.Mtime),
		"version": s.Version, "cversion": s.Cversion, "aversion": s.Aversion,
		"ephemeralOwner": sess(s.EphemeralOwner), "dataLength": s.DataLength, "numChildren": s.NumChildren,
	}
}

func aclList(acl []zk.ACL) [][]interface{} {
	out := [][]interface{}{}
	for _, a := range acl {
		out = append(out, []interface{}{a.Perms, a.Scheme, a.ID})
	}
	return out
}

// data describes a znode's data: its text, and whether the client got nil (length -1).
func data(b []byte) R { return R{"text": string(b), "nil": b == nil, "len": len(b)} }

// sorted sorts a child list, with protected() names.
func sorted(s []string) []string {
	out := []string{}
	for _, n := range s {
		out = append(out, protected(n))
	}
	sort.Strings(out)
	return out
}

// ---- clients -----------------------------------------------------------------

type prefixLogger struct{ name string }

func (l prefixLogger) Printf(format string, a ...interface{}) {
	log.Printf("[%s] %s", l.name, fmt.Sprintf(format, a...))
}

// client is a connection with every event it had, recorded by the event
// callback (which, unlike the event channel, never drops one).
type client struct {
	name   string
	conn   *zk.Conn
	ch     <-chan zk.Event
	mu     sync.Mutex
	events []zk.Event
}

func (c *client) record(e zk.Event) {
	c.mu.Lock()
	c.events = append(c.events, e)
	c.mu.Unlock()
}

func (c *client) mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.events)
}

func (c *client) since(i int) []zk.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]zk.Event{}, c.events[i:]...)
}

// waitFor waits (bounded) for an event after index from that pred accepts.
func (c *client) waitFor(from int, limit time.Duration, pred func(zk.Event) bool) bool {
	deadline := time.Now().Add(limit)
	for {
		for _, e := range c.since(from) {
			if pred(e) {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func isState(s zk.State) func(zk.Event) bool {
	return func(e zk.Event) bool { return e.Type == zk.EventSession && e.State == s }
}

// notifications are the watch events (not session events) on path since index from.
func (c *client) notifications(from int, path string) []R {
	out := []R{}
	for _, e := range c.since(from) {
		if e.Type != zk.EventSession && e.Path == path {
			out = append(out, ev(e))
		}
	}
	return out
}

// sessionEvents are the session states since index from.
func (c *client) sessionEvents(from int) []string {
	out := []string{}
	for _, e := range c.since(from) {
		if e.Type == zk.EventSession {
			out = append(out, stateName(e.State))
		}
	}
	return out
}

// barrier makes a round trip: notifications sent before its reply have been handled.
func (c *client) barrier() {
	_, _, err := c.conn.Exists("/")
	must(err, c.name+" barrier")
}

// dial connects to server and waits (bounded) for the session. The event
// channel is left for the caller to read when drain is false.
func dial(name, server string, timeout time.Duration, drain bool) *client {
	c := &client{name: name}
	conn, ch, err := zk.Connect([]string{server}, timeout, zk.WithEventCallback(c.record), zk.WithLogger(prefixLogger{name}))
	must(err, name+" connect")
	c.conn = conn
	c.ch = ch
	if drain {
		go func() {
			for range ch {
			}
		}()
	}
	if !c.waitFor(0, 10*time.Second, isState(zk.StateHasSession)) {
		conn.Close()
		fail("%s: no session within 10 s (events %v)", name, c.sessionEvents(0))
	}
	nameSession(conn.SessionID(), name)
	return c
}

// negotiated is the session timeout the server answered (the client keeps it unexported).
func negotiated(c *zk.Conn) int64 {
	return reflect.ValueOf(c).Elem().FieldByName("sessionTimeoutMs").Int()
}

func (c *client) close() {
	done := make(chan struct{})
	go func() { c.conn.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(waitTime):
	}
}

// wait receives one event from a watch channel, bounded.
func wait(ch <-chan zk.Event) R {
	select {
	case e, ok := <-ch:
		if !ok {
			return R{"closed": true}
		}
		return ev(e)
	case <-time.After(waitTime):
		return nil
	}
}

// pending tells what a watch channel holds now without waiting: "nothing", "closed" or the event.
func pending(ch <-chan zk.Event) interface{} {
	select {
	case e, ok := <-ch:
		if !ok {
			return "closed"
		}
		return ev(e)
	default:
		return "nothing"
	}
}

// ---- a TCP proxy whose connections can be cut -----------------------------

type proxy struct {
	ln       net.Listener
	target   string
	mu       sync.Mutex
	conns    []net.Conn
	paused   bool
	accepted int
	refused  int
}

func newProxy(target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err, "proxy listen")
	p := &proxy{ln: ln, target: target}
	go p.loop()
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) loop() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.paused {
			p.refused++
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.mu.Unlock()
		s, err := net.DialTimeout("tcp", p.target, 2*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.accepted++
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go pipe(c, s)
		go pipe(s, c)
	}
}

func pipe(dst, src net.Conn) {
	io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// cut closes every proxied connection and refuses new ones until resume.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paused = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) resume() {
	p.mu.Lock()
	p.paused = false
	p.mu.Unlock()
}

func (p *proxy) close() {
	p.ln.Close()
	p.cut()
}

// ---- the scenario ---------------------------------------------------------

var protectedRe = regexp.MustCompile(`_c_[0-9a-f]{32}-`)

// protected replaces CreateProtectedEphemeralSequential's random GUID by "GUID".
func protected(p string) string { return protectedRe.ReplaceAllString(p, "_c_GUID-") }

// deleteAll deletes path and everything under it.
func deleteAll(c *zk.Conn, path string) error {
	kids, _, err := c.Children(path)
	if err == zk.ErrNoNode {
		return nil
	}
	if err != nil {
		return err
	}
	for _, k := range kids {
		if err := deleteAll(c, path+"/"+k); err != nil {
			return err
		}
	}
	err = c.Delete(path, -1)
	if err == zk.ErrNoNode {
		return nil
	}
	return err
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go_scenario HOST:PORT [ROOT] [WATCHDOG_SECONDS]")
		os.Exit(2)
	}
	hostPort = os.Args[1]
	root = "/go"
	if len(os.Args) > 2 {
		root = os.Args[2]
	}
	watchdog := 40.0
	if len(os.Args) > 3 {
		if w, err := strconv.ParseFloat(os.Args[3], 64); err == nil {
			watchdog = w
		}
	}
	log.SetFlags(log.Lmicroseconds)
	time.AfterFunc(time.Duration(watchdog*float64(time.Second)), func() {
		emit(R{"step": "watchdog", "ok": false, "error": fmt.Sprintf("scenario did not finish within %.0f s", watchdog)})
		os.Exit(3)
	})

	var mc *client

	// connect: the session, the states on the event channel, the negotiated timeouts.
	step("connect", func() R {
		mc = dial("main", hostPort, sessionTimeout, false)
		// The first events, read from the channel as a Go program does.
		channel := []R{}
		deadline := time.After(waitTime)
	read:
		for {
			select {
			case e := <-mc.ch:
				channel = append(channel, R{"type": e.Type.String(), "state": stateName(e.State), "server_is_host": e.Server == hostPort})
				if e.State == zk.StateHasSession {
					break read
				}
			case <-deadline:
				break read
			}
		}
		go func() {
			for range mc.ch {
			}
		}()
		// Outside [2, 20] x tickTime (2000 ms) the server answers the bound.
		low := dial("low", hostPort, time.Second, true)
		lowMs := negotiated(low.conn)
		low.close()
		high := dial("high", hostPort, 100*time.Second, true)
		highMs := negotiated(high.conn)
		high.close()
		return R{
			"session_id": hex(mc.conn.SessionID()), "state": stateName(mc.conn.State()),
			"server": mc.conn.Server() == hostPort, "channel": channel,
			"negotiated_ms": negotiated(mc.conn), "negotiated_1s_ms": lowMs, "negotiated_100s_ms": highMs,
		}
	})
	if mc == nil {
		emit(R{"step": "done"})
		os.Exit(1)
	}
	c := mc.conn
	all := zk.WorldACL(zk.PermAll)

	// create: every flag, the errors, protected ephemeral sequential, the stat of a fresh node.
	step("create", func() R {
		r := must1(c.Create(root, []byte("root"), 0, all))("create root")
		_, st, err := c.Exists(root)
		must(err, "exists root")
		zxidBase = st.Czxid
		plain := must1(c.Create(root+"/plain", []byte("v0"), 0, all))("create plain")
		eph := must1(c.Create(root+"/eph", []byte("e"), zk.FlagEphemeral, all))("create ephemeral")
		seq := must1(c.Create(root+"/seq-", []byte("s"), zk.FlagSequence, all))("create sequential")
		eseq := must1(c.Create(root+"/eseq-", nil, zk.FlagEphemeral|zk.FlagSequence, all))("create ephemeral sequential")
		seq2 := must1(c.Create(root+"/seq-", []byte{}, zk.FlagSequence, all))("create sequential again")
		_, ephStat, err := c.Exists(eph)
		must(err, "exists eph")
		_, eseqStat, err := c.Exists(eseq)
		must(err, "exists eseq")
		_, dup := c.Create(root+"/plain", []byte("again"), 0, all)
		_, noParent := c.Create(root+"/missing/child", nil, 0, all)
		_, underEph := c.Create(eph+"/child", nil, 0, all)
		_, badPath := c.Create("no-slash", nil, 0, all)
		_, emptyACL := c.Create(root+"/no-acl", nil, 0, []zk.ACL{})
		_, badACL := c.Create(root+"/bad-acl", nil, 0, []zk.ACL{{Perms: zk.PermAll, Scheme: "nope", ID: "x"}})
		prot := must1(c.CreateProtectedEphemeralSequential(root+"/p-", []byte("p"), all))("CreateProtectedEphemeralSequential")
		_, protStat, err := c.Exists(prot)
		must(err, "exists protected")
		_, rootStat, err := c.Exists(root)
		must(err, "exists root")
		kids := must1(func() ([]string, error) { k, _, e := c.Children(root); return k, e }())("children")
		return R{
			"root": r, "plain": plain, "eph": eph, "seq": seq, "eseq": eseq, "seq2": seq2,
			"eph_stat": statMap(ephStat), "eseq_stat": statMap(eseqStat),
			"duplicate": en(dup), "no_parent": en(noParent), "under_ephemeral": en(underEph),
			"invalid_path": en(badPath), "empty_acl": en(emptyACL), "unknown_scheme_acl": en(badACL),
			"protected": protected(prot), "protected_stat": statMap(protStat),
			"root_stat": statMap(rootStat), "children": sorted(kids),
		}
	})

	// get_set_delete: data, versions, nil and empty data, stats, the errors.
	step("get_set_delete", func() R {
		p := root + "/plain"
		d0, s0, err := c.Get(p)
		must(err, "get")
		s1 := must1(c.Set(p, []byte("v1"), 0))("set version 0")
		_, stale := c.Set(p, []byte("stale"), 0)
		d1, s1b, err := c.Get(p)
		must(err, "get after stale set")
		blob := make([]byte, 256)
		for i := range blob {
			blob[i] = byte(i)
		}
		s2 := must1(c.Set(p, blob, -1))("set binary")
		d2, _, err := c.Get(p)
		must(err, "get binary")
		s3 := must1(c.Set(p, []byte{}, s2.Version))("set empty")
		d3, s3b, err := c.Get(p)
		must(err, "get empty")
		nilNode := must1(c.Create(root+"/nil", nil, 0, all))("create nil")
		dNil, sNil, err := c.Get(nilNode)
		must(err, "get nil")
		emptyNode := must1(c.Create(root+"/empty", []byte{}, 0, all))("create empty")
		dEmpty, _, err := c.Get(emptyNode)
		must(err, "get empty node")
		must1(c.Set(nilNode, nil, -1))("set nil")
		dNil2, _, err := c.Get(nilNode)
		must(err, "get after set nil")
		_, _, missing := c.Get(root + "/missing")
		_, setMissing := c.Set(root+"/missing", nil, -1)
		existsMissing, stMissing, err := c.Exists(root + "/missing")
		must(err, "exists missing")
		delBad := c.Delete(root+"/nil", 0)
		delOK := c.Delete(root+"/nil", 1)
		delAgain := c.Delete(root+"/nil", -1)
		delNotEmpty := c.Delete(root, -1)
		existsPlain, stPlain, err := c.Exists(p)
		must(err, "exists plain")
		kids, stKids, err := c.Children(p)
		must(err, "children of a leaf")
		_, _, kidsMissing := c.Children(root + "/missing")
		_, rootStat, err := c.Exists(root)
		must(err, "exists root")
		return R{
			"d0": data(d0), "s0": statMap(s0), "s1": statMap(s1), "stale": en(stale), "d1": data(d1), "s1b": statMap(s1b),
			"binary_ok": string(d2) == string(blob), "s2": statMap(s2), "s3": statMap(s3), "d3": data(d3), "s3b": statMap(s3b),
			"created_nil": data(dNil), "created_nil_stat": statMap(sNil), "created_empty": data(dEmpty), "set_nil": data(dNil2),
			"get_missing": en(missing), "set_missing": en(setMissing),
			"exists_missing": existsMissing, "exists_missing_stat": statMap(stMissing),
			"delete_bad_version": en(delBad), "delete": en(delOK), "delete_again": en(delAgain), "delete_not_empty": en(delNotEmpty),
			"exists_plain": existsPlain, "plain_stat": statMap(stPlain),
			"leaf_children": kids, "leaf_children_stat": statMap(stKids), "children_missing": en(kidsMissing),
			"root_stat": statMap(rootStat),
		}
	})

	// watches: GetW, ExistsW, ChildrenW; the event types and paths; one-shot.
	step("watches", func() R {
		c2 := dial("c2", hostPort, sessionTimeout, true)
		defer c2.close()
		w := root + "/w"
		must1(c.Create(w, nil, 0, all))("create w")
		res := R{}

		// GetW, then two changes by another session: one event.
		d := w + "/d"
		must1(c.Create(d, []byte("0"), 0, all))("create d")
		m := mc.mark()
		_, _, ch, err := c.GetW(d)
		must(err, "GetW")
		must1(c2.conn.Set(d, []byte("1"), -1))("set 1")
		must1(c2.conn.Set(d, []byte("2"), -1))("set 2")
		res["getw_changed"] = wait(ch)
		mc.barrier()
		res["getw_changed_after"] = pending(ch)
		res["getw_changed_notifications"] = mc.notifications(m, d)

		// GetW, delete.
		m = mc.mark()
		_, _, ch, err = c.GetW(d)
		must(err, "GetW")
		must(c2.conn.Delete(d, -1), "delete d")
		res["getw_deleted"] = wait(ch)
		mc.barrier()
		res["getw_deleted_notifications"] = mc.notifications(m, d)
		_, _, _, getwMissing := c.GetW(d)
		res["getw_missing"] = en(getwMissing)

		// ExistsW on a missing node, create.
		e := w + "/e"
		m = mc.mark()
		ok, st, ch, err := c.ExistsW(e)
		must(err, "ExistsW missing")
		res["existsw_missing"] = R{"exists": ok, "stat": statMap(st)}
		must1(c2.conn.Create(e, []byte("x"), 0, all))("create e")
		res["existsw_created"] = wait(ch)
		// ExistsW on it, set.
		ok, _, ch, err = c.ExistsW(e)
		must(err, "ExistsW")
		res["existsw_present"] = ok
		must1(c2.conn.Set(e, []byte("y"), -1))("set e")
		res["existsw_changed"] = wait(ch)
		// ExistsW, delete.
		_, _, ch, err = c.ExistsW(e)
		must(err, "ExistsW")
		must(c2.conn.Delete(e, -1), "delete e")
		res["existsw_deleted"] = wait(ch)
		mc.barrier()
		res["existsw_notifications"] = mc.notifications(m, e)

		// ChildrenW, two creates: one event, on the parent.
		k := w + "/k"
		must1(c.Create(k, nil, 0, all))("create k")
		m = mc.mark()
		kids, kst, ch, err := c.ChildrenW(k)
		must(err, "ChildrenW")
		res["childrenw_initial"] = R{"children": kids, "stat": statMap(kst)}
		must1(c2.conn.Create(k+"/a", nil, 0, all))("create k/a")
		must1(c2.conn.Create(k+"/b", nil, 0, all))("create k/b")
		res["childrenw_created"] = wait(ch)
		mc.barrier()
		res["childrenw_created_notifications"] = mc.notifications(m, k)
		// ChildrenW, a child's data changes: no event; a child is deleted: an event.
		m = mc.mark()
		kids, _, ch, err = c.ChildrenW(k)
		must(err, "ChildrenW")
		res["childrenw_kids"] = sorted(kids)
		must1(c2.conn.Set(k+"/a", []byte("d"), -1))("set k/a")
		must1(c2.conn.Set(k, []byte("d"), -1))("set k")
		mc.barrier()
		time.Sleep(100 * time.Millisecond)
		res["childrenw_after_data_changes"] = pending(ch)
		must(c2.conn.Delete(k+"/a", -1), "delete k/a")
		res["childrenw_deleted_child"] = wait(ch)
		must(c2.conn.Delete(k+"/b", -1), "delete k/b")
		mc.barrier()
		res["childrenw_child_notifications"] = mc.notifications(m, k)
		// ChildrenW, the node itself is deleted.
		_, _, ch, err = c.ChildrenW(k)
		must(err, "ChildrenW")
		must(c2.conn.Delete(k, -1), "delete k")
		res["childrenw_node_deleted"] = wait(ch)
		_, _, _, childrenwMissing := c.ChildrenW(k)
		res["childrenw_missing"] = en(childrenwMissing)

		// GetW and ExistsW on one node, one change: one notification, both channels fire.
		b := w + "/both"
		must1(c.Create(b, nil, 0, all))("create both")
		m = mc.mark()
		_, _, chData, err := c.GetW(b)
		must(err, "GetW")
		_, _, chExist, err := c.ExistsW(b)
		must(err, "ExistsW")
		must1(c2.conn.Set(b, []byte("z"), -1))("set both")
		res["both_getw"] = wait(chData)
		res["both_existsw"] = wait(chExist)
		mc.barrier()
		res["both_notifications"] = mc.notifications(m, b)
		// GetW and ChildrenW on one node, delete it: one notification, both fire.
		m = mc.mark()
		_, _, chData, err = c.GetW(b)
		must(err, "GetW")
		_, _, chKids, err := c.ChildrenW(b)
		must(err, "ChildrenW")
		must(c2.conn.Delete(b, -1), "delete both")
		res["delete_getw"] = wait(chData)
		res["delete_childrenw"] = wait(chKids)
		mc.barrier()
		res["delete_notifications"] = mc.notifications(m, b)

		// A watch set by the session that makes the change fires too.
		s := w + "/self"
		must1(c.Create(s, nil, 0, all))("create self")
		_, _, ch, err = c.GetW(s)
		must(err, "GetW")
		must1(c.Set(s, []byte("me"), -1))("set self")
		res["self_change"] = wait(ch)
		return res
	})

	// multi: a transaction that succeeds, and one that fails and rolls back.
	step("multi", func() R {
		mp := root + "/m"
		must1(c.Create(mp, nil, 0, all))("create m")
		must1(c.Create(mp+"/set", []byte("s0"), 0, all))("create m/set")
		must1(c.Create(mp+"/check", nil, 0, all))("create m/check")
		must1(c.Create(mp+"/del", nil, 0, all))("create m/del")
		ops := func(rs []zk.MultiResponse) []R {
			out := []R{}
			for _, r := range rs {
				out = append(out, R{"string": r.String, "stat": statMap(r.Stat), "error": en(r.Error)})
			}
			return out
		}
		ok, okErr := c.Multi(
			&zk.CreateRequest{Path: mp + "/new", Data: []byte("n"), Acl: all, Flags: 0},
			&zk.CreateRequest{Path: mp + "/seq-", Data: nil, Acl: all, Flags: zk.FlagSequence},
			&zk.SetDataRequest{Path: mp + "/set", Data: []byte("s1"), Version: 0},
			&zk.CheckVersionRequest{Path: mp + "/check", Version: 0},
			&zk.DeleteRequest{Path: mp + "/del", Version: 0},
		)
		kidsAfterOK, _, err := c.Children(mp)
		must(err, "children after multi")
		dSet, _, err := c.Get(mp + "/set")
		must(err, "get m/set")
		// Fails at the third op (bad version): nothing of it stays.
		bad, badErr := c.Multi(
			&zk.CreateRequest{Path: mp + "/rolled-back", Data: []byte("r"), Acl: all, Flags: 0},
			&zk.SetDataRequest{Path: mp + "/set", Data: []byte("s2"), Version: 1},
			&zk.CheckVersionRequest{Path: mp + "/check", Version: 7},
			&zk.DeleteRequest{Path: mp + "/new", Version: -1},
		)
		kidsAfterBad, _, err := c.Children(mp)
		must(err, "children after failed multi")
		dSet2, sSet2, err := c.Get(mp + "/set")
		must(err, "get m/set")
		// Fails at the first op (the node exists).
		first, firstErr := c.Multi(
			&zk.CreateRequest{Path: mp + "/new", Data: nil, Acl: all, Flags: 0},
			&zk.DeleteRequest{Path: mp + "/set", Version: -1},
		)
		// A missing node to check, and one to delete.
		missing, missingErr := c.Multi(
			&zk.CheckVersionRequest{Path: mp + "/none", Version: -1},
		)
		delMissing, delMissingErr := c.Multi(
			&zk.SetDataRequest{Path: mp + "/set", Data: []byte("s3"), Version: -1},
			&zk.DeleteRequest{Path: mp + "/none", Version: -1},
		)
		dSet3, _, err := c.Get(mp + "/set")
		must(err, "get m/set")
		empty, emptyErr := c.Multi()
		return R{
			"success": ops(ok), "success_error": en(okErr), "children_after_ok": sorted(kidsAfterOK), "set_after_ok": data(dSet),
			"failed": ops(bad), "failed_error": en(badErr), "children_after_failed": sorted(kidsAfterBad),
			"set_after_failed": data(dSet2), "set_stat_after_failed": statMap(sSet2),
			"first_fails": ops(first), "first_fails_error": en(firstErr),
			"check_missing": ops(missing), "check_missing_error": en(missingErr),
			"delete_missing": ops(delMissing), "delete_missing_error": en(delMissingErr), "set_after_delete_missing": data(dSet3),
			"empty": ops(empty), "empty_error": en(emptyErr),
		}
	})

	// acl: digest and world ACLs, AddAuth, GetACL/SetACL with versions, NoAuth.
	step("acl", func() R {
		a := root + "/acl"
		must1(c.Create(a, nil, 0, all))("create acl")
		p := a + "/digest"
		created, createErr := c.Create(p, []byte("secret"), 0, zk.DigestACL(zk.PermAll, "user", "pw"))
		_, _, getNoAuth := c.Get(p)
		aclNoAdmin, aclStat0, errACL0 := c.GetACL(p)
		badAuth := c.AddAuth("digest", []byte("user:wrong"))
		_, _, getWrongAuth := c.Get(p)
		goodAuth := c.AddAuth("digest", []byte("user:pw"))
		d, _, getAuth := c.Get(p)
		aclAdmin, _, errACL1 := c.GetACL(p)
		_, setACLStale := c.SetACL(p, zk.WorldACL(zk.PermRead), 3)
		st1, setACL := c.SetACL(p, zk.WorldACL(zk.PermRead), 0)
		// Now without ADMIN: no more SetACL, whatever the version.
		_, setACLNoAdmin := c.SetACL(p, zk.WorldACL(zk.PermAll), 1)
		aclAfter, aclStat2, errACL2 := c.GetACL(p)
		_, _, aclMissing := c.GetACL(a + "/missing")
		// The auth scheme: every digest id this session added.
		authNode, authErr := c.Create(a+"/auth", nil, 0, zk.AuthACL(zk.PermAll))
		authACL, _, errACL3 := c.GetACL(a + "/auth")

		other := dial("noauth", hostPort, sessionTimeout, true)
		defer other.close()
		o := other.conn
		od, _, otherGet := o.Get(p)
		_, otherSet := o.Set(p, []byte("x"), -1)
		_, _, otherGetAuthNode := o.Get(a + "/auth")
		_, otherCreateAuth := o.Create(a+"/auth2", nil, 0, zk.AuthACL(zk.PermAll))
		_, otherCreateChild := o.Create(p+"/child", nil, 0, all)
		otherAddAuth := o.AddAuth("digest", []byte("user:pw"))
		_, otherSetAfterAuth := o.Set(a+"/auth", []byte("ok"), -1)
		// Deleting is the parent's (world:anyone ALL) business.
		otherDelete := o.Delete(a+"/auth", -1)
		// Read-only for the world: nobody can create under it, even with auth.
		_, ownerCreateChild := c.Create(p+"/child", nil, 0, all)
		return R{
			"created": created, "create_error": en(createErr), "get_no_auth": en(getNoAuth),
			"getacl_no_admin": aclList(aclNoAdmin), "getacl_no_admin_error": en(errACL0), "getacl_stat": statMap(aclStat0),
			"addauth_wrong": en(badAuth), "get_wrong_auth": en(getWrongAuth),
			"addauth": en(goodAuth), "get_auth": data(d), "get_auth_error": en(getAuth),
			"getacl_admin": aclList(aclAdmin), "getacl_admin_error": en(errACL1),
			"setacl": en(setACL), "setacl_stat": statMap(st1), "setacl_stale": en(setACLStale), "setacl_no_admin": en(setACLNoAdmin),
			"getacl_after": aclList(aclAfter), "getacl_after_error": en(errACL2), "getacl_after_stat": statMap(aclStat2),
			"getacl_missing": en(aclMissing),
			"auth_node":      authNode, "auth_node_error": en(authErr), "auth_acl": aclList(authACL), "auth_acl_error": en(errACL3),
			"other_get": data(od), "other_get_error": en(otherGet), "other_set": en(otherSet),
			"other_get_auth_node": en(otherGetAuthNode), "other_create_auth_acl": en(otherCreateAuth),
			"other_create_child": en(otherCreateChild), "other_delete": en(otherDelete),
			"other_addauth": en(otherAddAuth), "other_set_after_auth": en(otherSetAfterAuth),
			"owner_create_child": en(ownerCreateChild),
		}
	})

	// sync
	step("sync", func() R {
		p, err := c.Sync(root)
		pm, errMissing := c.Sync(root + "/missing")
		return R{"path": p, "error": en(err), "missing_path": pm, "missing_error": en(errMissing)}
	})

	// lock: the zk.Lock recipe, two sessions contending.
	step("lock", func() R {
		lp := root + "/lock"
		c1 := dial("lock1", hostPort, sessionTimeout, true)
		defer c1.close()
		c2 := dial("lock2", hostPort, sessionTimeout, true)
		defer c2.close()
		l1 := zk.NewLock(c1.conn, lp, all)
		l2 := zk.NewLock(c2.conn, lp, all)
		lockWithin := func(l *zk.Lock, limit time.Duration) (chan error, func() interface{}) {
			done := make(chan error, 1)
			go func() { done <- l.Lock() }()
			return done, func() interface{} {
				select {
				case err := <-done:
					if err == nil {
						return "locked"
					}
					return en(err)
				case <-time.After(limit):
					return "still waiting"
				}
			}
		}
		_, res1 := lockWithin(l1, waitTime)
		first := res1()
		nodes1, _, err := c.Children(lp)
		must(err, "children of the lock")
		again := en(l1.Lock())
		done2, res2 := lockWithin(l2, 300*time.Millisecond)
		// Bounded: wait for the second contender's node.
		var nodes2 []string
		for i := 0; i < 200; i++ {
			nodes2, _, err = c.Children(lp)
			must(err, "children of the lock")
			if len(nodes2) >= 2 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		second := res2()
		unlock1 := en(l1.Unlock())
		var acquired interface{} = "still waiting"
		select {
		case err := <-done2:
			acquired = "locked"
			if err != nil {
				acquired = en(err)
			}
		case <-time.After(waitTime):
		}
		nodes3, _, err := c.Children(lp)
		must(err, "children of the lock")
		unlock2 := en(l2.Unlock())
		unlockAgain := en(l2.Unlock())
		nodes4, _, err := c.Children(lp)
		must(err, "children of the lock")
		names := func(ns []string) []string {
			out := []string{}
			for _, n := range ns {
				out = append(out, protected(n))
			}
			return sorted(out)
		}
		return R{
			"first": first, "nodes_first": names(nodes1), "lock_twice": again,
			"second_while_held": second, "nodes_contended": names(nodes2),
			"unlock_first": unlock1, "second_after_unlock": acquired, "nodes_second": names(nodes3),
			"unlock_second": unlock2, "unlock_again": unlockAgain, "nodes_after": names(nodes4),
		}
	})

	// flw: the four-letter-word helpers, which parse the server's text with regexes.
	step("flw", func() R {
		mc.barrier()
		ruok := zk.FLWRuok([]string{hostPort}, waitTime)
		srvr, srvrOK := zk.FLWSrvr([]string{hostPort}, waitTime)
		res := R{"ruok": ruok, "srvr_ok": srvrOK}
		if len(srvr) == 1 {
			s := srvr[0]
			res["srvr"] = R{
				"error": en(s.Error), "version": s.Version, "build_time": s.BuildTime.UTC().Format(time.RFC3339), "mode": s.Mode.String(),
				"node_count": s.NodeCount, "connections": s.Connections, "outstanding": s.Outstanding,
				"epoch": s.Epoch, "counter": s.Counter, "counter_rel": int64(s.Counter) - zxidBase,
				"received": s.Received, "sent": s.Sent,
				"min_latency": s.MinLatency, "avg_latency": s.AvgLatency, "max_latency": s.MaxLatency,
			}
		}
		cons, consOK := zk.FLWCons([]string{hostPort}, waitTime)
		res["cons_ok"] = consOK
		if len(cons) == 1 {
			clients := []R{}
			for _, cl := range cons[0].Clients {
				host, _, _ := net.SplitHostPort(cl.Addr)
				clients = append(clients, R{
					"session": sess(cl.SessionID), "timeout": cl.Timeout, "addr_host": host, "lop": cl.LastOperation,
					"queued": cl.Queued, "received_positive": cl.Received > 0, "sent_positive": cl.Sent > 0,
					"established_recent": recent(cl.Established.UnixNano() / 1e6), "lzxid_rel": cl.Lzxid - zxidBase,
					"lresp_recent": recent(cl.LastResponse.UnixNano() / 1e6),
				})
			}
			sort.Slice(clients, func(i, j int) bool { return clients[i]["session"].(string) < clients[j]["session"].(string) })
			res["cons"] = R{"error": en(cons[0].Error), "clients": clients}
		}
		return res
	})

	// reconnect: the TCP connection is cut (through a proxy) while watches are
	// set; changes made meanwhile fire them after the client reconnects (it
	// replays them with SetWatches), and watches on unchanged nodes still fire
	// later. The session stays the same.
	step("reconnect", func() R {
		rp := root + "/rc"
		for _, p := range []string{rp, rp + "/changed", rp + "/unchanged", rp + "/kids", rp + "/gone"} {
			must1(c.Create(p, []byte("0"), 0, all))("create " + p)
		}
		px := newProxy(hostPort)
		defer px.close()
		rc := dial("rc", px.addr(), sessionTimeout, true)
		defer rc.close()
		sid := rc.conn.SessionID()
		watch := func(ch <-chan zk.Event, err error, what string) <-chan zk.Event {
			must(err, what)
			return ch
		}
		_, _, ch, err := rc.conn.GetW(rp + "/changed")
		chChanged := watch(ch, err, "GetW changed")
		_, _, ch, err = rc.conn.GetW(rp + "/unchanged")
		chUnchanged := watch(ch, err, "GetW unchanged")
		_, _, ch, err = rc.conn.ExistsW(rp + "/created")
		chCreated := watch(ch, err, "ExistsW created")
		_, _, ch, err = rc.conn.ChildrenW(rp + "/kids")
		chKids := watch(ch, err, "ChildrenW kids")
		_, _, ch, err = rc.conn.GetW(rp + "/gone")
		chGone := watch(ch, err, "GetW gone")
		m := rc.mark()
		px.cut()
		if !rc.waitFor(m, waitTime, isState(zk.StateDisconnected)) {
			fail("the client did not see the cut (events %v)", rc.sessionEvents(m))
		}
		must1(c.Set(rp+"/changed", []byte("1"), -1))("set changed")
		must1(c.Create(rp+"/created", nil, 0, all))("create created")
		must1(c.Create(rp+"/kids/k", nil, 0, all))("create kids/k")
		must(c.Delete(rp+"/gone", -1), "delete gone")
		pendingWhileCut := R{"changed": pending(chChanged), "created": pending(chCreated), "kids": pending(chKids), "gone": pending(chGone)}
		px.resume()
		reconnected := rc.waitFor(m, 10*time.Second, isState(zk.StateHasSession))
		res := R{
			"session_same": rc.conn.SessionID() == sid, "reconnected": reconnected,
			"pending_while_cut": pendingWhileCut,
			"changed":           wait(chChanged), "created": wait(chCreated), "kids": wait(chKids), "gone": wait(chGone),
		}
		rc.barrier()
		res["unchanged_before"] = pending(chUnchanged)
		must1(c.Set(rp+"/unchanged", []byte("1"), -1))("set unchanged")
		res["unchanged"] = wait(chUnchanged)
		states := rc.sessionEvents(m)
		res["first_state_after_cut"] = nil
		if len(states) > 0 {
			res["first_state_after_cut"] = states[0]
		}
		res["last_states"] = states
		if len(states) > 2 {
			res["last_states"] = states[len(states)-2:]
		}
		d, _, err := rc.conn.Get(rp + "/changed")
		must(err, "get after reconnect")
		res["data_after"] = data(d)
		res["session_after"] = sess(rc.conn.SessionID())
		px.mu.Lock()
		res["proxied_connections"] = px.accepted
		px.mu.Unlock()
		return res
	})

	// expire: the TCP connection is cut until the server expires the session
	// (its ephemeral goes); the client then reconnects, is told the session
	// expired (StateExpired), its watches end with EventNotWatching, and it
	// gets a new session.
	step("expire", func() R {
		px := newProxy(hostPort)
		defer px.close()
		ex := dial("expiring", px.addr(), time.Second, true)
		defer ex.close()
		old := ex.conn.SessionID()
		negotiatedMs := negotiated(ex.conn)
		eph := must1(ex.conn.Create(root+"/ex-eph", nil, zk.FlagEphemeral, all))("create ex-eph")
		must1(c.Create(root+"/ex-data", nil, 0, all))("create ex-data")
		_, _, chData, err := ex.conn.GetW(root + "/ex-data")
		must(err, "GetW")
		_, _, chExist, err := ex.conn.ExistsW(root + "/ex-missing")
		must(err, "ExistsW")
		_, _, chGone, err := c.ExistsW(eph)
		must(err, "ExistsW ex-eph")
		m := ex.mark()
		t0 := time.Now()
		px.cut()
		var gone R
		select {
		case e := <-chGone:
			gone = ev(e)
		case <-time.After(15 * time.Second):
		}
		elapsed := time.Since(t0)
		expiredState := -1
		for i, e := range ex.since(m) {
			if e.Type == zk.EventSession && e.State == zk.StateExpired {
				expiredState = i
			}
		}
		px.resume()
		res := R{
			"negotiated_ms": negotiatedMs, "ephemeral_deleted": gone,
			"not_before_timeout":       elapsed >= time.Duration(negotiatedMs)*time.Millisecond-100*time.Millisecond,
			"expired_before_reconnect": expiredState >= 0,
		}
		if !ex.waitFor(m, 10*time.Second, isState(zk.StateExpired)) {
			fail("no StateExpired after the cut (states %v)", ex.sessionEvents(m))
		}
		var from int
		for i, e := range ex.since(m) {
			if e.Type == zk.EventSession && e.State == zk.StateExpired {
				from = m + i
				break
			}
		}
		res["new_session"] = ex.waitFor(from, 10*time.Second, isState(zk.StateHasSession))
		res["states_from_expired"] = ex.sessionEvents(from)
		res["data_watch"] = wait(chData)
		res["exist_watch"] = wait(chExist)
		now := ex.conn.SessionID()
		res["session_changed"] = now != old && now != 0
		nameSession(now, "expiring-new")
		again := must1(ex.conn.Create(root+"/ex-eph", nil, zk.FlagEphemeral, all))("create ex-eph again")
		_, st, err := c.Exists(again)
		must(err, "exists ex-eph")
		res["new_owner"] = sess(st.EphemeralOwner)
		res["negotiated_new_ms"] = negotiated(ex.conn)
		return res
	})

	// session_close: a closed session's ephemerals are gone for everyone else.
	step("session_close", func() R {
		c3 := dial("c3", hostPort, sessionTimeout, false)
		owned := must1(c3.conn.Create(root+"/owned", []byte("o"), zk.FlagEphemeral, all))("create owned")
		ownedSeq := must1(c3.conn.Create(root+"/owned-", nil, zk.FlagEphemeral|zk.FlagSequence, all))("create owned-")
		present, st, ch, err := c.ExistsW(owned)
		must(err, "ExistsW owned")
		m := c3.mark()
		c3.close()
		deleted := wait(ch)
		existsAfter, _, err := c.Exists(owned)
		must(err, "exists owned")
		existsSeqAfter, _, err := c.Exists(ownedSeq)
		must(err, "exists owned-")
		kids, _, err := c.Children(root)
		must(err, "children of root")
		// The client's own view: Disconnected once closed, and its event
		// channel closed (after the events it still held: its buffer takes 6).
		closedCh := "open"
		deadline := time.After(waitTime)
	drain:
		for {
			select {
			case _, ok := <-c3.ch:
				if !ok {
					closedCh = "closed"
					break drain
				}
			case <-deadline:
				break drain
			}
		}
		return R{
			"owned": owned, "owned_seq": ownedSeq, "present": present, "owner": sess(st.EphemeralOwner),
			"deleted": deleted, "exists_after": existsAfter, "exists_seq_after": existsSeqAfter,
			"root_children": sorted(kids), "closed_states": c3.sessionEvents(m), "closed_state": stateName(c3.conn.State()),
			"event_channel": closedCh,
		}
	})

	// cleanup: everything under ROOT goes; closing main ends its session.
	step("cleanup", func() R {
		err := c.Delete(root, -1)
		must(deleteAll(c, root), "delete root")
		exists, _, errExists := c.Exists(root)
		kids, _, errKids := c.Children("/")
		// A watch still set when the client closes ends with EventNotWatching.
		_, _, chOpen, err2 := c.ExistsW(root)
		must(err2, "ExistsW")
		m := mc.mark()
		mc.close()
		mc.waitFor(m, waitTime, isState(zk.StateDisconnected))
		return R{
			"delete_non_empty": en(err), "exists_after": exists, "exists_error": en(errExists),
			"root_children": sorted(kids), "root_children_error": en(errKids),
			"close_states": mc.sessionEvents(m), "state": stateName(mc.conn.State()),
			"watch_at_close": wait(chOpen),
		}
	})

	emit(R{"step": "done"})
}
