// Writes the spymemcached test vectors (vectors.txt beside this file) from
// the real library: spymemcached's own KetamaNodeLocator places every key,
// on server lists of 1 to 200 servers, unweighted and weighted, IP literals
// and 40-byte host names, ports 11211 and others. Run by gen.sh (by hand, not
// by make test); core/tests/spymemcached_vectors.rs checks ringlock's
// spymemcached profile against the file key by key.
//
// A node's ringlock name is what the library hashes for it, without the
// "-<repetition>": KetamaNodeKeyFormatter's SPYMEMCACHED form of its socket
// address. Nodes are listed in that name's order (ringlock's node order).
// Key j of list L is "key-L-j", or "clé-L-j" when j % 10 == 9 (UTF-8 bytes,
// as spymemcached hashes them); a list may add extra keys ("tie" lines:
// keys that fall on a position two servers share).

import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import net.spy.memcached.DefaultHashAlgorithm;
import net.spy.memcached.KetamaNodeKeyFormatter;
import net.spy.memcached.KetamaNodeLocator;
import net.spy.memcached.MemcachedNode;
import net.spy.memcached.util.DefaultKetamaNodeLocatorConfiguration;

public final class Gen {
    static final int KEYS = 4000;
    static final String LONG_HOST = "memcached-%03d.cluster-a.example.internal"; // 40 bytes

    /** A MemcachedNode that only has a socket address (all the locator asks). */
    static MemcachedNode node(InetSocketAddress address) {
        return (MemcachedNode) Proxy.newProxyInstance(
                Gen.class.getClassLoader(), new Class<?>[] {MemcachedNode.class},
                (self, method, args) -> {
                    switch (method.getName()) {
                        case "getSocketAddress": return address;
                        case "hashCode": return System.identityHashCode(self);
                        case "equals": return self == args[0];
                        case "toString": return String.valueOf(address);
                        default: throw new UnsupportedOperationException(method.getName());
                    }
                });
    }

    static InetSocketAddress ip(int i, int port) throws Exception {
        byte[] a = {10, 1, (byte) (i / 250), (byte) (i % 250 + 1)};
        return new InetSocketAddress(InetAddress.getByAddress(a), port);
    }

    /** A host name resolved to 10.2.x.y, as DNS would give it. */
    static InetSocketAddress host(int i, int port) throws Exception {
        byte[] a = {10, 2, (byte) (i / 250), (byte) (i % 250 + 1)};
        return new InetSocketAddress(InetAddress.getByAddress(String.format(LONG_HOST, i), a), port);
    }

    static final DefaultKetamaNodeLocatorConfiguration CONFIG =
            new DefaultKetamaNodeLocatorConfiguration();

    /** The name the library hashes for a node, without "-<repetition>". */
    static String name(MemcachedNode n) {
        String k = CONFIG.getKeyForNode(n, 0);
        return k.substring(0, k.length() - 2);
    }

    static long md5Word(byte[] d, int h) {
        return ((long) (d[3 + 4 * h] & 0xFF) << 24) | ((long) (d[2 + 4 * h] & 0xFF) << 16)
                | ((long) (d[1 + 4 * h] & 0xFF) << 8) | (d[4 * h] & 0xFF);
    }

    /** Every position of every node, with the names that put a point there. */
    static TreeMap<Long, List<String>> positions(List<MemcachedNode> nodes) {
        TreeMap<Long, List<String>> at = new TreeMap<>();
        for (MemcachedNode n : nodes) {
            for (int i = 0; i < 40; i++) {
                byte[] d = DefaultHashAlgorithm.computeMd5(CONFIG.getKeyForNode(n, i));
                for (int h = 0; h < 4; h++) {
                    at.computeIfAbsent(md5Word(d, h), p -> new ArrayList<>()).add(name(n));
                }
            }
        }
        return at;
    }

    static String key(int list, int j) {
        return (j % 10 == 9 ? "clé-" : "key-") + list + "-" + j;
    }

    static int lists = 0;
    static final StringBuilder out = new StringBuilder();

