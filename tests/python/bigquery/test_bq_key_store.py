"""The pseudonym key and its fingerprints on BigQuery (issue 12 items 1-2), on the emulator.

The key reaches BigQuery by a load job only, so no query text or job history holds it.
"""

from __future__ import annotations

import secrets

import pytest
from bq_emulator import Emulator

from engines.bigquery.key_store import BigQueryKeyStore
from engines.bigquery.target import BigQueryTarget, bigquery_client
from orchestration import pseudonym


def test_key_table_fingerprints_and_refusal(emulator: Emulator) -> None:
    target = BigQueryTarget(
        project=emulator.project, dataset_prefix="keys_", api_endpoint=emulator.endpoint
    )
    client = bigquery_client(target)
    store = BigQueryKeyStore(client, target.project, "keys_", "US")
    key, other = f"bq-key-{secrets.token_hex(8)}", f"bq-key-{secrets.token_hex(8)}"
    pseudonym.check(store, key, "", "blotter rekey")  # nothing built, nothing recorded yet
    store.write_key(other)
    store.write_key(key)  # replaced, never appended
    rows = [
        tuple(r.values())
        for r in client.query(
            f"select * from `{target.project}`.`keys_restricted`.`pseudonym_key`"
        ).result()
    ]
    assert rows == [(key,)]

    store.record(pseudonym.PUBLISHED, pseudonym.Fingerprint.of(key))
    store.record("dev_", pseudonym.Fingerprint.of(other))
    pseudonym.check(store, key, "", "blotter rekey")
    with pytest.raises(pseudonym.KeyChanged, match="blotter rekey"):
        pseudonym.check(store, other, "", "blotter rekey")
    pseudonym.check(store, other, "dev_", "blotter transform --full-refresh")

    client.create_dataset(f"{target.project}.keys_marts", exists_ok=True)
    client.query(
        f"create table `{target.project}`.`keys_marts`.`fct_incidents` as select 1 as x"
    ).result()
    assert store.has_marts("") and not store.has_marts("dev_")
    fingerprints = [
        tuple(map(str, r.values()))
        for r in client.query(
            f"select * from `{target.project}`.`keys_restricted`.`pseudonym_fingerprints`"
        ).result()
    ]
    assert len(fingerprints) == 2
    assert not any(key in value or other in value for row in fingerprints for value in row)
