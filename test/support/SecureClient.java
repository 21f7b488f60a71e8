// Test support (not a test file): the Apache ZooKeeper 3.8 Java client
// against a server with TLS or SASL, configured only by system properties as
// an application would be (-Dzookeeper.client.secure=true,
// -Dzookeeper.clientCnxnSocket=...Netty, -Dzookeeper.ssl.*, or a JAAS Client
// section with -Djava.security.auth.login.config). Prints one JSON line per
// step: {"step": NAME, "ok": true|false, ...}.
//
// usage: java SecureClient CONNECT_STRING ROOT

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ClientInfo;

public class SecureClient {
    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\');
            if (c < 0x20) b.append(String.format("\\u%04x", (int) c)); else b.append(c);
        }
        return b.append('"').toString();
    }

    static void emit(String step, boolean ok, String extra) {
        System.out.println("{\"step\":" + quote(step) + ",\"ok\":" + ok + (extra.isEmpty() ? "" : "," + extra) + "}");
        System.out.flush();
    }

    public static void main(String[] args) throws Exception {
        String connect = args[0];
        String root = args[1];
        CountDownLatch connected = new CountDownLatch(1);
        StringBuilder states = new StringBuilder();
        ZooKeeper zk = new ZooKeeper(connect, 10000, event -> {
            if (event.getType() == Watcher.Event.EventType.None) {
                synchronized (states) { states.append(event.getState()).append(' '); }
                if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
            }
        });
        try {
            if (!connected.await(15, TimeUnit.SECONDS)) {
                emit("connect", false, "\"error\":" + quote("not connected within 15 s; states: " + states));
                return;
            }
            emit("connect", true, "");
            try {
                zk.create(root, "java".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                byte[] data = zk.getData(root, false, null);
                emit("write-read", true, "\"data\":" + quote(new String(data)));
            } catch (KeeperException e) {
                emit("write-read", false, "\"error\":" + quote(e.toString()));
            }
            try {
                List<ClientInfo> who = zk.whoAmI();
                StringBuilder b = new StringBuilder("[");
                for (ClientInfo ci : who) {
                    if (b.length() > 1) b.append(',');
                    b.append('[').append(quote(ci.getAuthScheme())).append(',').append(quote(ci.getUser())).append(']');
                }
                emit("whoami", true, "\"ids\":" + b.append(']'));
            } catch (Exception e) {
                emit("whoami", false, "\"error\":" + quote(e.toString()));
            }
            synchronized (states) { emit("states", true, "\"states\":" + quote(states.toString().trim())); }
        } finally {
            zk.close();
        }
    }
}
