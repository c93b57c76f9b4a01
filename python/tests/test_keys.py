"""Keys are bytes: str by its UTF-8 encoding, bytes-likes by their bytes."""

from __future__ import annotations

import array

import pytest

import ringlock

TEXTS = ["x", "", "user:42", "ключ", "鍵", "emoji-😀", "a\x00b", "long-" * 100]


def test_str_and_bytes_keys_agree(ring: ringlock.Ring) -> None:
    for text in TEXTS + [f"k{i}" for i in range(500)]:
        raw = text.encode("utf-8")
        owner = ring.get(raw)
        assert ring[text] == owner
        assert ring.get(text) == owner
        assert ring.get(bytearray(raw)) == owner
        assert ring.get(memoryview(raw)) == owner
        assert ring.get_n(text, 3) == ring.get_n(raw, 3)
    assert ring["x"] == ring.get(b"x")


def test_non_utf8_bytes_keys(ring: ringlock.Ring) -> None:
    keys = [bytes([i, 0xFF, 0xFE]) for i in range(256)] + [b"\x80", b"\xc3\x28", b"\xff" * 40]
    owners = [ring.get(k) for k in keys]
    assert ring.get_many(keys) == owners
    assert {o for o in owners} <= set(ring)
    # they spread over the nodes like any keys
    assert len(set(owners)) > 1


def test_memoryview_slices_and_strides(ring: ringlock.Ring) -> None:
    data = b"0123456789abcdef"
    view = memoryview(data)
    assert ring.get(view[2:9]) == ring.get(data[2:9])
    assert ring.get(view[::2]) == ring.get(data[::2])  # non-contiguous
    ints = array.array("I", [1, 2, 3])
    assert ring.get(memoryview(ints)) == ring.get(ints.tobytes())
    assert ring.get_many([view[2:9], bytearray(b"zz")]) == [ring.get(data[2:9]), ring.get(b"zz")]


def test_subclasses_are_keys(ring: ringlock.Ring) -> None:
    class S(str):
        pass

    class B(bytes):
        pass

    assert ring.get(S("hello")) == ring.get(b"hello")
    assert ring.get(B(b"hello")) == ring.get("hello")
    assert ring.get_many([S("hello"), B(b"hello")]) == [ring.get("hello")] * 2


def test_bytearray_empty_and_mutated(ring: ringlock.Ring) -> None:
    buf = bytearray()
    assert ring.get(buf) == ring.get(b"")
    buf.extend(b"grown")
    assert ring.get(buf) == ring.get(b"grown")


@pytest.mark.parametrize("bad", [42, 4.2, None, ["k"], ("k",), object(), array.array("b", [1])])
def test_other_key_types_are_type_errors(ring: ringlock.Ring, bad: object) -> None:
    with pytest.raises(TypeError, match="str, bytes, bytearray or memoryview"):
        ring.get(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ring[bad]  # type: ignore[index]
    with pytest.raises(TypeError):
        ring.get_n(bad, 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"keys\[1\]"):
        ring.get_many(["ok", bad])  # type: ignore[list-item]


def test_lone_surrogate_str_keys_are_invalid(ring: ringlock.Ring) -> None:
    with pytest.raises(ringlock.InvalidArgumentError, match="UTF-8"):
        ring.get("bad\udc80")
    with pytest.raises(ValueError):
        ring.get_many(["fine", "bad\ud800"])
    # the same text with surrogatepass bytes is an ordinary bytes key
    assert ring.get("bad\udc80".encode("utf-8", "surrogatepass")) in ring
