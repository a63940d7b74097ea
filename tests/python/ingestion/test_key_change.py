"""An edited profile key is refused before it can re-merge raw (session 42).

dlt merges ``raw.incidents`` on the profile's ``key``. Ingesting with another key merged the
landed rows on it and deleted every row sharing a value (p42: with ``key: police_district``
raw kept 23 of its 1,694 rows; the daily run stopped only afterwards). The key recorded with the
landed profile is now checked like the source and the start date: another key is refused with
exit 2 and nothing is fetched, unless ``--full-refresh`` re-lands everything on it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from test_cli import AS_OF, env, invoke, one_error_line  # noqa: F401

from ingestion.errors import KeyChangedError
from ingestion.landing import Landing, check_landing
from ingestion.profiles import loader

SOURCE, START = "127.0.0.1/d6g9-xbgu", AS_OF


def test_check_landing_refuses_another_key_without_a_full_refresh() -> None:
    landed = Landing(SOURCE, "buffalo", None, record_key="case_number", has_table=True)
    check_landing(landed, SOURCE, "buffalo", None, False, record_key="case_number")
    check_landing(
        Landing(SOURCE, "buffalo", None, has_table=True),
        SOURCE,
        "buffalo",
        None,
        False,
        record_key="police_district",
    )  # fmt: skip - recorded without a key
    check_landing(landed, SOURCE, "buffalo", None, True, record_key="police_district")
    with pytest.raises(KeyChangedError, match="--full-refresh") as error:
        check_landing(landed, SOURCE, "buffalo", None, False, record_key="police_district")
    assert error.value.exit_code == 2 and "landed on case_number" in str(error.value)


def raw_rows(env: dict[str, str]) -> int:  # noqa: F811 - the fixture imported above
    with duckdb.connect(env["BLOTTER_DUCKDB_PATH"], read_only=True) as con:
        [(rows,)] = con.execute("select count(*) from raw.incidents").fetchall()
    return int(rows)


def test_an_ingest_with_an_edited_key_is_refused_and_loses_nothing(
    env: dict[str, str],  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert invoke(env, "--as-of", AS_OF).exit_code == 0
    before = raw_rows(env)
    folder = tmp_path / "profiles"
    shutil.copytree(loader.PROFILE_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__*"))
    demo = folder / f"{loader.DEMO_PROFILE}.yml"
    text = demo.read_text()
    for old, new in (("key: case_number", "key: police_district"),
                     ("record_key: [case_number]", "record_key: [police_district]")):  # fmt: skip
        assert old in text
        text = text.replace(old, new, 1)
    demo.write_text(text)
    monkeypatch.setattr(loader, "PROFILE_DIR", folder)
    line = one_error_line(invoke(env, "--as-of", AS_OF))
    assert "keys records on police_district" in line and "--full-refresh" in line
    assert raw_rows(env) == before > 100  # refused before anything was fetched or merged
    shipped = Path(loader.__file__).parent
    monkeypatch.setattr(loader, "PROFILE_DIR", shipped)
    assert invoke(env, "--as-of", AS_OF).exit_code == 0  # the landed key again: accepted
    assert raw_rows(env) == before
    # --full-refresh re-lands on the new key and records it: the next ingest goes on from it,
    # and now the shipped key is the one refused.
    monkeypatch.setattr(loader, "PROFILE_DIR", folder)
    assert invoke(env, "--as-of", AS_OF, "--full-refresh").exit_code == 0
    assert invoke(env, "--as-of", AS_OF).exit_code == 0
    monkeypatch.setattr(loader, "PROFILE_DIR", shipped)
    assert "landed on police_district" in one_error_line(invoke(env, "--as-of", AS_OF))
