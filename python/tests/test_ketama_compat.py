"""ketama compatibility: ringlock against the PyPI package uhashring, and
against a small pure-Python transcription of libketama.

How uhashring 2.5 builds a ketama ring (read from uhashring/ring.py and
ring_ketama.py): ``HashRing(nodes, hash_fn="ketama")`` uses ``vnodes=40``
hashes per server of average weight unless told otherwise, each MD5 digest
giving ``replicas=4`` points (little-endian words), so 160 points per server
as libketama. A list of names gives weight 1 each; a dict name -> int gives
weights. A key is hashed as ``md5(str(key).encode())`` (so str keys only).
Server hash texts are ``f"{name}-{k}"``, not cut to 29 bytes as libketama's
``snprintf`` does (our names are short, so the cut never applies).

It differs from libketama in two ways, each tested on its own below:

(a) a server's number of hashes is ``vnodes * n * w // W`` in exact integer
    arithmetic; libketama computes ``floorf((float)w / (float)W * 40.0 *
    (float)n)`` with a 32-bit float share, which is sometimes one less;
(b) a key goes to the first point strictly *after* its hash (``bisect``);
    libketama and ringlock take the first point *at or after* it.

Random keys practically never hash exactly onto a point and the server
lists of the agreement tests are chosen so that (a) gives the same counts
(checked), so there the two must agree on every key.
"""

from __future__ import annotations

import bisect
import math
import struct
from hashlib import md5

import pytest

import ringlock

uhashring = pytest.importorskip("uhashring")

KEYS = [f"key-{i}" for i in range(10_000)] + [f"user:{i}:session" for i in range(5_000)]

EQUAL = [f"10.0.1.{i}:11211" for i in range(1, 9)]
# total weight 16: every share w/16 is exact in float, so (a) cannot differ
MIXED = {
    "10.0.2.1:11211": 1,
    "10.0.2.2:11211": 2,
    "10.0.2.3:11211": 3,
    "10.0.2.4:11211": 2,
    "cache-a": 4,
    "cache-b": 1,
    "cache-c": 2,
    "cache-d": 1,
}
# 21/40 rounds *down* in float: libketama gives "heavy" 62 hashes, uhashring
# 63 (found by searching (w, W, n) for counts that differ; the name is one
# whose key "heavy-62" does not land on heavy when heavy has 62 hashes)
FLOAT_DIFFERS = {"heavy": 21, "mid": 10, "small": 9}


def f32(x: float) -> float:
    return float(struct.unpack("f", struct.pack("f", x))[0])


def libketama_hashes(weight: int, total: int, servers: int) -> int:
    """libketama's count: floorf((float)w/(float)W * 40.0 * (float)n)."""
    pct = f32(f32(weight) / f32(total))
    return math.floor(f32(pct * 40.0 * f32(servers)))


def uhashring_hashes(weight: int, total: int, servers: int) -> int:
    """uhashring's count (ring_ketama.py): vnodes * n * w // W, vnodes 40."""
    return 40 * servers * weight // total


def words(text: bytes) -> list[int]:
    d = md5(text).digest()
    return [int.from_bytes(d[4 * i : 4 * i + 4], "little") for i in range(4)]


class Continuum:
    """A ketama continuum in plain Python, with a chosen count rule and
    lookup rule (at-or-after as libketama, or strictly-after as uhashring)."""

    def __init__(self, servers: dict[str, int], count=libketama_hashes, strictly_after=False):  # type: ignore[no-untyped-def]
        total = sum(servers.values())
        points = []
        self.hashes = {}
        for name, weight in servers.items():
            ks = count(weight, total, len(servers))
            self.hashes[name] = ks
            for k in range(ks):
                for w in words(f"{name}-{k}".encode()[:29]):
                    points.append((w, name))
        points.sort()
        self.pos = [p for p, _ in points]
        self.owner = [o for _, o in points]
        self.strictly_after = strictly_after

    def get(self, key: str) -> str:
        h = words(key.encode())[0]
        find = bisect.bisect_right if self.strictly_after else bisect.bisect_left
        i = find(self.pos, h)
        return self.owner[i if i < len(self.pos) else 0]


def both_counts_agree(servers: dict[str, int]) -> bool:
    total, n = sum(servers.values()), len(servers)
    return all(
        libketama_hashes(w, total, n) == uhashring_hashes(w, total, n) for w in servers.values()
    )


