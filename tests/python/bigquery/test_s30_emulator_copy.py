"""The emulator's tree copy (``bq_emulator_main.copy_tree``) is node for node sqlglot's deep copy.

Every cached parse is handed out as a ``copy_tree`` copy instead of ``tree.copy()``: the copy must
carry the same classes, arguments, positions, comments, types and hashes, and share no mutable
object with the cached tree (callers rewrite their tree in place).
"""

from __future__ import annotations

import sqlglot
from bq_emulator_main import copy_tree
from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

# Shapes the dbt project sends: CTEs, casts, window functions, a MERGE, comments, DDL.
TEXTS = [
    ("bigquery", "/* dbt */ select a, cast(b as int64) as b from `p`.`d`.`t` where a > 1 -- end"),
    (
        "bigquery",
        "with x as (select geo, count(*) as n from `p.d.t` group by geo) "
        "select geo, n, sum(n) over (partition by geo order by n rows between unbounded "
        "preceding and current row) as running from x qualify n > 0",
    ),
    (
        "bigquery",
        "merge into `p.d.t` as t using (select 1 as id, 'a' as v) as s on t.id = s.id "
        "when matched then update set v = s.v when not matched then insert (id, v) "
        "values (s.id, s.v)",
    ),
    (
        "bigquery",
        "create or replace table `p.d.t` partition by date(ts) cluster by geo as "
        "select timestamp '2024-01-01' as ts, 'x' as geo, [1, 2] as arr, struct(1 as a) as s",
    ),
    ("duckdb", 'select "t"."a" + 1 as b, coalesce(c, 0) from "d"."t" as "t" order by 1 desc'),
]


def _annotated() -> exp.Expr:
    """A tree whose nodes carry types (``_type``), as the emulator's rules see it."""
    tree = sqlglot.parse_one("select a + 1 as b, cast(c as text) as c from t", read="duckdb")
    schema = {"t": {"a": "INT", "c": "DOUBLE"}}
    return annotate_types(qualify(tree, schema=schema, dialect="duckdb"), schema=schema)


def _trees() -> list[exp.Expr]:
    return [sqlglot.parse_one(sql, read=dialect) for dialect, sql in TEXTS] + [_annotated()]


def _state(node: exp.Expr) -> tuple:
    scalars = {k: v for k, v in node.args.items() if not isinstance(v, exp.Expr | list)}
    kind = node._type.sql("duckdb") if node._type is not None else None
    return (type(node), node.arg_key, node.index, node.meta, node.comments, kind, scalars)


def test_copy_tree_equals_sqlglots_deep_copy_node_for_node() -> None:
    for tree in _trees():
        want, got = tree.copy(), copy_tree(tree)
        assert got == want and got.sql() == want.sql()
        pairs = list(zip(want.walk(), got.walk(), strict=True))
        assert [_state(a) for a, _ in pairs] == [_state(b) for _, b in pairs]
        assert [a._hash for a, _ in pairs] == [b._hash for _, b in pairs]
        # Something to compare: positions, comments and types are really there.
        assert any(b.meta for _, b in pairs)
    assert any(n.comments for n in copy_tree(_trees()[0]).walk())
    assert any(n._type is not None for n in copy_tree(_annotated()).walk())


def test_copy_tree_shares_nothing_mutable_with_the_cached_tree() -> None:
    for tree in _trees():
        before = tree.sql()
        copied = copy_tree(tree)
        originals = list(tree.walk())
        ids = {id(n) for n in originals}
        mutable = {id(n._meta) for n in originals if n._meta is not None}
        mutable |= {id(n.comments) for n in originals if n.comments is not None}
        mutable |= {id(n._type) for n in originals if n._type is not None}
        for node in copied.walk():
            assert id(node) not in ids
            for part in (node._meta, node.comments, node._type):
                assert part is None or id(part) not in mutable
        # A caller rewriting its copy in place leaves the cached tree as it was.
        for node in list(copied.walk()):
            if node.comments:
                node.comments.append("changed")
            if node._meta is not None:
                node._meta["line"] = -1
        copied.find(exp.Column).replace(exp.column("changed"))
        assert tree.sql() == before
        assert all(n._meta is None or n._meta.get("line") != -1 for n in tree.walk())
