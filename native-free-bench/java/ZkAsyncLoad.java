// A load generator on the official Java client's asynchronous API (Debian's
// libzookeeper-java), so the benchmark's figures can be checked with a client
// that is not ours. Same workloads and the same shape as our own driver.
//
// java -cp zookeeper.jar:zookeeper-jute.jar:slf4j-api.jar:. ZkAsyncLoad HOST:PORT WORKLOAD ARGS...
//
// Pipelined workloads: `sessions` ZooKeeper handles, each keeping `inflight`
// requests outstanding; every completion issues the next request; latency is
// measured per request from issue to callback.
//   ZkAsyncLoad HOST:PORT WORKLOAD SESSIONS INFLIGHT VALUE_BYTES WARMUP_MS DURATION_MS [ROOT]
// WORKLOAD: getData | exists | mixed (90% getData, 10% setData) | setData | create
// (persistent sequential). Prints {"ready":true} when the load starts (the
// measured window opens WARMUP_MS later), then one JSON line:
//   {"ops":N,"opsPerSec":X,"p50":ms,"p99":ms,"p999":ms,"errors":N,"sessions":S,"inflight":I}
//
// Watch fan-out and connect storm are driven step by step over stdin, so the
// caller can sample the server's CPU exactly around the measured part: the
// driver prints {"ready":true} and waits for a line "go"; runs; prints its
// JSON result and waits for a line "close" (or the end of stdin) before it
// closes its sessions, which is not measured.
//   ZkAsyncLoad HOST:PORT watch WATCHERS ROUNDS WARMUP_ROUNDS VALUE_BYTES ROOT
//     WATCHERS handles each arm a data watch (getData with a watcher) on ROOT/w;
//     one more handle sets it; a round's sample is the time from the setData
//     call to the last NodeDataChanged delivered. Result:
//     {"ops":notifications,"rounds":R,"missed":N,"sumLastMs":ms,"firstP50":ms,"p50":ms,"p99":ms,"p999":ms}
//   ZkAsyncLoad HOST:PORT storm SESSIONS CONCURRENCY [WARMUP_STORMS]
//     opens SESSIONS handles with at most CONCURRENCY handshakes in flight; a
//     sample is new ZooKeeper(...) to SyncConnected. WARMUP_STORMS (default 0)
//     storms of the same shape are opened and closed first, before it says it
//     is ready. Result:
//     {"ops":opened,"failed":N,"spanMs":ms,"p50":ms,"p99":ms,"p999":ms,"warmupOps":opened in the warm-up storms}

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

public final class ZkAsyncLoad {
    /** Latency samples (ns) of completions inside the measured window; one buffer per session, grown as needed. */
    static final class Samples {
        long[] ns = new long[1 << 16];
        int n;

        synchronized void add(long v) {
            if (n == ns.length) ns = Arrays.copyOf(ns, n * 2);
            ns[n++] = v;
        }
    }

    static volatile long windowStart;
    static volatile long windowEnd;
    static volatile boolean stopping;
    static final AtomicLong errors = new AtomicLong();

    /** One session's lanes: each completion starts the lane's next request. */
    static final class Lane implements AsyncCallback.DataCallback, AsyncCallback.StatCallback, AsyncCallback.StringCallback {
        final ZooKeeper zk;
        final String path;
        final String createPrefix;
        final byte[] value;
        final String workload;
        final Samples samples;
        final CountDownLatch drained;
        long issuedAt;
        long counter;

        Lane(ZooKeeper zk, String path, String createPrefix, byte[] value, String workload, Samples samples, CountDownLatch drained) {
            this.zk = zk;
            this.path = path;
            this.createPrefix = createPrefix;
            this.value = value;
            this.workload = workload;
            this.samples = samples;
            this.drained = drained;
        }

        void next() {
            if (stopping) {
                drained.countDown();
                return;
            }
            issuedAt = System.nanoTime();
            counter++;
            switch (workload) {
                case "getData": zk.getData(path, false, this, null); break;
                case "exists": zk.exists(path, false, (AsyncCallback.StatCallback) this, null); break;
                case "setData": zk.setData(path, value, -1, this, null); break;
                case "create": zk.create(createPrefix, value, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL, this, null); break;
                case "mixed":
                    if (counter % 10 == 0) zk.setData(path, value, -1, this, null);
                    else zk.getData(path, false, this, null);
                    break;
                default: throw new IllegalArgumentException("unknown workload " + workload);
            }
        }