@pytest.mark.parametrize("servers", [dict.fromkeys(EQUAL, 1), MIXED], ids=["equal", "mixed"])
def test_agrees_with_uhashring(servers: dict[str, int]) -> None:
    assert both_counts_agree(servers), "premise: integer and float shares agree"
    ring = ringlock.Ring(servers, algorithm="ketama")
    if len(set(servers.values())) == 1:
        reference = uhashring.HashRing(list(servers), hash_fn="ketama")
    else:
        reference = uhashring.HashRing(dict(servers), hash_fn="ketama")
    expected = [reference.get_node(k) for k in KEYS]
    assert ring.get_many(KEYS) == expected
    assert [ring[k] for k in KEYS[:2000]] == expected[:2000]
    # every server gets a share, roughly its weight's
    total = sum(servers.values())
    for name, weight in servers.items():
        share = expected.count(name) / len(expected)
        assert 0.3 * weight / total < share < 2.5 * weight / total


def test_agrees_with_the_python_transcription_of_libketama() -> None:
    for servers in (dict.fromkeys(EQUAL, 1), MIXED, FLOAT_DIFFERS):
        ring = ringlock.Ring(servers, algorithm="ketama")
        reference = Continuum(servers)
        assert ring.get_many(KEYS) == [reference.get(k) for k in KEYS]


def test_exact_hits_go_to_the_point_at_the_hash() -> None:
    """(b): the key text "<server>-<k>" hashes (first MD5 word) exactly onto
    the first point of that server's hash k. libketama and ringlock give that
    server; uhashring moves on to the next point."""
    ring = ringlock.Ring(MIXED, algorithm="ketama")
    reference = uhashring.HashRing(dict(MIXED), hash_fn="ketama")
    strictly_after = Continuum(MIXED, count=uhashring_hashes, strictly_after=True)
    total, n = sum(MIXED.values()), len(MIXED)
    differs = 0
    for name, weight in MIXED.items():
        for k in range(libketama_hashes(weight, total, n)):
            key = f"{name}-{k}"
            assert ring[key] == name, key
            assert reference.get_node(key) == strictly_after.get(key)
            differs += reference.get_node(key) != name
    assert differs > 100  # uhashring really does differ on these keys


def test_float_shares_follow_libketama() -> None:
    """(a): with weights 21:10:9 libketama's float share gives "heavy" 62
    hashes, uhashring's integer share 63. ringlock follows libketama: the key
    "heavy-61" lands on one of heavy's points, "heavy-62" (a point only with
    63 hashes) does not, and the whole ring equals the float-count model and
    differs from the integer-count model."""
    total, n = sum(FLOAT_DIFFERS.values()), len(FLOAT_DIFFERS)
    assert libketama_hashes(21, total, n) == 62
    assert uhashring_hashes(21, total, n) == 63
    for w in (10, 9):  # the others agree
        assert libketama_hashes(w, total, n) == uhashring_hashes(w, total, n)

    ring = ringlock.Ring(FLOAT_DIFFERS, algorithm="ketama")
    float_model = Continuum(FLOAT_DIFFERS)
    int_model = Continuum(FLOAT_DIFFERS, count=uhashring_hashes)
    assert ring["heavy-61"] == "heavy"
    assert int_model.get("heavy-62") == "heavy"  # an exact hit with 63 hashes
    assert float_model.get("heavy-62") != "heavy"  # not a point with 62
    assert ring["heavy-62"] == float_model.get("heavy-62")
    # uhashring itself: 63 hashes, so 252 points for heavy
    assert uhashring.HashRing(dict(FLOAT_DIFFERS), hash_fn="ketama").distribution["heavy"] == 252

    keys = KEYS + [f"heavy-{k}" for k in range(70)]
    owners = ring.get_many(keys)
    assert owners == [float_model.get(k) for k in keys]
    assert owners != [int_model.get(k) for k in keys]


def test_long_names_are_cut_like_libketama() -> None:
    """libketama hashes snprintf(ss, 30, "%s-%d") texts: at most 29 bytes."""
    servers = {"a-server-name-that-is-27byte": 1, "another-rather-long-server-name:11211": 2}
    ring = ringlock.Ring(servers, algorithm="ketama")
    reference = Continuum(servers)
    assert ring.get_many(KEYS[:3000]) == [reference.get(k) for k in KEYS[:3000]]
