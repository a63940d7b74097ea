"""The emulator fixture itself: google-cloud-bigquery creates a dataset, loads, queries; and its
parse cache."""

from __future__ import annotations

import io
import json

import pytest
import sqlglot
from bq_emulator import Emulator
from bq_emulator_main import memoise_parse_one
from google.cloud import bigquery
from sqlglot import exp


def test_dataset_load_and_parameterised_query(emulator: Emulator) -> None:
    client = emulator.client()
    client.create_dataset("smoke", exists_ok=True)
    rows = [{"geo": g, "incidents": n} for g, n in (("A", 3), ("B", 4), ("A", 5))]
    payload = "\n".join(json.dumps(r) for r in rows).encode()
    config = bigquery.LoadJobConfig(
        source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
        schema=[
            bigquery.SchemaField("geo", "STRING"),
            bigquery.SchemaField("incidents", "INT64"),
        ],
        write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
    )
    client.load_table_from_file(
        io.BytesIO(payload), f"{emulator.project}.smoke.counts", job_config=config
    ).result()

    job = client.query(
        "select geo, sum(incidents) as total from smoke.counts where geo = @geo group by geo",
        job_config=bigquery.QueryJobConfig(
            query_parameters=[bigquery.ScalarQueryParameter("geo", "STRING", "A")]
        ),
    )
    assert [(r["geo"], r["total"]) for r in job.result()] == [("A", 8)]
    assert client.get_table(f"{emulator.project}.smoke.counts").num_rows == 3


def test_memoised_parse_gives_each_caller_its_own_tree() -> None:
    """The emulator's parse cache (bq_emulator_main) changes no result, only how often it parses."""
    calls: list[str] = []

    def counting(sql: str, **kwargs: object) -> exp.Expr:
        calls.append(sql)
        return sqlglot.parse_one(sql, **kwargs)

    parse = memoise_parse_one(counting)
    sql = "select a, b from t where a > 1"
    first = parse(sql, read="bigquery")
    # A caller transforms its tree in place; the next caller must not see that.
    first.find(exp.Column).replace(exp.column("changed"))
    second = parse(sql, read="bigquery")
    assert second.sql("bigquery") == sqlglot.parse_one(sql, read="bigquery").sql("bigquery")
    assert second is not first
    assert calls == [sql]
    # Other options are another entry, never the same tree.
    assert parse(sql, read="duckdb").sql("duckdb") == "SELECT a, b FROM t WHERE a > 1"
    assert len(calls) == 2
    # A text that does not parse raises every time, as before (not remembered).
    for _ in range(2):
        with pytest.raises(sqlglot.errors.ParseError):
            parse("select (", read="bigquery")
    assert calls.count("select (") == 2
