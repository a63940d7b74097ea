"""Each real portal sample, served by the replay API, is ingested whole and counted exactly.

The expected numbers are computed here from the file itself (pandas), independently of the
replay API and the pipeline: records whose incident time is on or after the start date, one
row per key; per geography column, the same counts as in the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from duckdb_ingest import ingest_duckdb
from ingest_helpers import query
from real_samples import REAL_DATA

from ingestion.pipeline import IngestResult
from ingestion.profiles import load_profile
from replay.export import api_field_name, parse_export_times
from replay.server import running_replay

REAL = REAL_DATA


@dataclass(frozen=True)
class Sample:
    file: str
    profile: str
    start: date


SAMPLES = {
    "buffalo_2019": Sample(
        "buffalo_d6g9-xbgu_2019_layout_sample.csv", "buffalo_2019", date(2004, 1, 1)
    ),
    "chicago_api": Sample("chicago_ijzp-q8t2_api_sample_2025-05.csv", "chicago", date(2025, 5, 1)),
    "chicago_homicides": Sample(
        "chicago_ijzp-q8t2_homicides_2001_2023.csv", "chicago", date(2001, 1, 1)
    ),
    "sf": Sample("sf_wg3w-h783_2018-12.csv", "sf", date(2018, 12, 1)),
}
# Chicago's homicide export has one row per victim: 543 case numbers repeat, the key is ``id``.
REPEATED_CASE_NUMBERS = {"chicago_homicides": 543}


def expected_frame(sample: Sample) -> pd.DataFrame:
    """The file's records that a backfill from ``sample.start`` must land (computed with pandas)."""
    frame = pd.read_csv(REAL / sample.file, dtype=str, keep_default_na=False, na_values=[""])
    frame = frame.loc[:, [not str(c).startswith("Unnamed:") for c in frame.columns]]
    frame.columns = [api_field_name(str(c)) for c in frame.columns]
    profile = load_profile(sample.profile)
    occurred = parse_export_times(frame[profile.occurred_column])
    keep = occurred >= pd.Timestamp(sample.start)
    return frame[keep & frame[profile.key].notna()]


@pytest.fixture(scope="module", params=sorted(SAMPLES))
def landed(request, tmp_path_factory) -> tuple[str, Path, IngestResult]:
    sample = SAMPLES[request.param]
    path = tmp_path_factory.mktemp(request.param) / "blotter.duckdb"
    with running_replay(from_file=REAL / sample.file, profile=sample.profile) as source:
        result = ingest_duckdb(source, path, sample.start, show_progress=False)
    return request.param, path, result


def test_every_record_is_accounted_for_and_counted_exactly(landed):
    name, path, result = landed
    sample = SAMPLES[name]
    profile = load_profile(sample.profile)
    expected = expected_frame(sample)
    assert result.fetched == result.loaded + result.rejected
    assert result.profile == sample.profile and result.source_id.endswith(profile.dataset_id)
    key = profile.key
    (total, distinct) = query(path, f"select count(*), count(distinct {key}) from raw.incidents")[0]
    assert total == distinct == result.raw_rows == expected[key].nunique()
    assert result.fetched == len(expected)  # the replay API served exactly these records
    if result.rejected:
        reasons = query(path, "select reason from raw.incidents_rejected")
        assert len(reasons) == result.rejected and all(r for (r,) in reasons)
    case = profile.fields["case_number"][0]  # SF's incident_number repeats per offence
    (cases,) = query(path, f"select count(distinct {case}) from raw.incidents")[0]
    assert cases == expected[case].nunique()
    if name in REPEATED_CASE_NUMBERS:
        assert total - cases == REPEATED_CASE_NUMBERS[name]


def test_geography_columns_land_as_published(landed):
    name, path, _ = landed
    sample = SAMPLES[name]
    expected = expected_frame(sample)
    for level in load_profile(sample.profile).geographies:
        for column in level.columns:
            if column not in expected:
                continue
            want = expected[column].value_counts().to_dict()
            got = dict(query(path, f"select {column}, count(*) from raw.incidents group by 1"))
            got.pop(None, None)
            assert got == want, (sample.profile, column)
