"""Issue 12 items 1-2: the pseudonym key lives in a restricted table, never in dbt files.

The session build ran with a random key in that table (and, under its old environment name, in
the environment, which dbt must ignore). Incident ids are sha256(key:case_number); the key is in
no file under target/ or logs/, and no dbt file names the old environment variable.
"""

from __future__ import annotations

from pathlib import Path

from conftest import SESSION_KEY, dbt, pseudonym, query

from orchestration.dbt_runner import PROJECT_DIR, DbtRunResult

DBT_FILES = (
    "dbt_project.yml",
    "profiles.yml",
    "models",
    "macros",
    "snapshots",
    "seeds",
    "tests/dbt",
)


def _files(root: Path) -> list[Path]:
    if root.is_dir():
        return [p for p in root.rglob("*") if p.is_file()]
    return [root] if root.is_file() else []


def test_incident_ids_hash_the_key_from_the_restricted_table(
    built: tuple[Path, DbtRunResult],
) -> None:
    db, result = built
    assert result.node("fct_incidents").status == "success"
    case_numbers = [c for (c,) in query(db, "select distinct trim(case_number) from raw.incidents")]
    ids = {i for (i,) in query(db, "select incident_id from dev_marts.fct_incidents")}
    assert len(ids) == len(case_numbers) > 1000
    assert ids == {pseudonym(SESSION_KEY, c) for c in case_numbers}


def test_the_key_is_in_no_dbt_artefact_or_log(
    built: tuple[Path, DbtRunResult], dbt_artifacts: Path
) -> None:
    files = _files(dbt_artifacts / "target") + _files(dbt_artifacts / "logs")
    names = {p.name for p in files}
    # Not vacuous: the artefacts that used to hold the key exist.
    assert {"manifest.json", "run_results.json", "dbt.log", "fct_incidents.sql"} <= names
    leaks = [str(p) for p in files if SESSION_KEY.encode() in p.read_bytes()]
    assert leaks == []


def test_no_dbt_file_names_the_key_variable() -> None:
    hits = [
        str(path.relative_to(PROJECT_DIR))
        for name in DBT_FILES
        for path in _files(PROJECT_DIR / name)
        if "python" not in path.parts and b"BLOTTER_PSEUDONYM_KEY" in path.read_bytes()
    ]
    assert hits == []


def test_an_empty_key_table_stops_the_build(
    built: tuple[Path, DbtRunResult], built_copy: Path
) -> None:
    name = "source_row_count_is_restricted_pseudonym_key_1"
    assert built[1].node(name).status == "pass"
    query(built_copy, "delete from restricted.pseudonym_key")
    result = dbt(built_copy, "test", select=["source:restricted"])
    assert not result.success
    assert name in result.failing_tests
