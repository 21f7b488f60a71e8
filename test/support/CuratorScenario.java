// Test support (not a test file): drive Apache Curator 5.4 (Debian packages
// libcurator-framework-java, libcurator-recipes-java) against a ZooKeeper
// server and print what happened as JSON, one line per step:
//   {"step": NAME, "ok": true, ...results}   or
//   {"step": NAME, "ok": false, "error": "...", "trace": "..."}
// and finally {"step": "done"}. Every wait is bounded; a watchdog halts the
// JVM (after printing {"step": "watchdog"}) if the whole run takes too long.
//
// test/integration/curator.test.ts compiles this file with javac into a
// temporary directory and runs it with
//   java -cp <tmp>:<curator jars> CuratorScenario HOST:PORT ROOT WATCHDOG_SECONDS
// against a server started with extendedTypesEnabled=true and a short
// znode.container.checkIntervalMs.

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.utils.Compatibility;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

public class CuratorScenario {
    static final long WAIT_MS = 10_000;
    static String hosts;
    static String root;
    static final List<CuratorFramework> clients = Collections.synchronizedList(new ArrayList<>());

    // ---- output ---------------------------------------------------------------

    static synchronized void emit(Map<String, Object> m) {
        System.out.println(json(m));
        System.out.flush();
    }

