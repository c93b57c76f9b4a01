"""The docstrings of python/ringlock/_ringlock.pyi come from the native module.

The one source of every docstring of ``ringlock._ringlock`` is the Rust code
(the ``///`` comments of the ``#[pyclass]``/``#[pymethods]`` items and the
``DOC`` texts of python/src/capi/): it is what ``help()`` and ``__doc__``
show. The stub carries a copy for editors and type checkers, which this tool
writes and checks:

    python tools/stub_docs.py           # rewrite the stub's docstrings
    python tools/stub_docs.py --check   # exit 1 and list every difference

python/tests/test_docstrings.py runs the check. Rules: every class, function,
method and property of the stub whose runtime object has its own docstring
carries that docstring, verbatim after ``inspect.cleandoc``; a stub entry
whose runtime object has none (a slot such as ``__len__``) carries none.
Private names (``_Ticket``, ``Lock._ticket``) are left alone.
"""

from __future__ import annotations

import ast
import inspect
import sys
from pathlib import Path
from typing import Any, Iterator

STUB = Path(__file__).resolve().parent.parent / "ringlock" / "_ringlock.pyi"


def _own_doc(owner: Any, name: str) -> str | None:
    """The docstring `name` has on `owner` itself, None for an inherited or
    generic one (a slot wrapper's "Return len(self).")."""
    if owner is None:
        return None
    raw = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name, None)
    if raw is None:
        return None
    if isinstance(raw, (staticmethod, classmethod)):
        raw = raw.__func__
    doc = getattr(raw, "__doc__", None)
    if not isinstance(doc, str) or not doc.strip():
        return None
    kind = type(raw).__name__
    if kind in ("wrapper_descriptor", "method-wrapper", "slot wrapper"):
        return None
    if name.startswith("__") and name.endswith("__"):
        # a dunder's doc is its own only when it differs from object's / type's
        for base in (object, type):
            generic = getattr(base, name, None)
            if generic is not None and getattr(generic, "__doc__", None) == doc:
                return None
    return inspect.cleandoc(doc)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _entries(tree: ast.Module, module: Any) -> Iterator[tuple[str, ast.AST, str | None]]:
    """(qualified name, stub node, runtime docstring) of every public class,
    def and property of the stub."""
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and _private(node.name):
            continue
        if isinstance(node, ast.ClassDef):
            cls = getattr(module, node.name, None)
            yield node.name, node, inspect.cleandoc(cls.__doc__) if cls is not None and cls.__doc__ else None
            seen: set[str] = set()
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    if item.name in seen or _private(item.name):  # a setter, an overload
                        continue
                    seen.add(item.name)
                    yield f"{node.name}.{item.name}", item, _own_doc(cls, item.name)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            fn = getattr(module, node.name, None)
            doc = fn.__doc__ if fn is not None else None
            yield node.name, node, inspect.cleandoc(doc) if doc else None


def _docstring_node(node: ast.AST) -> ast.Expr | None:
    body = getattr(node, "body", [])
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        if isinstance(body[0].value.value, str):
            return body[0]
    return None


def _literal(doc: str, indent: str) -> str:
    text = doc.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines = text.split("\n")
    if len(lines) == 1:
        return f'"""{text}"""'
    body = "\n".join((indent + line) if line else "" for line in lines[1:])
    return f'"""{lines[0]}\n{body}\n{indent}"""'


def differences(module: Any, source: str) -> list[str]:
    tree = ast.parse(source)
    out = []
    for name, node, doc in _entries(tree, module):
        stub_node = _docstring_node(node)
        stub = inspect.cleandoc(stub_node.value.value) if stub_node else None  # type: ignore[attr-defined]
        if stub != doc:
            out.append(f"{name}: stub {stub!r:.60} != runtime {doc!r:.60}")
    return out


def rewrite(module: Any, source: str) -> str:
    tree = ast.parse(source)
    lines = source.split("\n")
    edits: list[tuple[int, int, int, int, str | None, str, int]] = []
    for _name, node, doc in _entries(tree, module):
        stub_node = _docstring_node(node)
        first = node.body[0]  # type: ignore[attr-defined]
        indent = " " * first.col_offset
        if stub_node is not None:
            only = len(node.body) == 1  # type: ignore[attr-defined]
            edits.append(
                (stub_node.lineno, stub_node.col_offset, stub_node.end_lineno or 0,
                 stub_node.end_col_offset or 0, doc, indent, 3 if only else 0)
            )
        elif doc is not None:
            if lines[first.lineno - 1][: first.col_offset].strip():
                # `def f(): ...` (the `...` after the signature): the docstring is the body
                indent = " " * (node.col_offset + 4)  # type: ignore[attr-defined]
                edits.append((first.lineno, first.col_offset, first.end_lineno or 0,
                              first.end_col_offset or 0, doc, indent, 2))
            else:
                edits.append((first.lineno, first.col_offset, first.lineno, first.col_offset,
                              doc, indent, 1))
    for lineno, col, end_lineno, end_col, doc, indent, insert in sorted(edits, reverse=True):
        before = lines[lineno - 1][:col]
        after = lines[end_lineno - 1][end_col:]
        if doc is None and insert == 3:  # the docstring was the whole body
            new = [before + "..." + after]
        elif doc is None:
            new = [before + after] if (before + after).strip() else []
        else:
            lit = _literal(doc, indent)
            if insert == 2:
                new = [before.rstrip()] + (indent + lit).split("\n")
            elif insert == 1:
                new = (before + lit).split("\n") + [before + after]
            else:
                new = (before + lit + after).split("\n")
        lines[lineno - 1 : end_lineno] = new
    return "\n".join(lines)


def main() -> int:
    import ringlock._ringlock as module

    source = STUB.read_text()
    if "--check" in sys.argv[1:]:
        diffs = differences(module, source)
        for d in diffs:
            print(d)
        return 1 if diffs else 0
    STUB.write_text(rewrite(module, source))
    return 0


if __name__ == "__main__":
    sys.exit(main())
