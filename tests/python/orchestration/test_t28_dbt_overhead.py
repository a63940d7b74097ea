"""dbt's own work that nobody reads (t28): the GC thresholds during a dbt call, and the saved
parse written without a manifest.json that would go to a folder removed right after.

Real dbt on a one-model project in a temporary directory (same profile name and targets as the
repository's), real DuckDB files, in-process as orchestration runs dbt.
"""

from __future__ import annotations

import gc
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from orchestration import dbt_invoke
from orchestration.dbt_runner import DBT_GC_THRESHOLDS, gc_thresholds, run_dbt
from orchestration.run import RunContext, new_run_id
from orchestration.settings import Settings

DEFAULT = (700, 10, 10)  # Python's default thresholds, as in a `blotter` process


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A one-model dbt project using the repository's profiles.yml, dbt writing under tmp."""
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        'name: tiny\nversion: "1.0.0"\nprofile: blotter\nconfig-version: 2\n'
        'model-paths: ["models"]\n'
    )
    (project / "models" / "one.sql").write_text("select 1 as x\n")
    shutil.copy2(dbt_invoke.PROJECT_DIR / "profiles.yml", project / "profiles.yml")
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    return project


@pytest.fixture
def default_thresholds() -> Iterator[None]:
    """This test process at Python's defaults (the suite raises them), restored afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(*DEFAULT)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _parse(project: Path, db: Path, **kwargs: Any) -> Any:
    env = {"BLOTTER_DUCKDB_PATH": str(db), "BLOTTER_TARGET": "ci"}
    return run_dbt("parse", project_dir=project, target="ci", env=env, **kwargs)


def test_dbt_runs_with_raised_thresholds_and_the_callers_come_back(
    tiny: Path, tmp_path: Path, default_thresholds: None
) -> None:
    seen: set[tuple[int, int, int]] = set()
    result = _parse(tiny, tmp_path / "w.duckdb", callbacks=[lambda _: seen.add(gc.get_threshold())])
    assert result.success, result.error
    # Every event dbt fired saw the raised thresholds; the caller's are back afterwards.
    assert seen == {DBT_GC_THRESHOLDS}
    assert gc.get_threshold() == DEFAULT


def test_thresholds_come_back_when_dbt_fails(
    tiny: Path, tmp_path: Path, default_thresholds: None
) -> None:
    (tiny / "models" / "broken.sql").write_text("select {{ 1 + }}\n")
    seen: set[tuple[int, int, int]] = set()
    result = _parse(tiny, tmp_path / "w.duckdb", callbacks=[lambda _: seen.add(gc.get_threshold())])
    assert not result.success and result.error
    assert seen == {DBT_GC_THRESHOLDS}
    assert gc.get_threshold() == DEFAULT


def test_thresholds_never_lower_the_callers() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(50_000, 5, 500)
        with gc_thresholds():
            assert gc.get_threshold() == (50_000, 50, 500)
        assert gc.get_threshold() == (50_000, 5, 500)
        with pytest.raises(RuntimeError), gc_thresholds():
            raise RuntimeError("dbt crashed")
        assert gc.get_threshold() == (50_000, 5, 500)
    finally:
        gc.set_threshold(*before)


def _ctx(tmp_path: Path, name: str) -> RunContext:
    day = date(2024, 6, 10)
    settings = Settings(duckdb_path=tmp_path / f"{name}.duckdb", start_date=date(2024, 5, 1))
    return RunContext(run_id=new_run_id(day), as_of=day, target="ci", settings=settings)


def test_saved_parse_writes_only_the_saved_parse(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parse's private target holds dbt's saved parse and no manifest.json; the saved parse
    is reused by a run on another file, and a build still writes manifest and run results."""
    monkeypatch.setattr(dbt_invoke, "PROJECT_DIR", tiny)
    monkeypatch.setattr(dbt_invoke, "SAVED_PARSES", tiny / "target" / "blotter_parse")
    written: list[set[str]] = []
    real = dbt_invoke.run_dbt

    def spy(command: str, **kwargs: Any) -> Any:
        result = real(command, **kwargs)
        if command == "parse":  # what the parse left in its private target, before removal
            written.append({p.name for p in Path(kwargs["env"]["DBT_TARGET_PATH"]).iterdir()})
        return result

    monkeypatch.setattr(dbt_invoke, "run_dbt", spy)
    first = _ctx(tmp_path, "first")
    assert dbt_invoke.project(first) is not None
    assert dbt_invoke.PARTIAL_PARSE in written[0] and "manifest.json" not in written[0]
    assert (dbt_invoke.saved_parse_dir(first) / dbt_invoke.PARTIAL_PARSE).is_file()

    second = _ctx(tmp_path, "second")
    result = dbt_invoke.invoke_dbt(second, "build")
    assert result.success, result.error
    assert second.dbt_parses == 1 and second.dbt_full_parses == 0  # the saved parse, reused
    assert [n.name for n in result.nodes] == ["one"]
    target = tmp_path / "target"
    assert (target / "manifest.json").is_file() and (target / "run_results.json").is_file()
    assert (target / "compiled" / "tiny" / "models" / "one.sql").is_file()
