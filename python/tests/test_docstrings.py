"""One source for the docstrings of ``ringlock._ringlock``: the Rust code
(what ``help()`` shows). The stub's copies are written from it by
python/tools/stub_docs.py; this test fails when the two disagree, so a
docstring changed on one side only cannot be merged.

Fix a failure with ``.venv/bin/python python/tools/stub_docs.py`` (after
``make python``, so that the runtime docstrings are the new ones)."""

from __future__ import annotations

import importlib.util
import inspect
import pathlib
from types import ModuleType

import pytest

import ringlock
import ringlock._ringlock as native

ROOT = pathlib.Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "stub_docs.py"
STUB = ROOT / "ringlock" / "_ringlock.pyi"


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stub_docs", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_stub_carries_the_runtime_docstrings(tool: ModuleType) -> None:
    diffs = tool.differences(native, STUB.read_text())
    assert not diffs, "the stub's docstrings drifted (run python/tools/stub_docs.py):\n" + "\n".join(diffs)


def test_rewriting_changes_nothing(tool: ModuleType) -> None:
    source = STUB.read_text()
    assert tool.rewrite(native, source) == source


def test_the_check_sees_a_drifted_stub(tool: ModuleType) -> None:
    source = STUB.read_text()
    doc = inspect.cleandoc(native.Ring.get_n.__doc__ or "")
    first = doc.split("\n")[0]
    assert first in source
    drifted = source.replace(first, "Up to n nodes (an older text).", 1)
    assert any(d.startswith("Ring.get_n:") for d in tool.differences(native, drifted))
    # and the rewrite puts the runtime text back
    assert tool.differences(native, tool.rewrite(native, drifted)) == []


def test_the_check_sees_a_docstring_missing_from_the_stub(tool: ModuleType) -> None:
    source = STUB.read_text()
    doc = inspect.cleandoc(native.jump_hash.__doc__ or "")
    literal = tool._literal(doc, "    ")
    assert literal in source
    bare = source.replace(literal, "...", 1)
    assert any(d.startswith("jump_hash:") for d in tool.differences(native, bare))


def test_every_public_native_name_is_documented() -> None:
    for name in native.__all__:
        if name.startswith("_"):
            continue
        obj = getattr(native, name)
        if isinstance(obj, str):  # __version__
            continue
        assert obj.__doc__ and obj.__doc__.strip(), name
        assert getattr(ringlock, name).__doc__ == obj.__doc__
