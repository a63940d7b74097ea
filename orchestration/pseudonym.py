"""The pseudonym key in the warehouse, and the fingerprint that detects a key change.

dbt pseudonymises case numbers with ``BLOTTER_PSEUDONYM_KEY`` (CONTRACTS.md A). So that no SQL
text, dbt artefact, log or job history ever holds the key, Python writes it into one restricted
table, ``restricted.pseudonym_key`` (one column, one row), with a bound parameter (DuckDB) or a
load job (BigQuery), and dbt joins to it.

A key change would make the incremental marts merge new pseudonyms next to the old ones
(duplicated incidents, every test green). So the warehouse also keeps, per set of built marts
("published", or a dbt ``schema_prefix`` such as ``dev_``), a salted scrypt FINGERPRINT of the key
that built them (never the key): a command that would build with another key stops with exit 2
and names ``blotter rekey``, which rebuilds every pseudonymised relation from scratch.

Environment variables read here: none (the key comes from the settings).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb

from orchestration.errors import OperatorError

SCHEMA = "restricted"
KEY_TABLE = "pseudonym_key"
FINGERPRINT_TABLE = "pseudonym_fingerprints"
PUBLISHED = "published"
# scrypt with n=2**14, r=8 (16 MiB, ~50 ms): too slow to try a dictionary of keys against.
_N, _R, _P = 2**14, 8, 1
ALGORITHM = f"scrypt-n{_N}-r{_R}-p{_P}"
_FINGERPRINT_COLUMNS = ("scope", "algorithm", "salt", "digest", "recorded_at")


@dataclass(frozen=True)
class Fingerprint:
    """A salted slow hash of a key."""

    salt: str
    digest: str
    algorithm: str = ALGORITHM

    @classmethod
    def of(cls, key: str, salt: bytes | None = None) -> Fingerprint:
        """Fingerprint ``key`` with a fresh random salt (or the given one)."""
        salt = salt if salt is not None else os.urandom(16)
        return cls(salt.hex(), _scrypt(key, salt).hex())

    def matches(self, key: str) -> bool:
        """True when ``key`` is the key this fingerprint was made from."""
        if self.algorithm != ALGORITHM:
            return False
        return hmac.compare_digest(_scrypt(key, bytes.fromhex(self.salt)).hex(), self.digest)


def _scrypt(key: str, salt: bytes) -> bytes:
    return hashlib.scrypt(key.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)


def scope_of(schema_prefix: str) -> str:
    """The fingerprint scope of marts built with dbt var ``schema_prefix`` ('' = published)."""
    return PUBLISHED if schema_prefix in ("", None) else schema_prefix


class KeyChanged(OperatorError):
    """The key differs from the one that built the marts (exit 2; names the fix)."""


class KeyStore(Protocol):
    """Where the key and its fingerprints live (the warehouse of the run's target)."""

    def write_key(self, key: str) -> None:
        """Make ``restricted.pseudonym_key`` hold exactly ``key``."""

    def fingerprint(self, scope: str) -> Fingerprint | None:
        """The fingerprint recorded for ``scope``, or None."""

    def record(self, scope: str, fingerprint: Fingerprint) -> None:
        """Record ``fingerprint`` for ``scope`` (replacing the previous one)."""

    def has_marts(self, schema_prefix: str) -> bool:
        """True when ``<schema_prefix>marts`` holds any table."""


def check(store: KeyStore, key: str, schema_prefix: str, fix: str) -> None:
    """Refuse to build ``<schema_prefix>marts`` with a key other than the one that built them.

    Args:
        store: the target's key store.
        key: BLOTTER_PSEUDONYM_KEY.
        schema_prefix: '' for the published marts, else the dbt schema prefix being built.
        fix: the command that rebuilds them with the new key (named in the message).

    Raises:
        KeyChanged: the key changed, or marts exist whose key was never recorded.
    """
    scope = scope_of(schema_prefix)
    which = "the published marts were" if scope == PUBLISHED else f"{schema_prefix}marts was"
    recorded = store.fingerprint(scope)
    if recorded is not None:
        if not recorded.matches(key):
            raise KeyChanged(
                f"BLOTTER_PSEUDONYM_KEY changed since {which} built; run `{fix}` to rebuild "
                "every pseudonymised table with the new key (or restore the old key)"
            )
        return
    if store.has_marts(schema_prefix):
        raise KeyChanged(
            f"{which} built without a recorded BLOTTER_PSEUDONYM_KEY fingerprint (by an older "
            f"Blotter), so a key change cannot be ruled out; run `{fix}` once to rebuild them "
            "with the current key"
        )


class DuckDBKeyStore:
    """The key store in the DuckDB warehouse file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write_key(self, key: str) -> None:
        """Rewrite the one-row key table in one transaction (the key is a bound parameter)."""
        with duckdb.connect(str(self.path)) as con:
            con.execute("begin transaction")
            con.execute(f"create schema if not exists {SCHEMA}")
            con.execute(
                f"create table if not exists {SCHEMA}.{KEY_TABLE} (pseudonym_key varchar not null)"
            )
            con.execute(f"delete from {SCHEMA}.{KEY_TABLE}")
            con.execute(f"insert into {SCHEMA}.{KEY_TABLE} values (?)", [key])
            con.execute("commit")

    def fingerprint(self, scope: str) -> Fingerprint | None:
        """The fingerprint recorded for ``scope``, or None (also for a new warehouse)."""
        if not self.path.exists():
            return None
        with duckdb.connect(str(self.path), read_only=True) as con:
            if not _duckdb_table_exists(con, SCHEMA, FINGERPRINT_TABLE):
                return None
            row = con.execute(
                f"select salt, digest, algorithm from {SCHEMA}.{FINGERPRINT_TABLE} where scope = ?",
                [scope],
            ).fetchone()
        return Fingerprint(*row) if row else None

    def record(self, scope: str, fingerprint: Fingerprint) -> None:
        """Record ``fingerprint`` for ``scope`` in its own transaction."""
        with duckdb.connect(str(self.path)) as con:
            con.execute("begin transaction")
            record_in(con, scope, fingerprint)
            con.execute("commit")

    def has_marts(self, schema_prefix: str) -> bool:
        """True when ``<schema_prefix>marts`` holds a table."""
        if not self.path.exists():
            return False
        with duckdb.connect(str(self.path), read_only=True) as con:
            row = con.execute(
                "select count(*) from duckdb_tables() where database_name = current_database() "
                "and schema_name = ?",
                [f"{schema_prefix}marts"],
            ).fetchone()
        return bool(row and row[0])


def record_in(con: duckdb.DuckDBPyConnection, scope: str, fingerprint: Fingerprint) -> None:
    """Upsert ``fingerprint`` on an open connection (inside the caller's transaction).

    Publish calls this inside its transaction, so the fingerprint changes exactly when the
    published marts do.
    """
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(
        f"create table if not exists {SCHEMA}.{FINGERPRINT_TABLE} (scope varchar primary key, "
        "algorithm varchar not null, salt varchar not null, digest varchar not null, "
        "recorded_at timestamp with time zone not null)"
    )
    con.execute(
        f"insert or replace into {SCHEMA}.{FINGERPRINT_TABLE} "
        f"({', '.join(_FINGERPRINT_COLUMNS)}) values (?, ?, ?, ?, ?)",
        [scope, fingerprint.algorithm, fingerprint.salt, fingerprint.digest, datetime.now(UTC)],
    )


def _duckdb_table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])


class BigQueryKeyStore:
    """The key store in ``<prefix>restricted`` on BigQuery, written by load jobs only.

    A load job's configuration and history hold no row values, unlike a query's text.
    """

    def __init__(self, client: Any, project: str, dataset_prefix: str, location: str) -> None:
        self.client = client
        self.project = project
        self.prefix = dataset_prefix
        self.location = location

    def _ref(self, table: str, dataset: str = SCHEMA) -> str:
        return f"{self.project}.{self.prefix}{dataset}.{table}"

    def _load(self, table: str, rows: list[dict[str, object]], fields: dict[str, Any]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq
        from google.cloud import bigquery

        dataset = bigquery.Dataset(f"{self.project}.{self.prefix}{SCHEMA}")
        dataset.location = self.location
        self.client.create_dataset(dataset, exists_ok=True)
        schema = [bigquery.SchemaField(n, t, mode="REQUIRED") for n, (t, _) in fields.items()]
        self.client.create_table(bigquery.Table(self._ref(table), schema=schema), exists_ok=True)
        arrow_schema = pa.schema([(n, a) for n, (_, a) in fields.items()])
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(rows, schema=arrow_schema), buffer)
        buffer.seek(0)
        config = bigquery.LoadJobConfig(
            schema=schema,
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
        )
        self.client.load_table_from_file(buffer, self._ref(table), job_config=config).result()

    def write_key(self, key: str) -> None:
        """Replace the one-row key table by a load job."""
        import pyarrow as pa

        self._load(KEY_TABLE, [{"pseudonym_key": key}], {"pseudonym_key": ("STRING", pa.string())})

    def _fingerprints(self) -> list[dict[str, Any]]:
        from google.api_core.exceptions import NotFound

        try:
            rows = self.client.query(
                f"select {', '.join(_FINGERPRINT_COLUMNS)} "
                f"from `{self.project}`.`{self.prefix}{SCHEMA}`.`{FINGERPRINT_TABLE}`"
            ).result()
        except NotFound:
            return []
        return [dict(zip(_FINGERPRINT_COLUMNS, row.values(), strict=True)) for row in rows]

    def fingerprint(self, scope: str) -> Fingerprint | None:
        """The fingerprint recorded for ``scope``, or None."""
        for row in self._fingerprints():
            if row["scope"] == scope:
                return Fingerprint(row["salt"], row["digest"], row["algorithm"])
        return None

    def record(self, scope: str, fingerprint: Fingerprint) -> None:
        """Replace the fingerprint table with ``scope`` updated (one load job)."""
        import pyarrow as pa

        rows = [r for r in self._fingerprints() if r["scope"] != scope]
        rows.append(
            {
                "scope": scope,
                "algorithm": fingerprint.algorithm,
                "salt": fingerprint.salt,
                "digest": fingerprint.digest,
                "recorded_at": datetime.now(UTC),
            }
        )
        text = ("STRING", pa.string())
        fields = dict.fromkeys(("scope", "algorithm", "salt", "digest"), text)
        fields["recorded_at"] = ("TIMESTAMP", pa.timestamp("us", tz="UTC"))
        self._load(FINGERPRINT_TABLE, rows, fields)

    def has_marts(self, schema_prefix: str) -> bool:
        """True when ``<prefix><schema_prefix>marts`` holds a table."""
        from google.api_core.exceptions import NotFound

        try:
            tables = self.client.list_tables(f"{self.project}.{self.prefix}{schema_prefix}marts")
            return any(t.table_type == "TABLE" for t in tables)
        except NotFound:
            return False
