"""Issue 15 item 2: geography levels and frequencies are defined once on the dbt side.

- Frequencies: ``macros/frequencies.sql`` is the only file that lists them; models, tests and
  YAML ``accepted_values`` call ``frequencies()``. A frequency it does not know stops the compile.
- Levels: only ``geo_levels()`` turns the source profile's geographies into levels; staging
  alone reads the profile's entries too, for their source columns.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orchestration.dbt_runner import PROJECT_DIR, dbt_args

FREQUENCIES = ("daily", "weekly", "monthly")
DBT_DIRS = ("models", "macros", "snapshots", "tests/dbt")
FREQUENCIES_MACRO = "macros/frequencies.sql"
# Staging maps each level's source columns; every other reader takes geo_levels().
PROFILE_LEVEL_READERS = {
    "macros/source_profile.sql",
    "models/staging/socrata/stg_socrata__incidents.sql",
}


def dbt_files(*suffixes: str) -> dict[str, str]:
    """Text of the project's dbt files with one of ``suffixes``, by repo-relative path."""
    return {
        str(path.relative_to(PROJECT_DIR)): path.read_text()
        for folder in DBT_DIRS
        for path in sorted((PROJECT_DIR / folder).rglob("*"))
        if path.suffix in suffixes
    }


def test_only_the_frequencies_macro_lists_frequencies() -> None:
    offenders = []
    for path, text in dbt_files(".sql", ".yml").items():
        if path == FREQUENCIES_MACRO:
            continue
        literals = {f for f in FREQUENCIES if re.search(rf"'{f}'", text)}
        yaml_lists = re.findall(r"values:\s*\[[^\]]*\]", text)
        listed = [v for v in yaml_lists if sum(f in v for f in FREQUENCIES) > 1]
        # One named frequency is a choice (the type breakdown is weekly); two are a list.
        if len(literals) > 1 or listed:
            offenders.append(path)
    assert offenders == []


def test_only_geo_levels_reads_the_profiles_levels() -> None:
    readers = {
        path for path, text in dbt_files(".sql").items() if re.search(r"get\('geographies'\)", text)
    }
    assert readers == PROFILE_LEVEL_READERS


def test_an_unknown_frequency_stops_the_compile(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from dbt.cli.main import dbtRunner

    monkeypatch.setenv("BLOTTER_DUCKDB_PATH", str(tmp_path / "empty.duckdb"))
    inline = "select {{ period_start_column('quarterly') }}"
    outcome = dbtRunner().invoke(
        dbt_args("compile", target="ci", extra_args=("--quiet", "--inline", inline))
    )
    assert not outcome.success
    message = "unknown frequency quarterly: use one of daily, weekly, monthly"
    assert message in capfd.readouterr().out
