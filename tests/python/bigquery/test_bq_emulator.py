"""The emulator fixture itself: google-cloud-bigquery creates a dataset, loads, queries."""

from __future__ import annotations

import io
import json

from bq_emulator import Emulator
from google.cloud import bigquery


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
