"""``bqemulator start`` with its GoogleSQL parses memoised: the emulator the tests run.

bqemulator rewrites each query through a chain of rewriters, and each one parses the query text
again with ``sqlglot.parse_one`` (most leave it unchanged): in the BigQuery parity scenario
(``test_bq_daily_run.py``) 49,654 of 50,726 parses were of a text parsed before. Here
``sqlglot.parse_one`` remembers the tree of each (text, arguments) and hands every caller its
own copy (callers transform trees in place), so a text is parsed once. A copy costs about a
third of a parse: the emulator's CPU in that scenario fell from 158 to 130 s (paired runs).
Only successful parses are remembered; a text that fails to parse raises every time, as before.

The copies then cost ~4x the parses (~19k copies to ~1k parses in one ``blotter run`` on the
emulator), mostly ``copy.deepcopy`` of each node's position dict. :func:`copy_tree` is sqlglot's
own ``Expr.__deepcopy__`` walk with plain ``dict``/``list`` copies where every value is an
immutable atom (the same result), ~3x faster (s30, BENCHMARKS.md).

Test-only: production never runs the emulator. Run as ``python bq_emulator_main.py start ...``
(the arguments of ``python -m bqemulator``).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

from sqlglot.expressions import Expr

# Distinct query texts of one test session stay in the thousands; the bound only caps memory.
CACHE_SIZE = 8192
# Values a shallow copy shares safely: a deep copy returns these same objects.
_ATOMS = (str, int, float, bool, type(None))


def _plain_copy(value: Any) -> Any:
    """A dict or list of atoms copied shallowly (what deepcopy gives), anything else deepcopied."""
    if type(value) is dict and all(type(v) in _ATOMS for v in value.values()):
        return dict(value)
    if type(value) is list and all(type(v) in _ATOMS for v in value):
        return list(value)
    return copy.deepcopy(value)


def copy_tree(tree: Expr) -> Expr:
    """A deep copy of a sqlglot tree, node for node what ``tree.copy()`` makes.

    sqlglot's ``Expr.__deepcopy__`` (30.x) walks the tree the same way, but copies each node's
    comments and position dict (``meta``) with ``copy.deepcopy``; those hold only strings and
    numbers, so :func:`_plain_copy` copies them in C.
    """
    root = tree.__class__()
    stack = [(tree, root)]
    while stack:
        node, new = stack.pop()
        if node.comments is not None:
            new.comments = _plain_copy(node.comments)
        if node._type is not None:
            kind = node._type
            new._type = copy_tree(kind) if isinstance(kind, Expr) else copy.deepcopy(kind)
        if node._meta is not None:
            new._meta = _plain_copy(node._meta)
        if node._hash is not None:
            new._hash = node._hash
        for key, value in node.args.items():
            if isinstance(value, Expr):
                stack.append((value, value.__class__()))
                new.set(key, stack[-1][-1])
            elif type(value) is list:
                new.args[key] = []
                for item in value:
                    if isinstance(item, Expr):
                        stack.append((item, item.__class__()))
                        new.append(key, stack[-1][-1])
                    else:
                        new.append(key, item)
            else:
                new.args[key] = value
    return root


def memoise_parse_one(parse_one: Callable[..., Any]) -> Callable[..., Any]:
    """``parse_one`` with an LRU cache of its trees; every call returns a fresh copy."""

    @functools.lru_cache(maxsize=CACHE_SIZE)
    def _parsed(sql: str, options: tuple[tuple[str, Any], ...]) -> Any:
        return parse_one(sql, **dict(options))

    @functools.wraps(parse_one)
    def cached(sql: Any, *args: Any, **kwargs: Any) -> Any:
        if args or not isinstance(sql, str):
            return parse_one(sql, *args, **kwargs)
        try:
            options = tuple(sorted(kwargs.items()))
            hash(options)
        except TypeError:  # an unhashable option (a Dialect instance with state): no cache
            return parse_one(sql, **kwargs)
        return copy_tree(_parsed(sql, options))

    cached.cache_info = _parsed.cache_info  # type: ignore[attr-defined]
    return cached


def main() -> None:
    """Install the memoised parser, then hand over to bqemulator's own command line."""
    import sqlglot

    sqlglot.parse_one = memoise_parse_one(sqlglot.parse_one)

    from bqemulator.cli import main as emulator_main

    emulator_main()


if __name__ == "__main__":
    main()
