"""The page's empty, partial and busy states, rendered by Streamlit's own script runner.

``AppTest`` runs ``dashboard/app.py`` in-process, element tree and caches included, without a
browser or a server: each state costs a second instead of a ``blotter dashboard`` start.
The browser tests (test_dashboard_browser.py) cover what only Chromium shows.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

WRITER = (
    "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); "
    "sys.stdin.read()"
)
APP = Path(__file__).resolve().parents[3] / "dashboard" / "app.py"


def _run(db: Path, monkeypatch: pytest.MonkeyPatch, at: AppTest | None = None) -> AppTest:
    monkeypatch.setenv("BLOTTER_DUCKDB_PATH", str(db))
    at = at or AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _text(at: AppTest) -> str:
    parts = [e.value for kind in (at.info, at.warning, at.error, at.success) for e in kind]
    parts += [e.value for e in at.caption] + [e.value for e in at.subheader]
    return "\n".join(str(p) for p in parts)


def test_partial_and_busy_warehouses_show_states_not_exceptions(
    healthy_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the counts marts published: no ML, no incidents, no run history.
    partial = tmp_path / "partial.duckdb"
    shutil.copy(healthy_db, partial)
    with duckdb.connect(str(partial)) as con:
        con.execute("drop view marts.fct_pipeline_runs")
        for table in ("fct_incidents", "fct_forecasts", "dim_forecast_models"):
            # Published objects are views onto the live colour (blue/green publish).
            con.execute(f"drop view marts.{table}")
        (last_level,) = con.execute(
            "select arg_max(geo_level, level_order) from marts.dim_geography"
        ).fetchone()
    at = _run(partial, monkeypatch)
    text = _text(at)
    assert "No run recorded in the run ledger yet" in text
    assert "No located incidents" in text and "no forecast published" in text
    assert [m.label for m in at.metric] == ["Last complete day", "Last 7 days", "Last 28 days"]
    assert at.metric[1].value not in ("", "–")

    # The app holds no connection between reads: a run (another process) can take the write
    # lock...
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(partial)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "locked"
        # ...and while it holds it, the page keeps serving what it read; an area it has not
        # read yet says why it shows nothing.
        at = _run(partial, monkeypatch, at)
        assert at.metric[1].value not in ("", "–")
        at.selectbox(key="level").set_value(last_level)
        at = _run(partial, monkeypatch, at)
        assert any("being written by a run" in w.value for w in at.warning), _text(at)
    finally:
        writer.communicate("", timeout=30)


def test_a_missing_warehouse_says_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _run(tmp_path / "missing.duckdb", monkeypatch)
    assert "no warehouse at" in _text(at) and "blotter run" in _text(at)


def test_a_failed_last_run_shows_the_banner_over_the_published_data(
    failed_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with duckdb.connect(str(failed_db), read_only=True) as con:
        (run_id,) = con.execute(
            "select run_id from ops.run_ledger order by started_at desc limit 1"
        ).fetchone()
    at = _run(failed_db, monkeypatch)
    banner = at.error[0].value
    assert banner.startswith(f"Last run failed: {run_id} at ")
    assert "cannot reach" in banner  # the run's own one-line error
    assert "Showing what the last successful run published" in banner
    # The page still shows the published data under the banner.
    assert at.metric[1].label == "Last 7 days" and at.metric[1].value not in ("", "–")
