"""`Ring.get` is a METH_O method installed by python/src/capi/ring_get.rs: it must
answer, fail and count references exactly as the ordinary method body (the
one `ring[key]` runs)."""

import gc
import sys

import pytest

import ringlock

NAMES = [f"10.0.0.{i}:11211" for i in range(7)]


@pytest.fixture(params=["xxh3", "ketama", "jump"])
def ring(request):
    return ringlock.Ring(NAMES, algorithm=request.param)


def outcome(f, key):
    try:
        return ("ok", f(key))
    except Exception as e:  # noqa: BLE001 - the exception is the result
        return (type(e), str(e))


KEYS = [
    "user:1", b"user:1", bytearray(b"user:1"), memoryview(b"user:1"), memoryview(b"xuser:1x")[1:-1],
    "", b"", "\u00e9t\u00e9", "\U0001f600", "\udc80", 1, None, 1.5, ["k"], object(),
]


@pytest.mark.parametrize("key", KEYS, ids=repr)
def test_get_matches_getitem(ring, key):
    assert outcome(ring.get, key) == outcome(ring.__getitem__, key)


def test_equal_bytes_give_equal_owners(ring):
    for i in range(2000):
        k = f"key-{i}"
        assert ring.get(k) == ring.get(k.encode()) == ring[k]


def test_empty_ring_raises_like_getitem():
    r = ringlock.Ring()
    for key in ("k", b"k", bytearray(b"k"), 3):
        assert outcome(r.get, key) == outcome(r.__getitem__, key)
    with pytest.raises(ringlock.EmptyRingError):
        r.get("k")


def test_positional_only_one_argument(ring):
    with pytest.raises(TypeError):
        ring.get(key="k")
    with pytest.raises(TypeError):
        ring.get()
    with pytest.raises(TypeError):
        ring.get("a", "b")
    with pytest.raises(TypeError):
        ringlock.Ring.get(object(), "k")  # the descriptor checks the type
    assert ringlock.Ring.get.__text_signature__ == "($self, key, /)"
    assert "owns" in ringlock.Ring.get.__doc__


def test_sees_changes_to_the_ring():
    r = ringlock.Ring(["a"])
    assert r.get("k") == "a"
    r.remove("a")
    r.add("b")
    assert r.get("k") == "b"


def test_no_reference_leaks(ring):
    name = ring.get("k")
    bad = 12345678
    gc.collect()
    before = (sys.getrefcount(name), sys.getrefcount(bad))
    for _ in range(10_000):
        ring.get("k")
        try:
            ring.get(bad)
        except TypeError:
            pass
    gc.collect()
    assert (sys.getrefcount(name), sys.getrefcount(bad)) == before
