"""Issue 15 item 4: the BigQuery emulator's overrides live in a local dbt package,
``packages/bigquery_emulator``, that only the emulator loads.

dbt_project.yml adds the package's macros to the project only when ``BLOTTER_BQ_API_ENDPOINT``
is set (the same variable that points profiles.yml at the emulator): a DuckDB parse holds none
of them, an emulator parse holds every override of dbt-bigquery's macros. No ``dbt deps``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import parsed_project

from orchestration.dbt_runner import PROJECT_DIR, dbt_args

EMULATOR_PACKAGE = "packages/bigquery_emulator"
EMULATOR_MACROS = (
    "bigquery__create_table_as",
    "bigquery__get_catalog",
    "bigquery__get_catalog_relations",
)


def _manifest(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, endpoint: str | None) -> object:
    """The parsed project; the emulator's parse keeps its own target/ (no partial-parse churn).

    The DuckDB parse is the ``ci`` parse the other dbt tests of this process share (a parse
    of its own would be a whole-project parse, ~5-10 s, of the same files, vars and env).
    """
    from dbt.cli.main import dbtRunner

    if endpoint is None:
        monkeypatch.delenv("BLOTTER_BQ_API_ENDPOINT", raising=False)
        # Named like the group's warehouses, so the shared parse (keyed by the name) is reused.
        env = {"BLOTTER_DUCKDB_PATH": str(tmp_path / "blotter.duckdb"), "BLOTTER_TARGET": "ci"}
        manifest = parsed_project(env, PROJECT_DIR, None)
        assert manifest is not None, "dbt parse of the ci target failed"
        return manifest
    monkeypatch.setenv("BLOTTER_BQ_API_ENDPOINT", endpoint)
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("BLOTTER_DUCKDB_PATH", str(tmp_path / "empty.duckdb"))
    outcome = dbtRunner().invoke(dbt_args("parse", target="ci", extra_args=("--quiet",)))
    assert outcome.success, outcome.exception
    return outcome.result


def _emulator_macros(manifest: object) -> set[str]:
    return {
        macro.name
        for macro in manifest.macros.values()  # type: ignore[attr-defined]
        if macro.original_file_path.startswith(EMULATOR_PACKAGE)
        or (macro.package_name == "blotter" and macro.name in EMULATOR_MACROS)
    }


def test_emulator_overrides_load_only_on_the_emulator(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert _emulator_macros(_manifest(monkeypatch, tmp_path, None)) == set()
    loaded = _emulator_macros(_manifest(monkeypatch, tmp_path, "http://127.0.0.1:9050"))
    assert set(EMULATOR_MACROS) <= loaded
