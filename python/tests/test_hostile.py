"""Plain Python code that lies must never crash the interpreter.

Each case runs in a fresh interpreter, so a segfault is one failed test, not
a dead pytest. A case passes when its script prints ``ok``: it got the
honest answer, or a clear TypeError / ValueError (ringlock's errors derive
from ValueError or LookupError where they should).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

PRELUDE = """
import os, tempfile
import ringlock
SHARED = os.path.join(tempfile.mkdtemp(), "ring")
ring = ringlock.Ring([f"node-{i}" for i in range(10)])
def honest(keys):
    return [ring.get(k) for k in keys]
def clean(call):
    try:
        call()
    except (TypeError, ValueError, LookupError):
        pass
"""

CASES = {
    "list_len_lies_long": """
        class L(list):
            def __len__(self): return 3
        keys = L(["a"])
        assert ring.get_many(keys) == honest(keys)
    """,
    "list_len_lies_huge": """
        class L(list):
            def __len__(self): return 1 << 20
        keys = L(["a", "b"])
        assert ring.get_many(keys) == honest(keys)
    """,
    "list_len_lies_short": """
        class L(list):
            def __len__(self): return 0
        keys = L(["a", "b", "c"])
        assert ring.get_many(keys) == honest(keys)
    """,
    "tuple_len_lies": """
        class T(tuple):
            def __len__(self): return 3
        keys = T(("a",))
        assert ring.get_many(keys) == honest(keys)
    """,
    "list_negative_len": """
        class L(list):
            def __len__(self): return -1
        clean(lambda: ring.get_many(L(["a"])))
    """,
    "list_iter_lies": """
        class L(list):
            def __iter__(self): return iter(["x", "y", "z"])
        keys = L(["a"])
        assert ring.get_many(keys) == honest(keys)
    """,
    "list_getitem_lies": """
        class L(list):
            def __getitem__(self, i): return "other"
        keys = L(["a", "b"])
        assert ring.get_many(keys) == honest(keys)
    """,
    "iter_mutates_list": """
        keys = [f"k{i}" for i in range(1000)]
        class L(list):
            def __iter__(self):
                for i, k in enumerate(list.__iter__(self)):
                    if i == 3:
                        self.clear()
                    yield k
        got = ring.get_many(L(keys))
        assert got == [ring.get(k) for k in keys[:4]], got
    """,
    "str_subclass_keys": """
        class S(str):
            def __eq__(self, o): return True
            def __hash__(self): raise RuntimeError("hash")
            def __str__(self): return "lie"
            def encode(self, *a): return b"lie"
        keys = [S("a"), S("bb"), S("\u00e9t\u00e9")]
        want = [ring.get(str.__str__(k)) for k in keys]
        assert ring.get_many(keys) == want
        assert [ring.get(k) for k in keys] == want
        assert ring.get_n(keys[0], 2)[0] == want[0]
    """,
    "bytes_subclass_and_buffers": """
        class B(bytes):
            def __len__(self): return 100
        keys = [B(b"a"), bytearray(b"a"), memoryview(b"xay")[1:2],
                memoryview(b"a-b-c")[::2]]
        got = ring.get_many(keys)
        assert got[:3] == [ring.get(b"a")] * 3, got
        assert got[3] == ring.get(b"abc"), got
    """,
    "lone_surrogate_key": """
        clean(lambda: ring.get_many(["ok", "\\ud800"]))
        clean(lambda: ring.get("\\ud800"))
    """,
    "index_mutates_weights_dict": """
        nodes = {"a": 1, "b": 2}
        class W:
            def __index__(self):
                nodes["c"] = 1
                return 1
        nodes["b"] = W()
        clean(lambda: ringlock.Ring(nodes))
    """,
    "index_mutates_node_list": """
        nodes = ["a", "b", "c"]
        class W:
            def __index__(self):
                nodes.clear()
                return 1
        nodes[0] = ("a", W())
        clean(lambda: ringlock.Ring(nodes))
    """,
    "index_mutates_loads_dict": """
        loads = {"node-1": 1, "node-2": 2}
        class L:
            def __index__(self):
                loads.update({f"node-{i}": 0 for i in range(3, 10)})
                return 1
        loads["node-2"] = L()
        clean(lambda: ring.get_bounded("k", loads))
        ringlock.SharedRing.publish(ring, SHARED)
        loads["node-2"] = L()
        clean(lambda: ringlock.SharedRing(SHARED).get_bounded("k", loads))
    """,
    "shared_ring_get_many_lies": """
        ringlock.SharedRing.publish(ring, SHARED)
        shared = ringlock.SharedRing(SHARED)
        class L(list):
            def __len__(self): return 3
            def __iter__(self):
                shared.get("x")
                return list.__iter__(self)
        keys = L(["a"])
        assert shared.get_many(keys) == honest(keys)
    """,
    "index_looks_up_during_get_n": """
        ringlock.SharedRing.publish(ring, SHARED)
        shared = ringlock.SharedRing(SHARED)
        class N:
            def __index__(self):
                shared.get("x")
                ring.get("x")
                return 2
        assert shared.get_n("k", N()) == ring.get_n("k", N()) == ring.get_n("k", 2)
    """,
    "big_lists_of_hostile_keys": """
        # from 4096 keys on get_many runs without the GIL: the same answers
        class S(str):
            def __hash__(self): raise RuntimeError("hash")
        class L(list):
            def __len__(self): return 3
        keys = [S(f"k{i}") if i % 3 else bytearray(b"k%d" % i) for i in range(10000)]
        want = [ring.get(k) for k in keys]
        assert ring.get_many(keys) == want
        assert ring.get_many(tuple(keys)) == want
        assert ring.get_many(L(keys)) == want
        assert ring.get_many(iter(keys)) == want
        clean(lambda: ring.get_many(keys + ["\\ud800"]))
        clean(lambda: ring.get_many(keys + [3]))
    """,
    "list_changed_by_another_thread": """
        import sys, threading
        sys.setswitchinterval(1e-6)
        keys = [f"key-{i}" for i in range(200000)]
        stop = threading.Event()
        def change():
            while not stop.is_set():
                keys[:] = [bytearray(b"x")] * len(keys)
                keys[:] = [f"key-{i}" for i in range(50)] * 4000
                keys.clear()
                keys.extend(str(i) for i in range(200000))
        t = threading.Thread(target=change)
        t.start()
        try:
            for _ in range(20):
                try:
                    ring.get_many(keys)
                except RuntimeError as e:
                    assert "changed size" in str(e)
                clean(lambda: ring.get_n(keys[0] if keys else "k", 5))
        finally:
            stop.set()
            t.join()
    """,
    "loads_mapping_lies": """
        class M(dict):
            def items(self): return [("node-1", 3), ("node-2", 1)]
            def __getitem__(self, k): return 10**30
            def __len__(self): return 1000
        ring.get_bounded("k", M({"node-1": 3}))
        class Big:
            def __index__(self): return 10**30
        clean(lambda: ring.get_bounded("k", {"node-1": Big()}))
    """,
    "from_bytes_buffer": """
        data = bytearray(ring.to_bytes())
        assert ringlock.Ring.from_bytes(memoryview(data)) == ring
        clean(lambda: ringlock.Ring.from_bytes(memoryview(data)[::2]))
        clean(lambda: ringlock.Ring.from_bytes(data[:10]))
    """,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile(case: str) -> None:
    script = PRELUDE + textwrap.dedent(CASES[case]) + "\nprint('ok')\n"
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", (
        f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    )
