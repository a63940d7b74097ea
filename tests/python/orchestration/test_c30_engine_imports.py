"""A DuckDB engine is resolved without importing dlt or any BigQuery module.

Commands that do not land (``blotter runs``, ``forecast``, ``dashboard``, an operator mistake
caught before ingestion) paid ~1 CPU s for dlt and the BigQuery client at every start.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

_PROBE = """
import sys, engines
engine = engines.engine_for({target!r}, duckdb_path={path!r})
heavy = ("dlt", "engines.bigquery", "google.cloud.bigquery")
loaded = sorted(m for m in sys.modules if m in heavy or m.startswith(heavy[1:]))
print(type(engine).__name__, ",".join(loaded) or "-")
"""


def _probe(target: str, path: str) -> tuple[str, str]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(target=target, path=path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return out[0], out[1]


@pytest.mark.parametrize("target", ["dev", "ci"])
def test_a_duckdb_engine_imports_no_dlt_and_no_bigquery(tmp_path, target: str) -> None:
    engine, loaded = _probe(target, str(tmp_path / "w.duckdb"))
    assert engine == "DuckDBEngine"
    assert loaded == "-"


def test_landing_on_duckdb_still_gets_dlt_s_destination(tmp_path) -> None:
    import engines

    with engines.engine_for("dev", duckdb_path=tmp_path / "w.duckdb").landing() as destination:
        assert type(destination).__name__ == "duckdb"
        assert str(tmp_path / "w.duckdb") in str(destination.config_params.get("credentials", ""))


def test_an_unknown_target_is_still_one_destination_error(tmp_path) -> None:
    import engines
    from engines.bigquery.target import DestinationError as FromTarget

    with pytest.raises(engines.DestinationError, match="unknown target 'qa'; use dev, ci, prod"):
        engines.engine_for("qa", duckdb_path=tmp_path / "w.duckdb")
    assert FromTarget is engines.DestinationError  # old import path, same class
