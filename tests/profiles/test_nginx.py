"""The nginx profile against a real nginx (make test-profiles).

One nginx serves BACKENDS tiny backends (each answers with its own port) and
one front server whose locations /u0, /u1, ... proxy to upstreams of
different server lists and weights, each with ``hash $arg_k consistent``.
For every key, the backend nginx picks must be the node a ringlock ring of
``algorithm="nginx"`` picks; a negative control (``ketama``) must disagree.

Usage: test_nginx.py NGINX_BINARY [KEYS]
"""

import http.client
import os
import signal
import subprocess
import sys
import tempfile

import ringlock
from servers import free_port, wait_for

BACKENDS = 24
# (servers as indexes into the backends, weights): one upstream each
UPSTREAMS = [
    (range(2), [1] * 2),
    (range(3), [1] * 3),
    (range(5), [1, 2, 1, 3, 1]),
    (range(10), [1] * 10),
    (range(1, 24, 2), [1 + i % 4 for i in range(12)]),
    (range(24), [1] * 24),
]


def config(tmp, front, ports):
    backends = "\n".join(
        f"    server {{ listen 127.0.0.1:{p}; location / {{ return 200 $server_port; }} }}" for p in ports
    )
    upstreams, locations = [], []
    for i, (servers, weights) in enumerate(UPSTREAMS):
        lines = "".join(f"        server 127.0.0.1:{ports[s]} weight={w};\n" for s, w in zip(servers, weights))
        upstreams.append(f"    upstream u{i} {{\n        hash $arg_k consistent;\n{lines}    }}")
        locations.append(f"        location /u{i} {{ proxy_pass http://u{i}; }}")
    return f"""
daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
{chr(10).join(upstreams)}
{backends}
    server {{
        listen 127.0.0.1:{front};
{chr(10).join(locations)}
    }}
}}
"""


def main():
    nginx = sys.argv[1]
    keys = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    with tempfile.TemporaryDirectory() as tmp:
        front = free_port()
        ports = [free_port() for _ in range(BACKENDS)]
        with open(f"{tmp}/nginx.conf", "w") as f:
            f.write(config(tmp, front, ports))
        proc = subprocess.Popen([nginx, "-e", f"{tmp}/error.log", "-p", tmp, "-c", f"{tmp}/nginx.conf"])
        try:
            wait_for(front, proc, "nginx", f"{tmp}/error.log")
            return compare(front, ports, keys)
        finally:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)


def compare(front, ports, keys):
    conn = http.client.HTTPConnection("127.0.0.1", front, timeout=10)
    failed = 0
    control_differs = 0
    for i, (servers, weights) in enumerate(UPSTREAMS):
        nodes = [(f"127.0.0.1:{ports[s]}", w) for s, w in zip(servers, weights)]
        ring = ringlock.Ring(nodes, algorithm="nginx")
        control = ringlock.Ring(nodes, algorithm="ketama")
        differ, control_here, first = 0, 0, None
        for k in range(keys):
            key = f"key-{k}"
            conn.request("GET", f"/u{i}?k={key}")
            r = conn.getresponse()
            body = r.read().decode()
            if r.status != 200:
                sys.exit(f"nginx answered {r.status} for /u{i}?k={key}: {body}")
            want = f"127.0.0.1:{body}"
            if ring.get(key) != want:
                differ += 1
                first = first or f"{key}: nginx {want}, ringlock {ring.get(key)}"
            control_here += control.get(key) != want
        control_differs += control_here > 0
        ok = differ == 0
        failed += not ok
        print(f"{'ok' if ok else 'FAIL'}: upstream u{i} ({len(nodes)} servers, weights {sorted(set(weights))}): "
              f"{differ} of {keys} keys differ" + (f" (first {first})" if first else ""))
    print(f"negative control: ketama disagrees with nginx on {control_differs} of {len(UPSTREAMS)} upstreams")
    if control_differs < len(UPSTREAMS) - 1:
        print("FAIL: the negative control agreed: the comparison sees nothing")
        failed += 1
    print(f"nginx profile: {len(UPSTREAMS) - min(failed, len(UPSTREAMS))} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
