"""The source-profile tables and the one-source rule work on BigQuery (bqemulator) as on DuckDB."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from bq_emulator import Emulator
from real_samples import CHICAGO_API

from engines.base import landing_state_dir
from engines.bigquery import BigQueryEngine, BigQueryTarget
from engines.bigquery.target import bigquery_client
from ingestion.pipeline import SourceMismatchError, ingest
from replay.server import running_replay

START, DAY1, DAY2 = date(2025, 6, 8), date(2025, 6, 9), date(2025, 6, 10)


def test_profile_tables_are_replaced_and_another_source_is_refused(
    emulator: Emulator, tmp_path: Path
) -> None:
    target = BigQueryTarget(
        project="blotter-sources", dataset_prefix="src_", api_endpoint=emulator.endpoint
    )
    state = tmp_path / "state.duckdb"
    for day in (DAY1, DAY2):  # the second ingest replaces the profile tables, not appends
        with BigQueryEngine(target, state).landing() as destination:
            result = ingest(
                None,
                landing_state_dir(state),
                START,
                as_of=day,
                show_progress=False,
                destination=destination,
            )
        assert result.fetched == result.loaded + result.rejected
    client = bigquery_client(target)

    def rows(sql: str) -> list[tuple]:
        return [tuple(r.values()) for r in client.query(sql.format(d="src_raw")).result()]

    assert rows("select profile_name, source_id, start_date from {d}.source_profile") == [
        ("buffalo", "127.0.0.1/d6g9-xbgu", START)
    ]
    levels = rows(
        "select geo_level, level_order, count(*) from {d}.source_geographies group by 1, 2 "
        "order by 2"
    )
    assert levels == [
        ("police_district", 1, 5),
        ("council_district", 2, 9),
        ("neighborhood", 3, 35),
    ]
    assert rows("select count(*) from {d}.source_incident_types") == [(21,)]
    assert rows("select count(*), countif(is_sensitive) from {d}.source_parent_incident_types") == [
        (9, 3)
    ]
    assert rows("select distinct _blotter_source from {d}.incidents") == [("127.0.0.1/d6g9-xbgu",)]

    with running_replay(from_file=CHICAGO_API, profile="chicago") as source:
        with BigQueryEngine(target, state).landing() as destination:
            with pytest.raises(SourceMismatchError, match="fresh warehouse"):
                ingest(
                    source,
                    landing_state_dir(state),
                    date(2025, 5, 1),
                    show_progress=False,
                    destination=destination,
                )
    assert rows("select count(*) from {d}.source_profile") == [(1,)]
