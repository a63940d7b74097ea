"""What must hold after every operator scenario, checked the same way each time (issue 12).

:func:`violations` lists every broken invariant in words (empty when all hold), so a scenario
can record them at the moment it ends and a test can show all of them at once:

1. published ``marts.fct_incidents`` holds exactly one row per record key in ``raw.incidents``
   (every raw row passed validation; rejected records are in ``raw.incidents_rejected``), with
   the incident id recomputed here as ``sha256(key:record_key)``. The key column is the one
   the landed source profile names;
2. the published daily city counts (``marts.fct_incident_counts``) sum to the number of
   published incidents with a date, and their calendar ends on the as-of;
3. no published incident is dated after the as-of;
4. ``ops.run_ledger`` has no ``running`` row unless that process holds the run lock now;
5. no build schema (``audit_*``, a colour not live) is left next to the published ones, but
   the previous published state the next build continues from (w32: a colour recorded
   published with the live colour's basis, ``engines.duckdb.colour_state.continuable``);
6. no pseudonym key used so far appears in dbt's artefacts and logs, dlt's working files, the
   run summaries, the lock file, the ledger, the catalog's SQL or the CLI's output.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from engines.base import PUBLISHED_SCHEMAS
from engines.duckdb import colour_state
from engines.duckdb.colours import COLOURS, live_prefixes
from engines.lockfile import pid_alive
from orchestration.lock import Holder, is_held, lock_path

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass
class Expected:
    """What the published state must match.

    Attributes:
        warehouse: the DuckDB file.
        key: the BLOTTER_PSEUDONYM_KEY that built the published marts.
        as_of: the as-of of the run (or rekey) that published them.
        secrets: every pseudonym key used on this warehouse so far.
        artefacts: folders and files to search for the keys (target/, logs/, summaries ...).
        outputs: what the CLI printed, by name.
    """

    warehouse: Path
    key: str
    as_of: date
    secrets: tuple[str, ...]
    artefacts: tuple[Path, ...] = ()
    outputs: Mapping[str, str] = field(default_factory=dict)


def incident_id(key: str, record_key: str) -> str:
    """The published pseudonym of ``record_key``: sha256 hex of ``key:record_key``."""
    return hashlib.sha256(f"{key}:{record_key}".encode()).hexdigest()


def record_key_column(con: duckdb.DuckDBPyConnection) -> str:
    """The key column named by the source profile the warehouse landed."""
    profile = json.loads(con.execute("select profile_json from raw.source_profile").fetchone()[0])
    column = profile["key"]
    assert _IDENTIFIER.match(column), f"unexpected key column {column!r}"
    return column


def raw_keys(warehouse: Path) -> set[str]:
    """Every record key in ``raw.incidents``."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        column = record_key_column(con)
        rows = con.execute(f'select distinct "{column}" from raw.incidents').fetchall()
    return {r[0] for r in rows}


def published_violations(con: duckdb.DuckDBPyConnection, key: str, as_of: date) -> list[str]:
    """Invariants 1-3: the published marts agree with raw, with each other and with the as-of."""
    problems: list[str] = []
    column = record_key_column(con)
    keys = [r[0] for r in con.execute(f'select "{column}" from raw.incidents').fetchall()]
    if None in keys or len(keys) != len(set(keys)):
        problems.append(f"raw.incidents: {column} is null or repeated ({len(keys)} rows)")
    expected = {incident_id(key, k) for k in keys if k is not None}
    ids = [r[0] for r in con.execute("select incident_id from marts.fct_incidents").fetchall()]
    published = set(ids)
    if len(ids) != len(published):
        problems.append(f"fct_incidents: {len(ids) - len(published)} duplicated incident_id(s)")
    if published != expected:
        problems.append(
            f"fct_incidents vs raw {column}s pseudonymised with the key: "
            f"{len(expected - published)} missing, {len(published - expected)} unexpected "
            f"({len(published)} published, {len(expected)} in raw)"
        )
    dated, latest = con.execute(
        "select count(occurred_date), max(occurred_date) from marts.fct_incidents"
    ).fetchone()
    counted, first_day, last_day = con.execute(
        "select sum(incidents), min(period_start), max(period_start) "
        "from marts.fct_incident_counts where freq = 'daily' and geo_level = 'city'"
    ).fetchone()
    if not dated or counted != dated:
        problems.append(
            f"daily city counts sum to {counted}, but {dated} published incidents have a date"
        )
    if latest is not None and latest > as_of:
        problems.append(f"fct_incidents has incidents dated {latest}, after the as-of {as_of}")
    if last_day != as_of:
        problems.append(f"daily counts run {first_day}..{last_day}, not up to the as-of {as_of}")
    return problems


