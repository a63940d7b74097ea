"""Issue 15 item 2: one look-back predicate, ``incremental_where()``, for every incremental node.

The deduplicated incidents, ``fct_incidents``, ``fct_incident_areas`` and the snapshot compile
their window from the macro (the snapshot also before hashing, issue 16 P3): ``true`` on a full
build; otherwise the latest value already in the table minus ``var('incidents_lookback_days')``,
inlined as a timestamp literal (BigQuery prunes partitions on literals, not on subqueries). The
expected start is computed here from the warehouse.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import DEV, parsed_project, query

from orchestration.dbt_runner import PROJECT_DIR, dbt_args

INCREMENTAL_MODELS = ("int_incidents_deduplicated", "fct_incidents", "fct_incident_areas")
SNAPSHOT = "snap_incidents"


def compiled(
    db: Path,
    monkeypatch: pytest.MonkeyPatch,
    select: tuple[str, ...] = (),
    inline: str | None = None,
    **kwargs: Any,
) -> dict[str, str]:
    """Compiled SQL per node name of ``dbt compile`` on ``db`` (``ci`` target).

    A compile with ``vars`` writes its own target/: other vars than the session's would make
    every later dbt call of this worker parse the whole project again. One without vars or an
    inline query compiles from the session's shared ``ci`` parse (no parse of its own).
    """
    from dbt.cli.main import dbtRunner

    manifest = None
    if not kwargs.get("vars") and inline is None:
        manifest = parsed_project(
            {"BLOTTER_DUCKDB_PATH": str(db), "BLOTTER_TARGET": "ci"}, PROJECT_DIR, None
        )
    monkeypatch.setenv("BLOTTER_DUCKDB_PATH", str(db))
    monkeypatch.setenv("BLOTTER_TARGET", "ci")
    if kwargs.get("vars"):
        monkeypatch.setenv("DBT_TARGET_PATH", str(db.parent / "target_with_vars"))
    extra = ("--quiet", "--inline", inline) if inline is not None else ("--quiet",)
    args = dbt_args("compile", select=select, target="ci", extra_args=extra, **kwargs)
    outcome = dbtRunner(manifest=manifest).invoke(args)
    assert outcome.success, outcome.exception
    return {res.node.name: res.node.compiled_code for res in outcome.result.results}


def literal(latest: datetime, days: int) -> str:
    """The start of the window as the macro inlines it."""
    return f"cast('{latest - timedelta(days=days):%Y-%m-%d %H:%M:%S}' as timestamp)"


def latest(db: Path, relation: str, column: str) -> datetime:
    [(value,)] = query(db, f"select max({column}) from {relation}")
    assert isinstance(value, datetime)
    return value


@pytest.mark.parametrize("days", [3, 7])
def test_incremental_nodes_read_only_the_lookback_window(
    built_copy: Path, monkeypatch: pytest.MonkeyPatch, days: int
) -> None:
    vars_ = None if days == 3 else {"incidents_lookback_days": days}
    sql = compiled(built_copy, monkeypatch, select=(*INCREMENTAL_MODELS, SNAPSHOT), vars=vars_)
    # Issue 16: the deduplicated incidents read only loads newer than the newest merged (raw
    # rows never change after their load), a filter DuckDB pushes into the raw scan.
    [(load,)] = query(
        built_copy, f"select max(dlt_load_id) from {DEV}intermediate.int_incidents_deduplicated"
    )
    assert f"where dlt_load_id > '{load}'\n" in sql["int_incidents_deduplicated"]
    for name, relation in zip(
        INCREMENTAL_MODELS[1:],
        (f"{DEV}marts.fct_incidents", f"{DEV}marts.fct_incident_areas"),
        strict=True,
    ):
        start = literal(latest(built_copy, relation, "source_updated_at"), days)
        [(load,)] = query(built_copy, f"select max(dlt_load_id) from {relation}")
        # Rows without :updated_at cannot be windowed: they are re-read every run. Rows of a
        # newer load are read whatever their :updated_at (a late load, Chicago's 7-day re-read).
        # On DuckDB as three disjoint branches, each pushed into the scan (a40).
        flat = " ".join(sql[name].split())
        for branch in (
            f"where source_updated_at >= {start} union all",
            "where source_updated_at is null union all",
            f"where dlt_load_id > '{load}' and source_updated_at < {start}",
        ):
            assert branch in flat, flat
    snapshot = f"{DEV}snapshots.snap_incidents"
    start = literal(latest(built_copy, snapshot, "dbt_updated_at"), days)
    [(load,)] = query(built_copy, f"select max(dlt_load_id) from {snapshot}")
    flat = " ".join(sql[SNAPSHOT].split())
    assert f"where revision_updated_at >= {start} or dlt_load_id > '{load}'" in flat, flat
    # Issue 16 P3: only rows that can land in the window are hashed, not every incident; on
    # DuckDB as disjoint branches, each pushed into the scan (s42; the re-dated current
    # versions are read by key, test_s42_snapshot_window).
    for branch in (
        f"where source_updated_at >= {start} union all",
        f"where source_updated_at is null and source_created_at >= {start} union all",
        "where source_updated_at is null and source_created_at is null and occurred_at >= "
        f"{start} union all",
        f"where dlt_load_id > '{load}' and coalesce(coalesce(source_updated_at, "
        f"source_created_at, occurred_at) < {start}, true)",
    ):
        assert branch in flat, flat


def test_full_builds_read_everything(built_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sql = compiled(built_copy, monkeypatch, select=INCREMENTAL_MODELS, full_refresh=True)
    for name in INCREMENTAL_MODELS:
        assert "where true" in sql[name] and " >= cast(" not in sql[name], sql[name]
    # A node that is not incremental at all (here an inline query) gets no window either.
    [inline] = compiled(
        built_copy, monkeypatch, inline="select {{ incremental_where() }} as in_window"
    ).values()
    assert inline.strip() == "select true as in_window"