        void done(int rc) {
            long now = System.nanoTime();
            if (rc != KeeperException.Code.OK.intValue()) errors.incrementAndGet();
            else if (issuedAt >= windowStart && now <= windowEnd) samples.add(now - issuedAt);
            next();
        }

        @Override public void processResult(int rc, String p, Object ctx, byte[] data, Stat stat) { done(rc); }
        @Override public void processResult(int rc, String p, Object ctx, Stat stat) { done(rc); }
        @Override public void processResult(int rc, String p, Object ctx, String name) { done(rc); }
    }

    static double percentile(long[] sorted, int n, double p) {
        if (n == 0) return Double.NaN;
        int i = (int) Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1));
        return sorted[i] / 1e6;
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[1].equals("watch")) {
            watch(args[0], Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]), Integer.parseInt(args[5]), args[6]);
            return;
        }
        if (args.length >= 2 && args[1].equals("storm")) {
            storm(args[0], Integer.parseInt(args[2]), Integer.parseInt(args[3]), args.length > 4 ? Integer.parseInt(args[4]) : 0);
            return;
        }
        pipeline(args);
    }

    static void pipeline(String[] args) throws Exception {
        if (args.length < 7) {
            System.err.println("usage: ZkAsyncLoad HOST:PORT WORKLOAD SESSIONS INFLIGHT VALUE_BYTES WARMUP_MS DURATION_MS [ROOT]");
            System.exit(2);
        }
        String connect = args[0];
        String workload = args[1];
        int sessions = Integer.parseInt(args[2]);
        int inflight = Integer.parseInt(args[3]);
        int valueBytes = Integer.parseInt(args[4]);
        long warmupMs = Long.parseLong(args[5]);
        long durationMs = Long.parseLong(args[6]);
        String root = args.length > 7 ? args[7] : "/zkload-java";
        byte[] value = new byte[valueBytes];
        Arrays.fill(value, (byte) 'v');

        List<ZooKeeper> handles = openSessions(connect, sessions);
        ZooKeeper admin = handles.get(0);
        try {
            admin.create(root, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        } catch (KeeperException.NodeExistsException ignored) {
            // a previous run's
        }
        for (int s = 0; s < sessions; s++) {
            String p = root + "/s" + s;
            try {
                admin.create(p, value, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            } catch (KeeperException.NodeExistsException ignored) {
                admin.setData(p, value, -1);
            }
        }

        // The caller times its server CPU probes from this line: the
        // measured window opens warmupMs after it.
        System.out.println("{\"ready\":true}");
        System.out.flush();
        long now = System.nanoTime();
        windowStart = now + warmupMs * 1_000_000L;
        windowEnd = windowStart + durationMs * 1_000_000L;
        CountDownLatch drained = new CountDownLatch(sessions * inflight);
        Samples[] perSession = new Samples[sessions];
        for (int s = 0; s < sessions; s++) {
            perSession[s] = new Samples();
            for (int i = 0; i < inflight; i++) {
                new Lane(handles.get(s), root + "/s" + s, root + "/s" + s + "/c-", value, workload, perSession[s], drained).next();
            }
        }
        long sleepMs = (windowEnd - System.nanoTime()) / 1_000_000L;
        if (sleepMs > 0) Thread.sleep(sleepMs);
        stopping = true;
        drained.await(30, TimeUnit.SECONDS);

        int total = 0;
        for (Samples s : perSession) total += s.n;
        long[] all = new long[total];
        int at = 0;
        for (Samples s : perSession) {
            System.arraycopy(s.ns, 0, all, at, s.n);
            at += s.n;
        }
        Arrays.sort(all);
        double seconds = durationMs / 1000.0;
        String json = String.format(java.util.Locale.ROOT,
            "{\"ops\":%d,\"opsPerSec\":%.1f,\"p50\":%.4f,\"p99\":%.4f,\"p999\":%.4f,\"errors\":%d,\"sessions\":%d,\"inflight\":%d}",
            total, total / seconds, percentile(all, total, 0.5), percentile(all, total, 0.99), percentile(all, total, 0.999),
            errors.get(), sessions, inflight);
        System.out.println(json);
        for (ZooKeeper zk : handles) zk.close(1000);
        System.out.flush();
        System.exit(0);
    }

    /** Opens `count` sessions, one after another. */
    static List<ZooKeeper> openSessions(String connect, int count) throws Exception {
        List<ZooKeeper> handles = new ArrayList<>();
        for (int s = 0; s < count; s++) {
            CountDownLatch connected = new CountDownLatch(1);
            ZooKeeper zk = new ZooKeeper(connect, 30000, e -> {
                if (e.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
            });
            if (!connected.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("session " + s + " did not connect");
            handles.add(zk);
        }
        return handles;
    }

    static final BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));

    /** Tells the caller the set-up is done and waits for its "go". */
    static void readyThenAwaitGo() throws Exception {
        System.out.println("{\"ready\":true}");
        System.out.flush();
        String line = stdin.readLine();
        if (line == null || !line.trim().equals("go")) throw new IllegalStateException("expected go on stdin, got " + line);
    }

    /** Prints the result, waits for "close" (or the end of stdin), closes every handle and exits. */
    static void resultThenClose(String json, List<ZooKeeper> handles) throws Exception {
        System.out.println(json);
        System.out.flush();
        stdin.readLine();
        closeAll(handles);
        System.exit(0);
    }

    static void closeAll(List<ZooKeeper> handles) throws Exception {
        // Every handle sends its closeSession at once, each from its own thread.
        // A handle turns CLOSED once the server has answered that; the
        // client's own tear-down after it (a 100 ms sleep per socket, taken
        // two at a time) is not waited for.
        for (ZooKeeper zk : handles) {
            Thread t = new Thread(() -> {
                try { zk.close(); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
            });
            t.setDaemon(true);
            t.start();
        }
        long closeDeadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < closeDeadline && handles.stream().anyMatch((zk) -> zk.getState().isAlive())) Thread.sleep(10);
    }

    static String percentiles(long[] ns, int n) {
        Arrays.sort(ns, 0, n);
        return String.format(java.util.Locale.ROOT, "\"p50\":%.4f,\"p99\":%.4f,\"p999\":%.4f",
            percentile(ns, n, 0.5), percentile(ns, n, 0.99), percentile(ns, n, 0.999));
    }

    /** Watch fan-out: WATCHERS handles watch one node; a round is one setData and every NodeDataChanged it fires. */
    static void watch(String connect, int watchers, int rounds, int warmupRounds, int valueBytes, String root) throws Exception {
        byte[] value = new byte[valueBytes];
        Arrays.fill(value, (byte) 'w');
        String node = root + "/w";
        List<ZooKeeper> handles = openSessions(connect, watchers + 1);
        ZooKeeper writer = handles.get(watchers);
        try {
            writer.create(root, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        } catch (KeeperException.NodeExistsException ignored) {
            // a previous run's
        }
        try {
            writer.create(node, value, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        } catch (KeeperException.NodeExistsException ignored) {
            // a previous run's
        }
        long[] arrivedAt = new long[watchers];
        AtomicInteger arrived = new AtomicInteger();
        CountDownLatch[] allFired = { null };
        Watcher[] watches = new Watcher[watchers];
        for (int i = 0; i < watchers; i++) {
            final int me = i;
            watches[i] = (WatchedEvent e) -> {
                if (e.getType() != Watcher.Event.EventType.NodeDataChanged || arrivedAt[me] != 0) return;
                arrivedAt[me] = System.nanoTime();
                if (arrived.incrementAndGet() == watchers) allFired[0].countDown();
            };
        }
        long[] lastNs = new long[rounds];
        long[] firstNs = new long[rounds];
        int missed = 0;
        long sumLast = 0;
        for (int round = 0; round < warmupRounds + rounds; round++) {
            if (round == warmupRounds) readyThenAwaitGo();
            // Arm: every watcher's getData with its watch; wait for every reply.
            Arrays.fill(arrivedAt, 0L);
            arrived.set(0);
            allFired[0] = new CountDownLatch(1);
            CountDownLatch armed = new CountDownLatch(watchers);
            AtomicInteger armErrors = new AtomicInteger();
            for (int i = 0; i < watchers; i++) {
                handles.get(i).getData(node, watches[i], (rc, p, ctx, data, stat) -> {
                    if (rc != 0) armErrors.incrementAndGet();
                    armed.countDown();
                }, null);
            }
            if (!armed.await(30, TimeUnit.SECONDS) || armErrors.get() > 0) throw new IllegalStateException("arming the watches failed");
            long t0 = System.nanoTime();
            CountDownLatch written = new CountDownLatch(1);
            writer.setData(node, value, -1, (rc, p, ctx, stat) -> written.countDown(), null);
            allFired[0].await(15, TimeUnit.SECONDS);
            written.await(15, TimeUnit.SECONDS);
            if (round < warmupRounds) continue;
            int k = round - warmupRounds;
            long first = Long.MAX_VALUE;
            long last = 0;
            int got = 0;
            for (long at : arrivedAt) {
                if (at == 0) continue;
                got++;
                first = Math.min(first, at);
                last = Math.max(last, at);
            }
            missed += watchers - got;
            lastNs[k] = got == 0 ? 0 : last - t0;
            firstNs[k] = got == 0 ? 0 : first - t0;
            sumLast += lastNs[k];
        }
        long notifications = (long) watchers * rounds - missed;
        long[] firstSorted = firstNs.clone();
        Arrays.sort(firstSorted);
        String json = String.format(java.util.Locale.ROOT,
            "{\"ops\":%d,\"rounds\":%d,\"missed\":%d,\"sumLastMs\":%.4f,\"firstP50\":%.4f,%s}",
            notifications, rounds, missed, sumLast / 1e6, firstSorted[rounds / 2] / 1e6, percentiles(lastNs, rounds));
        resultThenClose(json, handles);
    }

    /** Connect storm: SESSIONS new handles, at most CONCURRENCY of them waiting for their session at a time. */
    static void storm(String connect, int sessions, int concurrency, int warmupStorms) throws Exception {
        // Warm the client's own code paths (not measured): a few sessions opened and closed.
        for (ZooKeeper zk : openSessions(connect, 20)) zk.close(1000);
        // Then whole storms of the same shape (not measured either), so the server's session path is warm too.
        List<ZooKeeper> warm = new ArrayList<>();
        int warmOpened = 0;
        for (int w = 0; w < warmupStorms; w++) {
            stormOnce(connect, sessions, concurrency, warm);
            for (ZooKeeper zk : warm) if (zk.getState().isConnected()) warmOpened++;
            closeAll(warm);
            warm.clear();
        }
        readyThenAwaitGo();
        List<ZooKeeper> handles = new ArrayList<>();
        String json = stormOnce(connect, sessions, concurrency, handles);
        resultThenClose(json.substring(0, json.length() - 1) + ",\"warmupOps\":" + warmOpened + "}", handles);
    }

    /** One storm; its handles are added to `out`. Returns the result line. */
    static String stormOnce(String connect, int sessions, int concurrency, List<ZooKeeper> out) throws Exception {
        List<ZooKeeper> handles = java.util.Collections.synchronizedList(new ArrayList<>());
        Semaphore slots = new Semaphore(concurrency);
        long[] latency = new long[sessions];
        AtomicInteger opened = new AtomicInteger();
        AtomicLong lastDone = new AtomicLong();
        CountDownLatch settled = new CountDownLatch(sessions);
        int failed = 0;
        long start = System.nanoTime();
        for (int s = 0; s < sessions; s++) {
            if (!slots.tryAcquire(30, TimeUnit.SECONDS)) {
                failed += sessions - s;
                for (int k = s; k < sessions; k++) settled.countDown();
                break;
            }
            final long t0 = System.nanoTime();
            final boolean[] done = { false };
            ZooKeeper zk = new ZooKeeper(connect, 30000, e -> {
                if (e.getState() != Watcher.Event.KeeperState.SyncConnected) return;
                synchronized (done) {
                    if (done[0]) return;
                    done[0] = true;
                }
                long now = System.nanoTime();
                latency[opened.getAndIncrement()] = now - t0;
                lastDone.accumulateAndGet(now, Math::max);
                slots.release();
                settled.countDown();
            });
            handles.add(zk);
        }
        if (!settled.await(60, TimeUnit.SECONDS)) failed += (int) settled.getCount();
        int n = opened.get();
        synchronized (handles) {
            out.addAll(handles);
        }
        return String.format(java.util.Locale.ROOT, "{\"ops\":%d,\"failed\":%d,\"spanMs\":%.4f,%s}",
            n, failed, n == 0 ? 0.0 : (lastDone.get() - start) / 1e6, percentiles(latency, n));
    }
}
