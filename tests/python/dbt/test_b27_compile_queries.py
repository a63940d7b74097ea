"""Issue 16 (BigQuery bytes): a daily build asks each compile-time question once.

On BigQuery every query a macro sends while compiling is billed (at least 10 MB per table). The
source profile was read by each of ~30 nodes, and each of the 13 windowed tests read its
relation's newest ``:updated_at`` and oldest load in the window, though 3 relations hold them.
``invocation_cache`` keeps those answers for one dbt invocation. The build's results are
unchanged (the other dbt tests check them); here: each question is sent once per invocation,
and a second invocation on the same parsed manifest (as ``blotter`` and ``conftest.dbt`` reuse
it) asks again, so a changed profile or a newer row is never answered from the last build.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from conftest import DEV, dbt, query

WAREHOUSE = ["path:models/marts/forecasting"]
THREADS = 2  # profiles.yml, target ci
_SQL_EVENT = "SQLQuery"
_NEWEST = re.compile(r"^select max\(source_updated_at\) from (\S+)$")
_OLDEST = re.compile(r"^select min\(dlt_load_id\) from (\S+)\s+where source_updated_at >=")


def _statements(db: Path, command: str, **kwargs: Any) -> list[str]:
    """Every SQL text dbt sends during one invocation on ``db`` (comments stripped), except
    unit tests' (dbt gives each its own reduced graph; ``--target prod`` skips them)."""
    sent: list[str] = []

    def collect(event: Any) -> None:
        if event.info.name != _SQL_EVENT:
            return
        if event.data.node_info.unique_id.startswith("unit_test."):
            return
        sql = re.sub(r"^/\*.*?\*/\s*", "", event.data.sql, flags=re.S)
        sent.append(" ".join(sql.split()))

    result = dbt(db, command, callbacks=[collect], **kwargs)
    assert result.success, result.error or [
        n for n in result.nodes if n.status in ("fail", "error")
    ]
    return sent


def test_daily_build_reads_profile_and_windows_once(built_copy: Path) -> None:
    sent = _statements(built_copy, "build", exclude=WAREHOUSE)
    # Each question once, or once per thread when nodes compile at the same moment (before
    # 30 profile reads, 6 windows of int_incidents_deduplicated, 3 of each merged mart).
    profile_reads = [s for s in sent if s.startswith("select profile_json from")]
    assert 1 <= len(profile_reads) <= THREADS, profile_reads
    oldest = Counter(m.group(1) for s in sent if (m := _OLDEST.match(s)))
    tested = {"int_incidents_deduplicated", "fct_incidents", "fct_incident_areas"}
    assert {r.rsplit(".", 1)[1].strip('"') for r in oldest} == tested, oldest
    assert max(oldest.values()) <= THREADS, oldest
    # A merged model also reads its own newest row before its merge (not kept: it changes).
    newest = Counter(m.group(1) for s in sent if (m := _NEWEST.match(s)))
    assert max(newest.values()) <= 1 + THREADS, newest
    reconcile = [s for s in sent if "landed_rows" in s]
    assert 1 <= len(reconcile) <= THREADS, reconcile


def test_next_invocation_reads_the_changed_profile(built_copy: Path) -> None:
    [(document,)] = query(built_copy, "select profile_json from raw.source_profile")
    profile = json.loads(document)
    level = profile["geographies"][0]["level"]
    # The first invocation fills its cache with the profile as it is.
    _statements(built_copy, "run", select=["dim_geography"])
    profile["geographies"][0]["label"] = "Relabelled by b27"
    query(built_copy, "update raw.source_profile set profile_json = ?", [json.dumps(profile)])
    sent = _statements(built_copy, "run", select=["dim_geography"])
    assert sum(s.startswith("select profile_json from") for s in sent) == 1
    labels = query(
        built_copy,
        f'select distinct geo_level_label from "{DEV}marts".dim_geography where geo_level = ?',
        [level],
    )
    assert labels == [("Relabelled by b27",)]
