// A load generator on the official Java client's asynchronous API (Debian's
// libzookeeper-java), so the benchmark's figures can be checked with a client
// that is not ours. Same workloads and the same shape as our own driver:
// `sessions` ZooKeeper handles, each keeping `inflight` requests outstanding;
// every completion issues the next request; latency is measured per request
// from issue to callback.
//
// java -cp zookeeper.jar:zookeeper-jute.jar:slf4j-api.jar:. ZkAsyncLoad \
//   HOST:PORT WORKLOAD SESSIONS INFLIGHT VALUE_BYTES WARMUP_MS DURATION_MS [ROOT]
//
// WORKLOAD: getData | exists | mixed (90% getData, 10% setData) | setData | create
// (persistent sequential). Prints one JSON line on stdout:
//   {"ops":N,"opsPerSec":X,"p50":ms,"p99":ms,"p999":ms,"errors":N,"sessions":S,"inflight":I}

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
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

        List<ZooKeeper> handles = new ArrayList<>();
        for (int s = 0; s < sessions; s++) {
            CountDownLatch connected = new CountDownLatch(1);
            ZooKeeper zk = new ZooKeeper(connect, 30000, e -> {
                if (e.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
            });
            if (!connected.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("session " + s + " did not connect");
            handles.add(zk);
        }
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
}
