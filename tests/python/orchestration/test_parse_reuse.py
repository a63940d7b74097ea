"""A `blotter run` on a new DuckDB file reuses dbt's saved parse (orchestration.dbt_invoke).

Two runs on a copy of the project, each on its own warehouse file (other file stems, so other
catalogs), dbt target path and start date: the second makes no whole-project parse, yet dbt
still re-parses the model edited between the two runs, each warehouse holds only its own rows,
and each compiled its own start date.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from engines.duckdb import dbt as duckdb_dbt
from orchestration import dbt_invoke, parse_folders
from orchestration.cli import app
from orchestration.dbt_manifest import repoint_catalog
from orchestration.dbt_runner import run_dbt
from replay.server import running_replay

START = {"first": date(2024, 5, 1), "second": date(2024, 5, 15)}
AS_OF = {"first": date(2024, 6, 9), "second": date(2024, 6, 10)}
EDITED = Path("models/staging/socrata/stg_socrata__geographies.sql")
PROBE = "parse_probe"
COUNT = "select count(*) from marts.fct_incidents"


@dataclass
class Runs:
    base: Path
    project: Path
    saved: Path
    paths: dict[str, Path] = field(default_factory=dict)
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    # fct_incidents rows of the first warehouse right after its own run.
    first_rows: int = 0


def _copy_project(project: Path) -> None:
    project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml", "macros", "models", "snapshots", "tests/dbt"):
        src = dbt_invoke.PROJECT_DIR / name
        if src.is_dir():
            shutil.copytree(src, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, project / name)


def _rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    base = tmp_path_factory.mktemp("parse_reuse")
    sc = Runs(base, base / "project", base / "saved_parses")
    _copy_project(sc.project)
    mp = pytest.MonkeyPatch()
    try:
        # The copy's own saved parses, so that no other test's runs count here.
        mp.setattr(dbt_invoke, "PROJECT_DIR", sc.project)
        mp.setattr(dbt_invoke, "SAVED_PARSES", sc.saved)
        mp.chdir(base)
        for name in [k for k in os.environ if k.startswith("BLOTTER_")]:
            mp.delenv(name)
        mp.setenv("BLOTTER_TARGET", "ci")
        for name, as_of in AS_OF.items():
            if name == "second":  # a model changed since the saved parse
                edited = sc.project / EDITED
                text = edited.read_text().rstrip()
                assert text.endswith("select * from final")
                edited.write_text(text[: -len("* from final")] + f"*, 'x' as {PROBE} from final\n")
            mp.setenv("BLOTTER_START_DATE", START[name].isoformat())
            sc.paths[name] = base / name / f"{name}.duckdb"
            mp.setenv("BLOTTER_DUCKDB_PATH", str(sc.paths[name]))
            mp.setenv("DBT_TARGET_PATH", str(base / name / "target"))
            summary = base / name / "summary.json"
            with running_replay(as_of=as_of, start=START[name]) as url:
                mp.setenv("BLOTTER_SOURCE", url)
                result = CliRunner().invoke(
                    app,
                    [
                        *("run", "--as-of", as_of.isoformat(), "--no-docs", "--retries", "0"),
                        *("--create-warehouse", "--summary-file", str(summary)),
                    ],
                )
            sc.outputs[name] = result.output
            sc.summaries[name] = json.loads(summary.read_text()) if summary.is_file() else {}
            if name == "first" and sc.paths[name].is_file():
                sc.first_rows = _rows(sc.paths[name], COUNT)[0][0]
    finally:
        mp.undo()
    return sc


def test_both_runs_succeed(runs: Runs) -> None:
    for name, summary in runs.summaries.items():
        assert summary.get("status") == "succeeded", runs.outputs[name][-3000:]


def test_a_new_warehouse_file_reuses_the_saved_parse(runs: Runs) -> None:
    first, second = runs.summaries["first"], runs.summaries["second"]
    assert (first["dbt_parses"], first["dbt_full_parses"]) == (1, 1)  # nothing saved yet
    assert (second["dbt_parses"], second["dbt_full_parses"]) == (1, 0)
    # One saved parse for the project, target and vars; no private parse directory left.
    saved = sorted(p.relative_to(runs.saved) for p in runs.saved.rglob("*"))
    assert len(saved) == 2 and saved[1].name == dbt_invoke.PARTIAL_PARSE, saved


def test_the_model_edited_between_the_runs_runs_in_the_second_warehouse(runs: Runs) -> None:
    sql = (
        "select column_name from information_schema.columns where table_schema = 'staging'"
        " and table_name = 'stg_socrata__geographies'"
    )
    assert (PROBE,) in _rows(runs.paths["second"], sql)
    assert (PROBE,) not in _rows(runs.paths["first"], sql)
    assert ("geo",) in _rows(runs.paths["first"], sql)


def test_each_warehouse_holds_only_its_own_catalog_and_rows(runs: Runs) -> None:
    counts = {}
    for name, path in runs.paths.items():
        catalogs = _rows(path, "select distinct table_catalog from information_schema.tables")
        assert catalogs == [(name,)]
        assert _rows(path, "select count(*) from ops.run_ledger") == [(1,)]
        first, last = _rows(
            path, "select min(occurred_date), max(occurred_date) from marts.fct_incidents"
        )[0]
        assert START[name] <= first and last <= AS_OF[name]
        # The saved parse was made with the first run's start date; each build compiled its own.
        compiled = next((runs.base / name / "target" / "compiled").rglob("int_data_window.sql"))
        assert f"cast('{START[name].isoformat()}' as date)" in compiled.read_text()
        window = "select first_loaded_date from intermediate.int_data_window"
        assert _rows(path, window)[0][0] >= START[name]
        counts[name] = _rows(path, COUNT)[0][0]
    # The second run's build wrote nothing into the first file: its rows are as it left them.
    assert counts["first"] == runs.first_rows > 0
    assert counts["second"] != counts["first"]


def test_repointing_moves_every_relation_or_refuses(runs: Runs) -> None:
    """On the saved parse itself: every relation moves to the new catalog, and a copy of the
    old catalog's name left anywhere in the manifest stops the re-pointing loudly."""
    where = next(p for p in runs.saved.iterdir() if p.is_dir())
    target = runs.base / "repoint_target"
    target.mkdir()
    shutil.copyfile(where / dbt_invoke.PARTIAL_PARSE, target / dbt_invoke.PARTIAL_PARSE)
    env = {
        "BLOTTER_DUCKDB_PATH": str(duckdb_dbt.parse_path(where)),
        "BLOTTER_TARGET": "ci",
        "DBT_TARGET_PATH": str(target),
        dbt_invoke.START_ENV: START["second"].isoformat(),
    }
    vars = {"schema_prefix": "audit_"}
    parsed = run_dbt("parse", project_dir=runs.project, vars=vars, target="ci", env=env)
    assert parsed.success and parsed.full_parses == 0, parsed.error
    manifest = parsed.manifest
    stray = manifest.deepcopy()
    next(iter(stray.nodes.values())).meta["note"] = duckdb_dbt.PARSE_CATALOG
    with pytest.raises(RuntimeError, match=duckdb_dbt.PARSE_CATALOG):
        repoint_catalog(stray, duckdb_dbt.PARSE_CATALOG, "gamma")

    repoint_catalog(manifest, duckdb_dbt.PARSE_CATALOG, "gamma")
    relations = [*manifest.nodes.values(), *manifest.sources.values()]
    assert {r.database for r in relations if r.database} == {"gamma"}
    named = [r.relation_name for r in relations if r.relation_name]
    assert len(named) > 20 and all(n.startswith('"gamma".') for n in named)
    graph = json.dumps(manifest.flat_graph, default=str)
    assert duckdb_dbt.PARSE_CATALOG not in graph and '"gamma"' in graph