def ledger_violations(con: duckdb.DuckDBPyConnection, warehouse: Path) -> list[str]:
    """Invariant 4: a ``running`` row belongs to the live process that holds the run lock."""
    running = con.execute(
        "select run_id, pid from ops.run_ledger where status = 'running'"
    ).fetchall()
    holder = Holder.read(lock_path(warehouse)) if is_held(warehouse) else None
    return [
        f"ops.run_ledger: run {run_id} is 'running' but process {pid} is gone or not the lock "
        "holder"
        for run_id, pid in running
        if holder is None or holder.pid != pid or not pid_alive(pid)
    ]


def audit_violations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Invariant 5: only the published schemas (plus raw, ops, restricted) are visible, the
    one physical copy each reads (its live colour, blue/green), and a previous published state
    the next build may continue from: no other build schema is left."""
    present = {
        r[0]
        for r in con.execute(
            "select schema_name from duckdb_schemas() where database_name = current_database()"
        ).fetchall()
    }
    live = live_prefixes(con)
    left = {s for s in present if s.startswith("audit_")} | {
        colour + schema
        for schema in PUBLISHED_SCHEMAS
        for colour in COLOURS
        if colour + schema in present
        and live.get(schema) != colour
        and not colour_state.continuable(con, schema, colour, live.get(schema), _basis(con, schema))
    }
    return [f"build schemas left after the run: {', '.join(sorted(left))}"] if left else []


def _basis(con: duckdb.DuckDBPyConnection, schema: str) -> str | None:
    """The basis recorded for ``schema``'s live colour (None: none)."""
    state = colour_state.read(con, schema, live_prefixes(con).get(schema))
    return state[1] if state else None


def _catalog_text(con: duckdb.DuckDBPyConnection) -> str:
    """The ledger, the fingerprints and every SQL text and comment the catalog holds."""
    queries = (
        "select * from ops.run_ledger",
        "select * from restricted.pseudonym_fingerprints",
        "select sql, comment from duckdb_views()",
        "select sql, comment from duckdb_tables()",
        "select comment from duckdb_columns()",
    )
    return " ".join(str(v) for q in queries for row in con.execute(q).fetchall() for v in row)


def _files(paths: Iterable[Path]) -> Iterable[Path]:
    for path in paths:
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from (p for p in path.rglob("*") if p.is_file())


def leak_violations(
    con: duckdb.DuckDBPyConnection,
    secrets: Iterable[str],
    artefacts: Iterable[Path],
    outputs: Mapping[str, str],
) -> list[str]:
    """Invariant 6: no key in any artefact, log, summary, the ledger, the catalog or output."""
    haystacks = {"ledger, fingerprints and catalog SQL": _catalog_text(con), **outputs}
    for file in _files(artefacts):
        haystacks[str(file)] = file.read_bytes().decode("utf-8", "replace")
    return [
        f"a pseudonym key appears in {name}"
        for name, text in haystacks.items()
        if any(secret in text for secret in secrets)
    ]


def violations(expected: Expected, settled: bool = True) -> list[str]:
    """Every invariant that does not hold on ``expected.warehouse`` right now (see module).

    ``settled=False`` skips invariants 4 and 5, for the moment right after a kill: the dead
    run's row stays ``running`` and its audit schemas stay until the next command (which takes
    the run lock) reconciles the row and resets the audit schemas.
    """
    with duckdb.connect(str(expected.warehouse), read_only=True) as con:
        return [
            *published_violations(con, expected.key, expected.as_of),
            *(ledger_violations(con, expected.warehouse) if settled else []),
            *(audit_violations(con) if settled else []),
            *leak_violations(con, expected.secrets, expected.artefacts, expected.outputs),
        ]


def assert_invariants(expected: Expected) -> None:
    """Fail with every broken invariant listed."""
    problems = violations(expected)
    assert not problems, "invariants broken:\n- " + "\n- ".join(problems)
