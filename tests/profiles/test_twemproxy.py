"""The twemproxy profiles against a real twemproxy (make test-profiles).

MEMCACHED memcached servers on 127.0.0.1 and one nutcracker with a pool per
key hash (``distribution: ketama``), unnamed servers ``host:port:weight`` in
all but one pool, which names its servers. Every key is stored through its
pool; then each memcached server is asked which keys it holds. The server
must be the node a ringlock ring of the matching profile picks; a negative
control (``libmemcached``, MD5 keys, against the fnv1a_64 pool) must disagree.

Usage: test_twemproxy.py NUTCRACKER MEMCACHED [KEYS]
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile

import ringlock
from servers import free_port, wait_for

MEMCACHED = 8
WEIGHTS = [1, 1, 2, 1, 3, 1, 1, 2]
# (pool, twemproxy hash, ringlock profile, servers named?)
POOLS = [
    ("fnv", "fnv1a_64", "twemproxy", False),
    ("md5", "md5", "twemproxy-md5", False),
    ("oaat", "one_at_a_time", "twemproxy-one_at_a_time", False),
    ("murmur", "murmur", "twemproxy-murmur", False),
    ("crc32", "crc32", "twemproxy-crc32", False),
    ("crc32a", "crc32a", "twemproxy-crc32a", False),
    ("named", "fnv1a_64", "twemproxy", True),
]


def read_until(sock, buf, end):
    while not buf[0].endswith(end):
        chunk = sock.recv(1 << 16)
        if not chunk:
            sys.exit("connection closed")
        buf[0] += chunk


def store(port, keys):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        for i in range(0, len(keys), 200):
            batch = keys[i : i + 200]
            s.sendall(b"".join(b"set " + k + b" 0 0 1\r\nx\r\n" for k in batch))
            buf = [b""]
            while buf[0].count(b"\r\n") < len(batch):
                chunk = s.recv(1 << 16)
                if not chunk:
                    sys.exit("twemproxy closed the connection")
                buf[0] += chunk
            if buf[0] != b"STORED\r\n" * len(batch):
                sys.exit(f"twemproxy answered {buf[0][:200]!r}")


def held(port, keys):
    found = set()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        for i in range(0, len(keys), 20):
            s.sendall(b"get " + b" ".join(keys[i : i + 20]) + b"\r\n")
            buf = [b""]
            read_until(s, buf, b"END\r\n")
            for line in buf[0].split(b"\r\n"):
                if line.startswith(b"VALUE "):
                    found.add(line.split(b" ")[1])
    return found


def main():
    nutcracker, memcached = sys.argv[1], sys.argv[2]
    keys_per_pool = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    procs = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            ports = [free_port() for _ in range(MEMCACHED)]
            user = ["-u", "root"] if os.geteuid() == 0 else []
            for p in ports:
                procs.append(subprocess.Popen([memcached, "-l", "127.0.0.1", "-p", str(p), "-U", "0", "-m", "32", *user]))
                wait_for(p, procs[-1], "memcached")
            listen = {}
            conf = []
            for name, hash_, _, named in POOLS:
                listen[name] = free_port()
                servers = "".join(
                    f"    - 127.0.0.1:{p}:{w}" + (f" mc-{i}" if named else "") + "\n"
                    for i, (p, w) in enumerate(zip(ports, WEIGHTS))
                )
                conf.append(
                    f"{name}:\n  listen: 127.0.0.1:{listen[name]}\n  hash: {hash_}\n"
                    f"  distribution: ketama\n  auto_eject_hosts: false\n  servers:\n{servers}"
                )
            with open(f"{tmp}/nutcracker.yml", "w") as f:
                f.write("".join(conf))
            stats = free_port()
            procs.append(subprocess.Popen([nutcracker, "-c", f"{tmp}/nutcracker.yml", "-o", f"{tmp}/log",
                                           "-s", str(stats), "-a", "127.0.0.1", "-p", f"{tmp}/pid"]))
            for name in listen:
                wait_for(listen[name], procs[-1], "nutcracker")
            return compare(ports, listen, keys_per_pool)
        finally:
            for p in procs:
                os.kill(p.pid, signal.SIGTERM)
                p.wait(timeout=10)


def compare(ports, listen, keys_per_pool):
    failed = 0
    control_differs = None
    for name, hash_, profile, named in POOLS:
        # ASCII keys and keys with bytes >= 0x80 (twemproxy's signed chars)
        keys = [f"{name}-key-{k}".encode() if k % 2 else f"{name}-clé-{k}".encode() for k in range(keys_per_pool)]
        store(listen[name], keys)
        where = {}
        for i, p in enumerate(ports):
            for k in held(p, keys):
                where[k] = i
        if len(where) != len(keys):
            sys.exit(f"{name}: {len(keys) - len(where)} keys were stored nowhere")
        nodes = [(f"mc-{i}" if named else f"127.0.0.1:{p}", w) for i, (p, w) in enumerate(zip(ports, WEIGHTS))]
        ring = ringlock.Ring(nodes, algorithm=profile)
        names = [n for n, _ in nodes]
        differ = sum(ring.get(k) != names[where[k]] for k in keys)
        if name == "fnv":
            control = ringlock.Ring(nodes, algorithm="libmemcached")
            control_differs = sum(control.get(k) != names[where[k]] for k in keys)
        ok = differ == 0
        failed += not ok
        print(f"{'ok' if ok else 'FAIL'}: pool {name} (hash {hash_}, {'named' if named else 'unnamed'} servers, "
              f"profile {profile}): {differ} of {len(keys)} keys differ")
    print(f"negative control: libmemcached (MD5 keys) disagrees with the fnv1a_64 pool on {control_differs} keys")
    if not control_differs:
        print("FAIL: the negative control agreed: the comparison sees nothing")
        failed += 1
    print(f"twemproxy profiles: {len(POOLS) - min(failed, len(POOLS))} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
