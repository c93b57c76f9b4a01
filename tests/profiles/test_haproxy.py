"""The haproxy profile against a real HAProxy (make test-profiles).

One HAProxy process: an "echo" frontend that answers every request with the
value of its X-Srv header, and one backend per server list (1 to 200
servers, equal and unequal weights), each ``balance hdr(X-Key)`` with
``hash-type consistent`` and ``http-send-name-header X-Srv``, all
its servers pointing at the echo frontend. A request with ``X-Key: <key>``
and ``X-List: <i>`` comes back naming the server HAProxy chose for the key
in backend ``b<i>``; it must be the node a ringlock ring of
``algorithm="haproxy"`` picks, for every key. The servers are named so that
their name order is their order in the configuration (server ``i`` of the
profile is the ``i``-th node by name). A negative control (``ketama`` over
the same names) must disagree.

Requests are pipelined on a few keep-alive connections, so 100,000 keys per
list take seconds.

Usage: test_haproxy.py HAPROXY_BINARY [KEYS]
"""

import glob
import os
import signal
import socket
import subprocess
import sys
import tempfile

import ringlock
from servers import free_port, wait_for


def weights_equal(n):
    return [1] * n


def weights_unequal(n):
    # 1 to 256, HAProxy's whole range, the extremes included
    return [[1, 2, 3, 7, 16, 100, 255, 256][i % 8] if n <= 8 else 1 + (i * 37) % 256 for i in range(n)]


LISTS = [(n, weights_equal(n), "equal") for n in (1, 3, 8, 25, 61, 200)] + [
    (n, weights_unequal(n), "unequal") for n in (3, 8, 25, 61, 200)
]


def server_name(i):
    return f"srv-{i:04d}"


def config(front, echo):
    backends = []
    for b, (n, weights, _) in enumerate(LISTS):
        lines = "".join(
            f"    server {server_name(i)} 127.0.0.1:{echo} weight {w}\n" for i, w in enumerate(weights)
        )
        backends.append(
            f"backend b{b}\n    balance hdr(X-Key)\n    hash-type consistent\n"
            f"    http-send-name-header X-Srv\n{lines}"
        )
    return f"""
global
    nbthread 1
    maxconn 4000

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s

frontend echo
    bind 127.0.0.1:{echo}
    http-request return status 200 content-type text/plain lf-string "%[req.hdr(x-srv)]"

frontend front
    bind 127.0.0.1:{front}
    use_backend b%[req.hdr(x-list)]

{chr(10).join(backends)}
"""


def environment(binary):
    """The unpacked package's libraries beside its binary, when it is one."""
    env = dict(os.environ)
    root = binary[: -len("usr/sbin/haproxy")] if binary.endswith("usr/sbin/haproxy") else None
    if root and root != "/":
        libs = glob.glob(os.path.join(root, "usr/lib/*-linux-gnu"))
        env["LD_LIBRARY_PATH"] = ":".join(libs + [env.get("LD_LIBRARY_PATH", "")])
    return env


def ask(front, backend, keys, batch=2000):
    """The server HAProxy picks for each key in backend b<backend>, in order."""
    out = []
    with socket.create_connection(("127.0.0.1", front), timeout=30) as s:
        buf = b""
        for start in range(0, len(keys), batch):
            chunk = keys[start : start + batch]
            s.sendall(
                b"".join(
                    b"GET / HTTP/1.1\r\nHost: t\r\nX-List: %d\r\nX-Key: %s\r\n\r\n" % (backend, k) for k in chunk
                )
            )
            got = 0
            while got < len(chunk):
                head_end = buf.find(b"\r\n\r\n")
                if head_end < 0:
                    data = s.recv(1 << 20)
                    if not data:
                        sys.exit("haproxy closed the connection")
                    buf += data
                    continue
                head = buf[:head_end].split(b"\r\n")
                if not head[0].startswith(b"HTTP/1.1 200"):
                    sys.exit(f"haproxy answered {head[0]!r} for backend b{backend}")
                length = next(
                    int(h.split(b":", 1)[1]) for h in head[1:] if h.lower().startswith(b"content-length:")
                )
                end = head_end + 4 + length
                while len(buf) < end:
                    buf += s.recv(1 << 20)
                out.append(buf[head_end + 4 : end].decode())
                buf = buf[end:]
                got += 1
    return out


def main():
    haproxy = sys.argv[1]
    nkeys = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    # short keys and longer ones of other bytes (an HTTP header carries any
    # visible ASCII)
    keys = [b"key-%d" % k if k % 2 else b"user:%x/session=%d!~" % (k * 2654435761 % 2**32, k) for k in range(nkeys)]
    with tempfile.TemporaryDirectory() as tmp:
        front, echo = free_port(), free_port()
        cfg = f"{tmp}/haproxy.cfg"
        with open(cfg, "w") as f:
            f.write(config(front, echo))
        log = open(f"{tmp}/haproxy.log", "w")
        proc = subprocess.Popen([haproxy, "-db", "-f", cfg], env=environment(haproxy), stdout=log, stderr=log)
        try:
            wait_for(front, proc, "haproxy", f"{tmp}/haproxy.log")
            wait_for(echo, proc, "haproxy", f"{tmp}/haproxy.log")
            return compare(front, keys)
        finally:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)


def compare(front, keys):
    failed = 0
    control_differs = 0
    for b, (n, weights, kind) in enumerate(LISTS):
        nodes = [(server_name(i), w) for i, w in enumerate(weights)]
        ring = ringlock.Ring(nodes, algorithm="haproxy")
        control = ringlock.Ring(nodes, algorithm="ketama")
        want = ask(front, b, keys)
        got = ring.get_many(keys)
        differ = [i for i, (w, g) in enumerate(zip(want, got)) if w != g]
        control_here = sum(w != c for w, c in zip(want, control.get_many(keys)))
        control_differs += control_here > 0
        ok = not differ
        failed += not ok
        first = f" (first {keys[differ[0]].decode()}: haproxy {want[differ[0]]}, ringlock {got[differ[0]]})" if differ else ""
        print(
            f"{'ok' if ok else 'FAIL'}: backend b{b} ({n} servers, {kind} weights): "
            f"{len(differ)} of {len(keys)} keys differ{first}"
        )
    # a single server owns every key whatever the algorithm
    print(f"negative control: ketama disagrees with haproxy on {control_differs} of {len(LISTS) - 1} backends of 2+ servers")
    if control_differs < len(LISTS) - 1:
        print("FAIL: the negative control agreed: the comparison sees nothing")
        failed += 1
    print(f"haproxy profile: {len(LISTS) - min(failed, len(LISTS))} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
