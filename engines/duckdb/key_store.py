"""The pseudonym key store in the DuckDB file: ``restricted.pseudonym_key`` and fingerprints.

The key is written with a bound parameter, never in SQL text. :func:`record_in` records a
fingerprint on an open connection, so publish changes it in the same transaction as the
published marts. (What a fingerprint is and when a key change is refused: orchestration.)

Environment variables read here: none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from engines.base import StoredFingerprint
from engines.duckdb.connect import connect, table_exists

SCHEMA = "restricted"
KEY_TABLE = "pseudonym_key"
FINGERPRINT_TABLE = "pseudonym_fingerprints"
_FINGERPRINT_COLUMNS = ("scope", "algorithm", "salt", "digest", "recorded_at")


class DuckDBKeyStore:
    """The key store in the DuckDB warehouse file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write_key(self, key: str) -> None:
        """Rewrite the one-row key table in one transaction (the key is a bound parameter)."""
        with connect(self.path) as con:
            con.execute("begin transaction")
            con.execute(f"create schema if not exists {SCHEMA}")
            con.execute(
                f"create table if not exists {SCHEMA}.{KEY_TABLE} (pseudonym_key varchar not null)"
            )
            con.execute(f"delete from {SCHEMA}.{KEY_TABLE}")
            con.execute(f"insert into {SCHEMA}.{KEY_TABLE} values (?)", [key])
            con.execute("commit")

    def fingerprint(self, scope: str) -> StoredFingerprint | None:
        """The fingerprint recorded for ``scope``, or None (also for a new warehouse)."""
        if not self.path.exists():
            return None
        with connect(self.path, read_only=True) as con:
            if not table_exists(con, SCHEMA, FINGERPRINT_TABLE):
                return None
            row = con.execute(
                f"select salt, digest, algorithm from {SCHEMA}.{FINGERPRINT_TABLE} where scope = ?",
                [scope],
            ).fetchone()
        return StoredFingerprint(*row) if row else None

    def record(self, scope: str, fingerprint: StoredFingerprint) -> None:
        """Record ``fingerprint`` for ``scope`` in its own transaction."""
        with connect(self.path) as con:
            con.execute("begin transaction")
            record_in(con, scope, fingerprint)
            con.execute("commit")

    def has_marts(self, schema_prefix: str) -> bool:
        """True when ``<schema_prefix>marts`` holds a table (or, published: a view onto one)."""
        if not self.path.exists():
            return False
        with connect(self.path, read_only=True) as con:
            row = con.execute(
                "select count(*) from information_schema.tables "
                "where table_catalog = current_database() and table_schema = ?",
                [f"{schema_prefix}marts"],
            ).fetchone()
        return bool(row and row[0])


def record_in(con: duckdb.DuckDBPyConnection, scope: str, fingerprint: StoredFingerprint) -> None:
    """Upsert ``fingerprint`` on an open connection (inside the caller's transaction)."""
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