    @SuppressWarnings("unchecked")
    static String json(Object o) {
        if (o == null) return "null";
        if (o instanceof String) return quote((String) o);
        if (o instanceof Number || o instanceof Boolean) return o.toString();
        if (o instanceof Map) {
            StringBuilder b = new StringBuilder("{");
            boolean first = true;
            for (Map.Entry<String, Object> e : ((Map<String, Object>) o).entrySet()) {
                if (!first) b.append(',');
                first = false;
                b.append(quote(e.getKey())).append(':').append(json(e.getValue()));
            }
            return b.append('}').toString();
        }
        if (o instanceof Iterable) {
            StringBuilder b = new StringBuilder("[");
            boolean first = true;
            for (Object x : (Iterable<Object>) o) {
                if (!first) b.append(',');
                first = false;
                b.append(json(x));
            }
            return b.append(']').toString();
        }
        return quote(o.toString());
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
            }
        }
        return b.append('"').toString();
    }

    interface Body {
        void run(Map<String, Object> out) throws Exception;
    }

    /** Runs one step, reporting its results or its failure; never throws. */
    static boolean step(String name, Body body) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("step", name);
        try {
            body.run(out);
            out.put("ok", true);
            emit(out);
            return true;
        } catch (Throwable t) {
            StringWriter sw = new StringWriter();
            t.printStackTrace(new PrintWriter(sw));
            out.put("ok", false);
            out.put("error", t.getClass().getName() + ": " + t.getMessage());
            out.put("trace", sw.toString());
            emit(out);
            return false;
        }
    }

    // ---- helpers --------------------------------------------------------------

    static CuratorFramework newClient() throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.builder()
            .connectString(hosts)
            .sessionTimeoutMs(10_000)
            .connectionTimeoutMs(5_000)
            .retryPolicy(new RetryNTimes(3, 200))
            .build();
        clients.add(c);
        c.start();
        if (!c.blockUntilConnected(10, TimeUnit.SECONDS)) throw new IllegalStateException("not connected within 10 s");
        return c;
    }

    static void closeQuietly(AutoCloseable c) {
        try {
            if (c != null) c.close();
        } catch (Exception e) {
            // best effort
        }
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String s(byte[] d) {
        return d == null ? null : new String(d, StandardCharsets.UTF_8);
    }

    static String hex64(long n) {
        return String.format("%016x", n);
    }

    static Map<String, Object> stat(Stat st) {
        if (st == null) return null;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", st.getVersion());
        m.put("cversion", st.getCversion());
        m.put("numChildren", st.getNumChildren());
        m.put("dataLength", st.getDataLength());
        m.put("ephemeralOwner", hex64(st.getEphemeralOwner()));
        return m;
    }

    /** Waits (bounded) until the node is gone, by an exists watch; true if it went. */
    static boolean awaitDeleted(CuratorFramework c, String path, long ms) throws Exception {
        long deadline = System.currentTimeMillis() + ms;
        for (int i = 0; i < 100; i++) {
            CountDownLatch fired = new CountDownLatch(1);
            Watcher w = (WatchedEvent e) -> fired.countDown();
            if (c.checkExists().usingWatcher(w).forPath(path) == null) return true;
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) return false;
            fired.await(left, TimeUnit.MILLISECONDS);
        }
        return c.checkExists().forPath(path) == null;
    }

    // ---- the scenario ---------------------------------------------------------

    public static void main(String[] args) throws Exception {
        hosts = args[0];
        root = args.length > 1 ? args[1] : "/curator";
        double watchdogS = args.length > 2 ? Double.parseDouble(args[2]) : 45;
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep((long) (watchdogS * 1000));
            } catch (InterruptedException e) {
                return;
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("step", "watchdog");
            m.put("ok", false);
            m.put("error", "scenario did not finish within " + watchdogS + " s");
            emit(m);
            Runtime.getRuntime().halt(3);
        });
        watchdog.setDaemon(true);
        watchdog.start();

        AtomicReference<CuratorFramework> c1ref = new AtomicReference<>();
        step("connect", out -> {
            CuratorFramework c = newClient();
            c1ref.set(c);
            out.put("connected", c.getZookeeperClient().isConnected());
            out.put("session_id", hex64(c.getZookeeperClient().getZooKeeper().getSessionId()));
            out.put("negotiated_timeout_ms", c.getZookeeperClient().getZooKeeper().getSessionTimeout());
            out.put("persistent_watchers_supported", Compatibility.hasPersistentWatchers());
        });
        CuratorFramework c1 = c1ref.get();
        if (c1 == null) {
            finish(watchdog, 1);
            return;
        }

        step("create_parents", out -> {
            String created = c1.create().creatingParentsIfNeeded().forPath(root + "/a/b/c", b("leaf"));
            out.put("created", created);
            Map<String, Object> exists = new LinkedHashMap<>();
            for (String p : new String[] {root, root + "/a", root + "/a/b", root + "/a/b/c"}) {
                exists.put(p, c1.checkExists().forPath(p) != null);
            }
            out.put("exists", exists);
            out.put("data", s(c1.getData().forPath(root + "/a/b/c")));
            out.put("parent_data_length", c1.checkExists().forPath(root + "/a").getDataLength());
            String again;
            try {
                c1.create().creatingParentsIfNeeded().forPath(root + "/a/b/c");
                again = "no error";
            } catch (org.apache.zookeeper.KeeperException.NodeExistsException e) {
                again = "NodeExists";
            }
            out.put("again", again);
        });

        step("mutex", out -> {
            String lockPath = root + "/lock";
            CuratorFramework c2 = newClient();
            InterProcessMutex m1 = new InterProcessMutex(c1, lockPath);
            InterProcessMutex m2 = new InterProcessMutex(c2, lockPath);
            out.put("acquired1", m1.acquire(WAIT_MS, TimeUnit.MILLISECONDS));
            out.put("held1", m1.isAcquiredInThisProcess());
            // A second client contends from another thread: it must wait for the release.
            AtomicLong acquiredAt = new AtomicLong(-1);
            AtomicReference<String> error2 = new AtomicReference<>();
            CountDownLatch got2 = new CountDownLatch(1);
            CountDownLatch release2 = new CountDownLatch(1);
            Thread t = new Thread(() -> {
                try {
                    if (m2.acquire(3 * WAIT_MS, TimeUnit.MILLISECONDS)) {
                        acquiredAt.set(System.nanoTime());
                        got2.countDown();
                        release2.await(WAIT_MS, TimeUnit.MILLISECONDS);
                        m2.release();
                    } else {
                        error2.set("acquire timed out");
                        got2.countDown();
                    }
                } catch (Exception e) {
                    error2.set(e.toString());
                    got2.countDown();
                }
            });
            t.setDaemon(true);
            t.start();
            // Wait (bounded) until the contender's node is there.
            boolean waitingSeen = false;
            for (int i = 0; i < 200; i++) {
                if (c1.getChildren().forPath(lockPath).size() >= 2) {
                    waitingSeen = true;
                    break;
                }
                Thread.sleep(25);
            }
            out.put("contender_waiting_seen", waitingSeen);
            out.put("participants_while_held", m1.getParticipantNodes().size());
            // Give the contender a moment: it must still be waiting.
            boolean gotEarly = got2.await(300, TimeUnit.MILLISECONDS);
            out.put("second_got_it_while_held", gotEarly);
            long releasedAt = System.nanoTime();
            m1.release();
            out.put("second_acquired", got2.await(WAIT_MS, TimeUnit.MILLISECONDS) && acquiredAt.get() > 0);
            out.put("second_after_release", acquiredAt.get() >= releasedAt);
            out.put("error2", error2.get());
            out.put("held1_after_release", m1.isAcquiredInThisProcess());
            release2.countDown();
            t.join(WAIT_MS);
            // Both released: the lock node is an emptied container, which the
            // reaper (every 200 ms here, as in Apache) may already have deleted.
            int remaining;
            try {
                remaining = c1.getChildren().forPath(lockPath).size();
            } catch (KeeperException.NoNodeException e) {
                remaining = 0;
            }
            out.put("remaining", remaining);
            c2.close();
            clients.remove(c2);
        });

        step("leader_latch", out -> {
            String latchPath = root + "/leader";
            CuratorFramework c2 = newClient();
            LeaderLatch l1 = new LeaderLatch(c1, latchPath, "p1");
            LeaderLatch l2 = new LeaderLatch(c2, latchPath, "p2");
            try {
                l1.start();
                l2.start();
                // Exactly one becomes leader (bounded wait for the first).
                long deadline = System.currentTimeMillis() + WAIT_MS;
                while (!l1.hasLeadership() && !l2.hasLeadership() && System.currentTimeMillis() < deadline) Thread.sleep(20);
                // Both must have registered before the check for "exactly one" means anything.
                for (int i = 0; i < 200 && l1.getParticipants().size() < 2; i++) Thread.sleep(25);
                Thread.sleep(200);
                boolean h1 = l1.hasLeadership();
                boolean h2 = l2.hasLeadership();
                out.put("leaders_count", (h1 ? 1 : 0) + (h2 ? 1 : 0));
                out.put("participants", l1.getParticipants().size());
                String leaderId = l1.getLeader().getId();
                out.put("leader_id", leaderId);
                out.put("leader_matches", (h1 && leaderId.equals("p1")) || (h2 && leaderId.equals("p2")));
                LeaderLatch leader = h1 ? l1 : l2;
                LeaderLatch other = h1 ? l2 : l1;
                leader.close();
                boolean moved = other.await(WAIT_MS, TimeUnit.MILLISECONDS);
                out.put("moved_after_close", moved);
                out.put("new_leader_id", other.getLeader().getId());
                out.put("new_leader_is_other", other.getId().equals(other.getLeader().getId()));
                out.put("participants_after", other.getParticipants().size());
            } finally {
                closeQuietly(l1);
                closeQuietly(l2);
                c2.close();
                clients.remove(c2);
            }
        });

        step("curator_cache", out -> {
            String base = root + "/cache";
            c1.create().forPath(base, b("base"));
            List<String> events = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch initialized = new CountDownLatch(1);
            Object lock = new Object();
            CuratorCacheListener listener = new CuratorCacheListener() {
                @Override
                public void event(Type type, ChildData oldData, ChildData data) {
                    ChildData d = data != null ? data : oldData;
                    String line = type + " " + d.getPath() + (data != null ? " " + s(data.getData()) : "");
                    synchronized (lock) {
                        events.add(line);
                        lock.notifyAll();
                    }
                }

                @Override
                public void initialized() {
                    initialized.countDown();
                }
            };
            CuratorCache cache = CuratorCache.build(c1, base);
            try {
                cache.listenable().addListener(listener);
                cache.start();
                out.put("initialized", initialized.await(WAIT_MS, TimeUnit.MILLISECONDS));
                int initial = events.size();
                out.put("initial_events", new ArrayList<>(events));
                // Writes to descendants; each must show up as an event.
                String[][] ops = {
                    {"create", base + "/x", "1"},
                    {"create", base + "/x/y", "deep"},
                    {"set", base + "/x", "2"},
                    {"set", base + "/x/y", "deeper"},
                    {"delete", base + "/x/y", null},
                    {"delete", base + "/x", null},
                };
                List<Boolean> waits = new ArrayList<>();
                for (int i = 0; i < ops.length; i++) {
                    String[] op = ops[i];
                    switch (op[0]) {
                        case "create": c1.create().forPath(op[1], b(op[2])); break;
                        case "set": c1.setData().forPath(op[1], b(op[2])); break;
                        default: c1.delete().forPath(op[1]); break;
                    }
                    long deadline = System.currentTimeMillis() + WAIT_MS;
                    synchronized (lock) {
                        while (events.size() < initial + i + 1 && System.currentTimeMillis() < deadline) {
                            lock.wait(Math.max(1, deadline - System.currentTimeMillis()));
                        }
                        waits.add(events.size() >= initial + i + 1);
                    }
                }
                out.put("waits", waits);
                synchronized (lock) {
                    out.put("events", new ArrayList<>(events.subList(initial, events.size())));
                }
                out.put("cache_size_after", cache.size());
            } finally {
                cache.close();
            }
        });

        step("container", out -> {
            // creatingParentContainersIfNeeded: the missing parents become containers.
            String cont = root + "/cont";
            String leaf = cont + "/parent/child";
            c1.create().creatingParentContainersIfNeeded().forPath(leaf, b("c"));
            out.put("container_stat", stat(c1.checkExists().forPath(cont + "/parent")));
            // A plain sibling persistent node for comparison, and a container that never had a child.
            c1.create().forPath(root + "/plain-kept");
            c1.create().withMode(CreateMode.CONTAINER).forPath(root + "/never-used");
            c1.delete().forPath(leaf);
            long t0 = System.nanoTime();
            out.put("parent_reaped", awaitDeleted(c1, cont + "/parent", WAIT_MS));
            // Then /cont is an emptied container in turn.
            out.put("grandparent_reaped", awaitDeleted(c1, cont, WAIT_MS));
            out.put("reaped_within_ms", (System.nanoTime() - t0) / 1_000_000);
            out.put("plain_kept", c1.checkExists().forPath(root + "/plain-kept") != null);
            out.put("never_used_kept", c1.checkExists().forPath(root + "/never-used") != null);
        });

        step("ttl", out -> {
            String ttl = root + "/ttl";
            String keep = root + "/ttl-with-child";
            c1.create().withTtl(1000).withMode(CreateMode.PERSISTENT_WITH_TTL).forPath(ttl, b("t"));
            c1.create().withTtl(1000).withMode(CreateMode.PERSISTENT_WITH_TTL).forPath(keep, b("k"));
            c1.create().forPath(keep + "/child");
            out.put("ttl_stat", stat(c1.checkExists().forPath(ttl)));
            long t0 = System.nanoTime();
            out.put("exists_right_after_create", c1.checkExists().forPath(ttl) != null);
            out.put("reaped", awaitDeleted(c1, ttl, WAIT_MS));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            out.put("reaped_after_ms", ms);
            out.put("with_child_kept", c1.checkExists().forPath(keep) != null);
            String seq = c1.create().withTtl(60_000).withMode(CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL).forPath(root + "/ttlseq-");
            out.put("sequential_ttl_path", seq);
        });

        // The ZooKeeper client underneath: its connection cut (through a
        // proxy) while the session lives on, changes made meanwhile, then the
        // client reconnects and sets its watches again with setWatches
        // relative to the last zxid it saw: the events for what changed come
        // at once, the watch on what did not stays armed.
        step("java_reconnect", out -> {
            String base = root + "/rc";
            c1.create().forPath(base);
            c1.create().forPath(base + "/node", b("v1"));
            c1.create().forPath(base + "/gone", b("g"));
            c1.create().forPath(base + "/same", b("s"));
            int colon = hosts.lastIndexOf(':');
            try (Proxy p = new Proxy(hosts.substring(0, colon), Integer.parseInt(hosts.substring(colon + 1)))) {
                List<String> events = Collections.synchronizedList(new ArrayList<>());
                List<String> states = Collections.synchronizedList(new ArrayList<>());
                CountDownLatch connected = new CountDownLatch(1);
                CountDownLatch disconnected = new CountDownLatch(1);
                CountDownLatch reconnected = new CountDownLatch(1);
                ZooKeeper z = new ZooKeeper("127.0.0.1:" + p.port(), 10_000, e -> {
                    if (e.getType() != Watcher.Event.EventType.None) {
                        events.add(e.getType() + " " + e.getPath());
                        return;
                    }
                    states.add(e.getState().toString());
                    if (e.getState() == Watcher.Event.KeeperState.Disconnected) disconnected.countDown();
                    if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                        if (disconnected.getCount() == 0) reconnected.countDown();
                        connected.countDown();
                    }
                });
                try {
                    if (!connected.await(WAIT_MS, TimeUnit.MILLISECONDS)) throw new IllegalStateException("not connected through the proxy");
                    long session = z.getSessionId();
                    z.create(base + "/eph", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
                    z.getData(base + "/node", true, null);
                    z.getData(base + "/gone", true, null);
                    z.getData(base + "/same", true, null);
                    out.put("exists_new_before", z.exists(base + "/new", true) != null);
                    z.getChildren(base, true);
                    p.cutAndRefuse();
                    out.put("disconnected", disconnected.await(WAIT_MS, TimeUnit.MILLISECONDS));
                    c1.setData().forPath(base + "/node", b("v2"));
                    c1.create().forPath(base + "/new", b("n"));
                    c1.delete().forPath(base + "/gone");
                    out.put("events_while_away", new ArrayList<>(events));
                    p.allow = true;
                    out.put("reconnected", reconnected.await(3 * WAIT_MS, TimeUnit.MILLISECONDS));
                    out.put("same_session", z.getSessionId() == session);
                    long deadline = System.nanoTime() + WAIT_MS * 1_000_000;
                    while (events.size() < 4 && System.nanoTime() < deadline) Thread.sleep(20);
                    List<String> restored = new ArrayList<>(events);
                    Collections.sort(restored);
                    out.put("events_after_reconnect", restored);
                    out.put("data_after", new String(z.getData(base + "/node", false, null), StandardCharsets.UTF_8));
                    out.put("ephemeral_kept", c1.checkExists().forPath(base + "/eph") != null);
                    // The unchanged node's watch was set again and still fires.
                    c1.setData().forPath(base + "/same", b("s2"));
                    deadline = System.nanoTime() + WAIT_MS * 1_000_000;
                    while (events.size() < 5 && System.nanoTime() < deadline) Thread.sleep(20);
                    out.put("later_events", new ArrayList<>(events.subList(Math.min(4, events.size()), events.size())));
                    out.put("states", new ArrayList<>(states));
                } finally {
                    z.close();
                }
            }
        });

        step("close", out -> {
            c1.close();
            clients.remove(c1);
            out.put("state", c1.getState().toString());
        });

        finish(watchdog, 0);
    }

    /**
     * A TCP proxy on 127.0.0.1 to a server: it can cut every connection it
     * carries and turn new ones away (accepted, then closed) until allowed.
     */
    static final class Proxy implements AutoCloseable {
        final ServerSocket server;
        final String host;
        final int port;
        volatile boolean allow = true;
        final List<Socket> open = Collections.synchronizedList(new ArrayList<>());

        Proxy(String host, int port) throws IOException {
            this.host = host;
            this.port = port;
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            daemon(this::acceptLoop);
        }

        int port() {
            return server.getLocalPort();
        }

        static void daemon(Runnable r) {
            Thread t = new Thread(r, "proxy");
            t.setDaemon(true);
            t.start();
        }

        void acceptLoop() {
            while (!server.isClosed()) {
                try {
                    Socket c = server.accept();
                    if (!allow) {
                        c.close();
                        continue;
                    }
                    Socket s = new Socket(host, port);
                    open.add(c);
                    open.add(s);
                    daemon(() -> pump(c, s));
                    daemon(() -> pump(s, c));
                } catch (IOException e) {
                    // closed
                }
            }
        }

        static void pump(Socket from, Socket to) {
            byte[] buf = new byte[65536];
            try {
                InputStream in = from.getInputStream();
                OutputStream o = to.getOutputStream();
                for (int n; (n = in.read(buf)) >= 0; ) o.write(buf, 0, n);
            } catch (IOException e) {
                // one side went
            }
            closeSocket(from);
            closeSocket(to);
        }

        static void closeSocket(Socket s) {
            try {
                s.close();
            } catch (IOException e) {
                // already closed
            }
        }

        void cutAndRefuse() {
            allow = false;
            synchronized (open) {
                for (Socket s : open) closeSocket(s);
                open.clear();
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            cutAndRefuse();
        }
    }

    static void finish(Thread watchdog, int code) {
        List<CuratorFramework> rest;
        synchronized (clients) {
            rest = new ArrayList<>(clients);
        }
        for (CuratorFramework c : rest) closeQuietly(c);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", "done");
        emit(m);
        watchdog.interrupt();
        // Curator/ZooKeeper leave non-daemon threads behind at times: exit explicitly.
        System.exit(code);
    }
}
