"""What the profile tests share: free 127.0.0.1 ports and waiting for a
server to listen."""

import socket
import sys
import time


def free_port():
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, proc, what, log=None):
    """Returns once 127.0.0.1:port accepts; exits if `proc` dies first (with
    the text of `log`, a path, if given) or after 10 s."""
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None:
                detail = open(log).read() if log else ""
                sys.exit(f"{what} exited with {proc.returncode} {detail}")
            time.sleep(0.02)
    sys.exit(f"{what} did not listen on {port}")
