"""The life of ``test_end_to_end.py``'s warehouse: every command, in order, as one fixture.

The numbered steps are in the test module's docstring; this module runs them once (module
scope, registered in ``conftest.py``) and records each command's result, the digests of the
published schemas between steps and the facts the checks read. The keys, days and readers are
in ``e2e_life.py``.
"""

from __future__ import annotations

import json
import os

import duckdb
import pytest
from e2e_life import (
    DAY1,
    DAY2,
    DAY3,
    HOOK_AUTH,
    KEY_A,
    KEY_B,
    START,
    Scenario,
    catalog_text,
    incidents,
    kill_and_rerun,
    served,
)
from orch_helpers import Receiver, schema_digest
from typer.testing import CliRunner

from engines.base import PUBLISHED_SCHEMAS
from engines.duckdb.colours import live_prefixes
from orchestration.cli import app

# Where `blotter transform` writes its dbt artefacts (DBT_TARGET_PATH), under the scenario's base.
TRANSFORM_TARGET = "target_transform"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    base = tmp_path_factory.mktemp("e2e")
    sc = Scenario(base, base / "blotter.duckdb")
    receiver = Receiver()
    mp = pytest.MonkeyPatch()
    runner = CliRunner()

    def cli(name: str, *args: str, env: dict[str, str] | None = None) -> None:
        sc.results[name] = runner.invoke(app, list(args), env=env)

    # `blotter transform` (no vars, or its own) keeps its dbt artefacts apart from the runs': a
    # parse with other vars would make the next run's dbt parse the whole project again.
    transform_env = {"DBT_TARGET_PATH": str(base / TRANSFORM_TARGET)}

    try:
        mp.chdir(base)  # no stray .env; dbt logs stay in the temp dir
        for key in [k for k in os.environ if k.startswith("BLOTTER_")]:
            mp.delenv(key)
        mp.setenv("BLOTTER_DUCKDB_PATH", str(sc.path))
        mp.setenv("BLOTTER_START_DATE", START)
        mp.setenv("BLOTTER_NOTIFY_WEBHOOK", receiver.url.replace("://", f"://{HOOK_AUTH}@"))
        # Keep dbt's artifacts away from the shared working tree (other builds run there).
        mp.setenv("DBT_TARGET_PATH", str(base / "target"))
        mp.setenv("DBT_LOG_PATH", str(base / "logs"))
        # The leak check reads dbt's log: at debug level it holds every SQL text dbt ran.
        mp.setenv("DBT_LOG_LEVEL_FILE", "debug")
        mp.setenv("BLOTTER_PSEUDONYM_KEY", KEY_A)
        # Day 1's docs site would be replaced by day 2's before anything reads it: day 1 runs
        # with --no-docs (checked below), which saves ~20 % of a small run.
        cli(
            "day1",
            *("run", "--as-of", DAY1, "--no-docs", "--retries", "0", "--summary-file", "s1.json"),
        )
        sc.facts["docs_site_after_day1"] = (base / "target" / "index.html").exists()
        sc.digests["day1"] = schema_digest(sc.path, PUBLISHED_SCHEMAS)
        sc.facts["incidents_a"] = incidents(sc.path)
        # The pseudonymised mart and what it needs, without tests: enough to record the dev_
        # key fingerprint, and quick.
        cli(
            "transform",
            *("transform", "-s", "+fct_incidents", "--exclude", "resource_type:test"),
            env=transform_env,
        )
        cli(
            "transform_published",
            *("transform", "--vars", '{"schema_prefix": ""}'),
            env=transform_env,
        )
        sc.digests["transform"] = schema_digest(sc.path, PUBLISHED_SCHEMAS)

        mp.setenv("BLOTTER_PSEUDONYM_KEY", KEY_B)
        cli("run_new_key", "run", "--as-of", DAY2, "--retries", "0")
        cli("transform_new_key", "transform", "-s", "fct_incidents", env=transform_env)
        sc.digests["refused"] = schema_digest(sc.path, PUBLISHED_SCHEMAS)
        cli("rekey", "rekey", "--summary-file", "s_rekey.json")
        sc.facts["incidents_rekeyed"] = incidents(sc.path)

        cli("forecast", "forecast")
        sc.facts["after_forecast"] = served(sc.path)
        with duckdb.connect(str(sc.path), read_only=True) as con:
            other = con.execute(
                "select run_id from ml.model_runs where status <> 'champion' "
                "order by trained_at desc limit 1"
            ).fetchone()
        sc.facts["approved"] = other[0] if other else None
        cli("approve", "model", "approve", str(sc.facts["approved"]))
        sc.facts["after_approve"] = served(sc.path)
        cli("rollback", "model", "rollback")
        sc.facts["after_rollback"] = served(sc.path)
        cli("unknown_run", "model", "approve", "no-such-run")

        kill_and_rerun(sc, runner)
        sc.digests["day2"] = schema_digest(sc.path, PUBLISHED_SCHEMAS)
        for artefact in ("manifest", "catalog"):  # the docs site day 2 left in target/
            path = base / "target" / f"{artefact}.json"
            sc.facts[f"docs_{artefact}"] = json.loads(path.read_text())
        sc.facts["incidents_b"] = incidents(sc.path)
        with duckdb.connect(str(sc.path)) as con:
            sc.facts["schemas"] = {
                r[0]
                for r in con.execute(
                    "select schema_name from duckdb_schemas() where not internal"
                ).fetchall()
            }
            sc.facts["live_colours"] = live_prefixes(con)
            # The merge on case_number broke: one incident landed twice.
            con.execute(
                "insert into raw.incidents select * replace ('dup' || _dlt_id as _dlt_id) "
                "from raw.incidents order by incident_datetime limit 1"
            )
        cli("day3", "run", "--as-of", DAY3, "--retries", "0", "--summary-file", "s3.json")
        sc.digests["day3"] = schema_digest(sc.path, PUBLISHED_SCHEMAS)
        sc.facts["catalog_text"] = catalog_text(sc.path)
        listed = runner.invoke(app, ["runs", "--json", "--limit", "50"])
        assert listed.exit_code == 0, listed.output
        sc.runs = json.loads(listed.stdout)
        sc.webhook = list(receiver.bodies)
        return sc
    finally:
        receiver.close()
        mp.undo()