def test_killed_runs_private_folders_are_swept_a_day_later(tmp_path: Path) -> None:
    """A run killed mid-parse leaves ``tmp*`` behind: the next run removes it once a day old,
    never a live run's folder nor the saved parse itself."""
    old, live = tmp_path / "tmpkilled", tmp_path / "tmplive"
    for folder in (old, live):
        folder.mkdir()
        (folder / dbt_invoke.PARTIAL_PARSE).write_bytes(b"x")
    saved = tmp_path / dbt_invoke.PARTIAL_PARSE
    saved.write_bytes(b"saved")
    day_ago = live.stat().st_mtime - parse_folders.STALE_PARSE_SECONDS - 1
    os.utime(old, (day_ago, day_ago))
    assert dbt_invoke.sweep_private_folders(tmp_path) == 1
    assert not old.exists() and live.is_dir() and saved.read_bytes() == b"saved"


def test_data_start_is_read_only_through_date_var() -> None:
    """The saved parse gets ``data_start`` in the environment, not in ``--vars``: a file that
    read ``var('data_start')`` itself would parse (configs, schemas) without it. Only the
    ``date_var`` macro, which falls back to the environment, may read it."""
    pattern = re.compile(r"""var\(\s*['"]data_start['"]""")
    folders = ("models", "macros", "snapshots", "seeds", "tests/dbt", "analyses")
    readers = [
        str(path.relative_to(dbt_invoke.PROJECT_DIR))
        for folder in folders
        for path in (dbt_invoke.PROJECT_DIR / folder).rglob("*")
        if path.suffix in {".sql", ".yml", ".yaml"} and pattern.search(path.read_text())
    ]
    assert readers == [], f"read data_start with date_var / date_var_or instead: {readers}"
    assert pattern.search('{{ var("data_start") }}')  # the pattern itself can fire
