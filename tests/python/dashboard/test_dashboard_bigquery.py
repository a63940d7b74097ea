"""Issue 15.5: the dashboard's SQL runs on BigQuery too, through ``BigQueryReader`` (bqemulator).

The published marts of ``healthy_db`` (``blotter run`` on the replay city) are loaded as they are
into the emulator's ``dash_marts`` dataset (the run-history view as its rows), then the page's
data is read through both readers: every frame must be equal, and BigQuery must add no note (a
query the dialect rejects becomes a note). Marked ``bigquery``; a missing emulator fails.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dashboard.area import AreaView, load_area
from dashboard.overview import Overview, load_overview
from dashboard.relations import RELATIONS
from engines.bigquery.reader import BigQueryReader
from engines.duckdb.reader import DuckDBReader
from engines.reader import QueryFailed

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bigquery"))
from bq_emulator import running_emulator  # noqa: E402

pytestmark = pytest.mark.bigquery
PREFIX = "dash_"
TYPES = (
    (pa.types.is_string, "STRING"),
    (pa.types.is_large_string, "STRING"),
    (pa.types.is_integer, "INT64"),
    (pa.types.is_floating, "FLOAT64"),
    (pa.types.is_boolean, "BOOL"),
    (pa.types.is_date, "DATE"),
)


def _bq_schema(schema: pa.Schema) -> list:
    """BigQuery fields for an Arrow schema read from DuckDB (the marts' column types)."""
    from google.cloud import bigquery

    def kind(arrow: pa.DataType) -> str:
        if pa.types.is_timestamp(arrow):
            return "TIMESTAMP" if arrow.tz else "DATETIME"
        for test, name in TYPES:
            if test(arrow):
                return name
        raise TypeError(f"no BigQuery type for {arrow}")

    return [bigquery.SchemaField(f.name, kind(f.type)) for f in schema]


@pytest.fixture(scope="module")
def bq_reader(healthy_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A BigQueryReader on an emulator holding a copy of ``healthy_db``'s marts."""
    from google.cloud import bigquery

    with running_emulator(tmp_path_factory.mktemp("dash_bqemulator")) as emulator:
        client = emulator.client()
        client.create_dataset(f"{emulator.project}.{PREFIX}marts", exists_ok=True)
        with duckdb.connect(str(healthy_db), read_only=True) as con:
            for schema, table in RELATIONS:
                rows = con.sql(f'select * from "{schema}"."{table}"').to_arrow_table()
                ref = f"{emulator.project}.{PREFIX}{schema}.{table}"
                client.create_table(bigquery.Table(ref, schema=_bq_schema(rows.schema)))
                buffer = io.BytesIO()
                pq.write_table(rows, buffer)
                buffer.seek(0)
                config = bigquery.LoadJobConfig(source_format="PARQUET")
                client.load_table_from_file(buffer, ref, job_config=config).result()
        yield BigQueryReader(client, emulator.project, PREFIX, "US")


def _same(left: pd.DataFrame, right: pd.DataFrame, what: str) -> None:
    """Equal rows and values; timestamps compared in UTC, numbers as floats to 1e-9."""

    def normal(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.reset_index(drop=True).copy()
        for column in frame.columns:
            if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
                frame[column] = frame[column].dt.tz_convert("UTC").dt.tz_localize(None)
            if pd.api.types.is_datetime64_any_dtype(frame[column]):
                frame[column] = frame[column].astype("datetime64[us]")
            elif pd.api.types.is_numeric_dtype(frame[column]) and not (
                pd.api.types.is_bool_dtype(frame[column])
            ):  # a sum with nulls: float NaN from DuckDB, Int64 <NA> from BigQuery
                frame[column] = frame[column].astype("float64")
        return frame

    assert list(left.columns) == list(right.columns), what
    pd.testing.assert_frame_equal(
        normal(left), normal(right), check_dtype=False, rtol=1e-9, obj=what
    )


def _same_view(duck: AreaView, bq: AreaView) -> None:
    assert bq.notes == duck.notes == []
    for name in ("daily", "actuals", "forecasts", "accuracy", "serving", "live"):
        _same(getattr(duck, name), getattr(bq, name), name)
    _same(duck.types.types, bq.types.types, "types")
    assert (bq.types.weeks, bq.types.total, bq.types.has_last_year) == (
        duck.types.weeks,
        duck.types.total,
        duck.types.has_last_year,
    )
    _same(duck.points.points, bq.points.points, "map points")
    assert (bq.points.total, bq.points.unlocated) == (duck.points.total, duck.points.unlocated)


def test_the_page_reads_the_same_from_bigquery(healthy_db: Path, bq_reader: object) -> None:
    duck: Overview = load_overview(DuckDBReader(healthy_db))
    bq: Overview = load_overview(bq_reader)
    assert bq.notes == duck.notes == []
    assert bq.levels == duck.levels and bq.geos == duck.geos
    assert bq.last_data_day == duck.last_data_day is not None
    _same(duck.runs, bq.runs, "run history")
    _same(duck.models, bq.models, "champion")
    for freq, level in (("weekly", "city"), ("daily", duck.levels[1].name)):
        geo = duck.geos[level][0]
        _same_view(
            load_area(DuckDBReader(healthy_db), freq, level, geo, duck.last_data_day),
            load_area(bq_reader, freq, level, geo, duck.last_data_day),
        )


def test_bigquery_binds_values_and_names_a_failed_query(bq_reader: object) -> None:
    with bq_reader.session() as db:
        rel = db.rel("marts", "dim_geography")
        assert rel.startswith("`") and f"`{PREFIX}marts`" in rel
        assert db.columns("marts", "no_such_table") is None
        odd = db.df(f"select count(*) as n from {rel} where geo = $geo", {"geo": "x'; drop"})
        assert odd["n"].tolist() == [0]
        with pytest.raises(QueryFailed):
            db.df(f"select no_such_column from {rel}")
        with pytest.raises(QueryFailed, match="no value for parameter"):
            db.df(f"select * from {rel} where geo = $geo")
