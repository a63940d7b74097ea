"""A saved parse that dbt's partial parsing cannot apply falls back to a whole parse (s39).

Moving macros' documentation from one YAML file to a new one made dbt's partial
parse fail a project that parses ("dbt found two schema.yml entries for the same macro"): the
daily run stopped at compile on every checkout holding a saved parse. The saved parse is only a
shortcut, so the run parses the whole project once and goes on. Real dbt on a copy of the
repository's project, real DuckDB files.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from test_parse_reuse import _copy_project

from orchestration import dbt_invoke
from orchestration.run import RunContext, new_run_id
from orchestration.settings import Settings

MOVED = "built_keys"  # the macros of macros/built_keys.sql (dbt failed on a whole file's docs)


def _ctx(tmp_path: Path, name: str) -> RunContext:
    day = date(2024, 6, 10)
    settings = Settings(duckdb_path=tmp_path / f"{name}.duckdb", start_date=date(2024, 5, 1))
    return RunContext(run_id=new_run_id(day), as_of=day, target="ci", settings=settings)


def _move_macro_docs(project: Path) -> list[str]:
    """The entries of the macros named like MOVED cut from the YAML file documenting them into a
    new _moved.yml."""
    docs = next(p for p in (project / "macros").glob("*.yml") if f"name: {MOVED}" in p.read_text())
    lines = docs.read_text().splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.startswith("  - name: ")] + [len(lines)]
    kept, moved, names = lines[: starts[0]], [], []
    for start, end in zip(starts, starts[1:], strict=False):
        name = lines[start].split(":", 1)[1].strip()
        (moved if MOVED in name else kept).extend(lines[start:end])
        names += [name] if MOVED in name else []
    docs.write_text("".join(kept))
    (project / "macros" / "_moved.yml").write_text("version: 2\n\nmacros:\n" + "".join(moved))
    return names


def test_a_saved_parse_dbt_cannot_apply_is_replaced_by_a_whole_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    _copy_project(project)
    monkeypatch.setattr(dbt_invoke, "PROJECT_DIR", project)
    monkeypatch.setattr(dbt_invoke, "SAVED_PARSES", project / "target" / "blotter_parse")
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    first = _ctx(tmp_path, "first")
    dbt_invoke.project(first)
    assert (dbt_invoke.saved_parse_dir(first) / dbt_invoke.PARTIAL_PARSE).is_file()

    names = _move_macro_docs(project)
    assert len(names) >= 2, names
    second = _ctx(tmp_path, "second")
    manifest = dbt_invoke.project(second)  # raised "two schema.yml entries" without the fallback
    for name in names:
        assert manifest.macros[f"macro.blotter.{name}"].patch_path.endswith("_moved.yml"), name
    assert (second.dbt_parses, second.dbt_full_parses) == (2, 1)  # the saved one failed
    # The saved parse now holds the project as it is: the next run reuses it.
    third = _ctx(tmp_path, "third")
    dbt_invoke.project(third)
    assert (third.dbt_parses, third.dbt_full_parses) == (1, 0)
