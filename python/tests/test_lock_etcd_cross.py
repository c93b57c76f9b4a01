"""C and Python processes on one etcd lock: 4 `lock_c` and 4 `lock.py`
processes (examples/), 500 increments each, of a counter file kept as a
fenced store (a write whose token is below the highest the store has seen is
rejected and counted). The total must be exact and no write rejected; every
process's tokens only grow, and the last is the lock's token.

Needs build/examples/lock_c (`make c-examples`; test-python depends on it)
and a real etcd (the ``etcd`` fixture of conftest.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ringlock

REPO = Path(__file__).resolve().parents[2]
LOCK_C = REPO / "build" / "examples" / "lock_c"
LOCK_PY = REPO / "examples" / "python" / "lock.py"
PER_LANGUAGE = 4
INCREMENTS = 500
LINE = re.compile(
    r"^(c|python) pid=(\d+) increments=(\d+) last_token=(\d+) died_seen=(\d+) rejected=(\d+)$"
)


def test_c_and_python_share_an_etcd_lock(etcd: str, tmp_path: Path) -> None:
    if not LOCK_C.exists():
        if os.environ.get("CI") or os.environ.get("RINGLOCK_REQUIRE_ETCD"):
            pytest.fail(f"{LOCK_C} is missing: `make c-examples` builds it")
        pytest.skip(f"{LOCK_C} missing: `make c-examples` builds it")
    counter = tmp_path / "counter"
    programs = [[str(LOCK_C)], [sys.executable, str(LOCK_PY)]] * PER_LANGUAGE
    t = time.monotonic()
    procs = [
        subprocess.Popen(
            [*p, "cross-etcd", str(counter), str(INCREMENTS), "etcd", etcd],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for p in programs
    ]
    lines = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        lines.append(out.strip())
    elapsed = time.monotonic() - t
    value, highest, rejected = (int(w) for w in counter.read_text().split())
    total = len(programs) * INCREMENTS
    print(f"etcd, C + Python: {len(programs)} x {INCREMENTS} in {elapsed:.1f} s")
    assert (value, rejected) == (total, 0)
    last_tokens = []
    for line, prog in zip(lines, programs):
        m = LINE.match(line)
        assert m, line
        lang, _pid, n, last, died, rej = m.groups()
        assert lang == ("c" if prog[0] == str(LOCK_C) else "python")
        assert (int(n), int(died), int(rej)) == (INCREMENTS, 0, 0), line
        last_tokens.append(int(last))
    # the store saw the highest token of all, which is the lock's last
    assert max(last_tokens) == highest
    lock = ringlock.Lock("cross-etcd", backend="etcd", endpoints=etcd, namespace="ringlock-demo")
    assert lock.status().token == highest
    lock.close()