    /** Places the keys of one list with the real locator and writes them. */
    static void emit(String label, List<InetSocketAddress> addresses, int[] weights, List<String> extra) {
        List<MemcachedNode> nodes = new ArrayList<>();
        for (InetSocketAddress a : addresses) nodes.add(node(a));
        nodes.sort((a, b) -> name(a).compareTo(name(b)));
        Map<InetSocketAddress, Integer> w = new HashMap<>();
        if (weights != null) {
            for (int i = 0; i < addresses.size(); i++) w.put(addresses.get(i), weights[i]);
        }
        KetamaNodeLocator locator = weights == null
                ? new KetamaNodeLocator(nodes, DefaultHashAlgorithm.KETAMA_HASH)
                : new KetamaNodeLocator(nodes, DefaultHashAlgorithm.KETAMA_HASH,
                        KetamaNodeKeyFormatter.Format.SPYMEMCACHED, w);
        Map<MemcachedNode, Integer> index = new IdentityHashMap<>();
        for (int i = 0; i < nodes.size(); i++) index.put(nodes.get(i), i);
        int list = lists++;
        out.append("list ").append(label).append(' ').append(weights == null ? 0 : 1)
                .append(' ').append(KEYS).append('\n');
        for (MemcachedNode n : nodes) {
            int weight = weights == null ? 1 : w.get((InetSocketAddress) n.getSocketAddress());
            out.append("node ").append(name(n)).append(' ').append(weight).append('\n');
        }
        for (String k : extra) out.append("tie ").append(k).append('\n');
        out.append("owners");
        for (int j = 0; j < KEYS + extra.size(); j++) {
            String k = j < KEYS ? key(list, j) : extra.get(j - KEYS);
            out.append(' ').append(index.get(locator.getPrimary(k)));
        }
        out.append('\n');
    }

    /** Eight servers, two of which share a position, and keys that land on it. */
    static void tie() throws Exception {
        Map<Long, Integer> seen = new HashMap<>();
        int a = -1, b = -1;
        for (int i = 0; a < 0; i++) {
            MemcachedNode n = node(ip(i, 11211));
            for (int r = 0; r < 40 && a < 0; r++) {
                byte[] d = DefaultHashAlgorithm.computeMd5(CONFIG.getKeyForNode(n, r));
                for (int h = 0; h < 4; h++) {
                    Integer other = seen.putIfAbsent(md5Word(d, h), i);
                    if (other != null && other != i) { a = other; b = i; }
                }
            }
        }
        List<InetSocketAddress> addresses = new ArrayList<>();
        addresses.add(ip(a, 11211));
        addresses.add(ip(b, 11211));
        for (int i = 0; addresses.size() < 8; i++) {
            if (i != a && i != b) addresses.add(ip(5000 + i, 11211));
        }
        List<MemcachedNode> nodes = new ArrayList<>();
        for (InetSocketAddress s : addresses) nodes.add(node(s));
        TreeMap<Long, List<String>> at = positions(nodes);
        List<String> keys = new ArrayList<>();
        for (int j = 0; keys.size() < 50; j++) {
            String k = "tie-" + j;
            long h = DefaultHashAlgorithm.KETAMA_HASH.hash(k);
            Map.Entry<Long, List<String>> e = at.ceilingEntry(h);
            if (e == null) e = at.firstEntry();
            if (e.getValue().size() > 1) keys.add(k);
        }
        emit("tie", addresses, null, keys);
        int[] weights = new int[addresses.size()];
        java.util.Arrays.fill(weights, 2);
        emit("tie-weighted", addresses, weights, keys);
    }

    public static void main(String[] args) throws Exception {
        out.append("# spymemcached ").append(args.length > 0 ? args[0] : "?")
                .append(" KetamaNodeLocator, KETAMA_HASH; java ")
                .append(System.getProperty("java.version"))
                .append(". Generated by tests/profiles/spymemcached/gen.sh; do not edit.\n");
        for (int n : new int[] {1, 3, 8, 25, 61, 200}) {
            List<InetSocketAddress> ips = new ArrayList<>(), hosts = new ArrayList<>(),
                    mixed = new ArrayList<>(), unresolved = new ArrayList<>();
            int[] weights = new int[n], equal = new int[n];
            for (int i = 0; i < n; i++) {
                ips.add(ip(i, 11211));
                hosts.add(host(i, 11211 + i % 3));
                mixed.add(ip(i, i % 2 == 0 ? 11211 : 11300));
                unresolved.add(InetSocketAddress.createUnresolved(String.format(LONG_HOST, i), 11211));
                weights[i] = 1 + i % 5;
                equal[i] = 3;
            }
            emit("ip-" + n, ips, null, List.of());
            emit("host-" + n, hosts, null, List.of());
            emit("unresolved-" + n, unresolved, null, List.of());
            emit("weighted-" + n, mixed, weights, List.of());
            emit("equal-weights-" + n, hosts, equal, List.of());
        }
        tie();
        System.out.print(out);
    }
}
