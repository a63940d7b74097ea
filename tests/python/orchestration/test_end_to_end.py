"""End to end: the life of one warehouse through the real CLI, replay API, dlt, dbt, ml, publish.

One module-scoped scenario on one DuckDB file (a six-week window keeps it quick), with the
operator mistakes of issue 12 on the way:

1. ``blotter run`` (day 1, key A) publishes; the webhook URL carries credentials;
2. ``blotter transform`` builds dev_* schemas and leaves the published ones alone;
3. the key is rotated to B: ``run`` and ``transform`` refuse (exit 2) and publish nothing;
4. ``blotter rekey`` rebuilds every pseudonymised table with key B and publishes;
5. ``blotter forecast``, ``model approve`` and ``model rollback`` publish through audit;
6. day 2 is started as the scheduler does (own process, JSON logs, an app token) and killed
   with SIGKILL mid-run; the rerun reconciles the dead run to ``abandoned`` and succeeds, while
   a second run started next to it exits 2 at once naming the first;
7. a duplicated case_number in ``raw.incidents`` makes day 3 fail on the error-severity
   uniqueness test of the record key in staging, leave every published object unchanged, and notify.

Then the ledger, the webhook and every artefact are checked (the key appears nowhere). The
steps run once, in ``e2e_scenario.py``'s ``scenario`` fixture; this module holds the checks.
"""

from __future__ import annotations

import json

import duckdb
from e2e_life import DAY1, DAY2, DAY3, KEY_A, KEY_B, START, TOKEN, VISIBLE, Scenario
from e2e_life import expect_ok as _ok
from e2e_life import expect_refused as _refused
from e2e_scenario import TRANSFORM_TARGET

from engines.base import PUBLISHED_SCHEMAS
from ml.tables import ML_TABLES
from orchestration import dbt_jinja
from orchestration.dbt_manifest import CONTINUED
from orchestration.dbt_runner import PROJECT_DIR


def test_two_days_publish(scenario: Scenario) -> None:
    _ok(scenario, "day1")
    _ok(scenario, "day2")
    day1, day2 = scenario.digests["day1"], scenario.digests["day2"]
    assert "marts.fct_incident_counts" in day2 and "ml.forecasts" in day2
    assert day1["marts.fct_incident_counts"] != day2["marts.fct_incident_counts"]
    with duckdb.connect(str(scenario.path), read_only=True) as con:
        views = con.execute(
            "select count(*) from duckdb_views() where schema_name in ('staging', 'marts') "
            "and sql like '%audit\\_%' escape '\\'"
        ).fetchone()[0]
        assert views == 0  # published views read published tables


def test_published_schemas_only_no_audit_copies(scenario: Scenario) -> None:
    """Issue 12 item 13: after a publish a reader sees every table once (published views) plus
    its one physical copy (the live colour of each schema, blue/green; the other is dropped)."""
    requested = {s for s in scenario.facts["schemas"] if s.startswith("dev_")}
    live = scenario.facts["live_colours"]
    # Every published schema there is reads one recorded colour.
    assert set(live) == {s for s in PUBLISHED_SCHEMAS if s in scenario.facts["schemas"]}, live
    physical = {prefix + schema for schema, prefix in live.items()}
    visible = VISIBLE | physical
    assert scenario.facts["schemas"] - requested <= visible, scenario.facts["schemas"]
    assert {"marts", "ml", "raw", "ops"} <= scenario.facts["schemas"]


def test_transform_builds_dev_schemas_and_never_the_published_ones(scenario: Scenario) -> None:
    """Issue 12 item 12."""
    _ok(scenario, "transform")
    assert scenario.digests["transform"] == scenario.digests["day1"]
    assert {"dev_staging", "dev_marts"} <= scenario.facts["schemas"]
    _refused(scenario, "transform_published", "does not build into schema_prefix ''")


def test_a_rotated_key_is_refused_until_rekey(scenario: Scenario) -> None:
    """Issue 12 item 1: a key change never merges new pseudonyms next to the old ones."""
    assert "`blotter rekey`" in _refused(scenario, "run_new_key", "BLOTTER_PSEUDONYM_KEY changed")
    assert "--full-refresh" in _refused(scenario, "transform_new_key", "changed since dev_marts")
    assert scenario.digests["refused"] == scenario.digests["day1"]


def test_rekey_rebuilds_every_pseudonym_without_duplicates(scenario: Scenario) -> None:
    _ok(scenario, "rekey")
    before, after = scenario.facts["incidents_a"], scenario.facts["incidents_rekeyed"]
    assert after["rows"] == after["ids"] == after["raw"] == before["raw"] > 500
    assert not before["sample"] & after["sample"]  # every id changed with the key
    rekey = next(r for r in scenario.runs if r["command"] == "rekey")
    assert rekey["status"] == "succeeded" and rekey["tests_failed"] == 0
    # Same as-of and vars as day 1's run, whose parse `blotter transform` (own target/) left
    # alone: dbt re-parses nothing.
    summary = json.loads((scenario.base / "s_rekey.json").read_text())
    assert summary["dbt_parses"] == 1 and summary["dbt_full_parses"] == 0


def test_the_next_day_with_the_new_key_adds_no_duplicates(scenario: Scenario) -> None:
    b = scenario.facts["incidents_b"]
    assert b["rows"] == b["ids"] == b["raw"] > scenario.facts["incidents_a"]["raw"]


def test_marts_are_pseudonymised_with_the_configured_key(scenario: Scenario) -> None:
    """Issue 12 item 2: dbt reads the key from restricted.pseudonym_key, not from env_var.

    Passes once the dbt side's pseudonymise() reads the table (CONTRACTS.md A).
    """
    with duckdb.connect(str(scenario.path), read_only=True) as con:
        assert con.execute("select * from restricted.pseudonym_key").fetchall() == [(KEY_B,)]
        matched = con.execute(
            "select count(distinct f.incident_id) from marts.fct_incidents f join raw.incidents r "
            "on f.incident_id = sha256(? || ':' || r.case_number)",
            [KEY_B],
        ).fetchone()[0]
    assert matched == scenario.facts["incidents_b"]["rows"]


def test_the_key_is_in_no_artefact_log_ledger_or_query_text(scenario: Scenario) -> None:
    """Issue 12 item 2: after runs with random keys, zero hits anywhere but the key table."""
    base = scenario.base
    haystacks: dict[str, str] = {
        "webhook bodies": json.dumps(scenario.webhook),
        "runs --json": json.dumps(scenario.runs),
        "catalog, ledger and fingerprints": scenario.facts["catalog_text"],
    }
    for name, result in scenario.results.items():
        haystacks[f"output of {name}"] = result.output
    for folder in ("target", TRANSFORM_TARGET, "logs", "dlt_pipelines"):
        for file in (base / folder).rglob("*"):
            if file.is_file():
                haystacks[str(file)] = file.read_bytes().decode("utf-8", "replace")
    for file in base.glob("s*.json"):
        haystacks[str(file)] = file.read_text()
    # dbt's compiled templates (d37) live in the project's target/, whatever DBT_TARGET_PATH says.
    jinja_cache = dbt_jinja.cache_path(PROJECT_DIR)
    assert jinja_cache.is_file(), jinja_cache
    haystacks[str(jinja_cache)] = jinja_cache.read_bytes().decode("utf-8", "replace")
    assert len(haystacks) > 20 and any("manifest.json" in k for k in haystacks)
    for key in (KEY_A, KEY_B):
        leaks = [name for name, text in haystacks.items() if key in text]
        assert not leaks, f"the key leaked into {leaks[:10]}"


def test_forecast_and_registry_changes_publish_through_audit(scenario: Scenario) -> None:
    """Issue 12 item 14: fct_forecasts serves the champion right after each change."""
    for name in ("forecast", "approve", "rollback"):
        _ok(scenario, name)
    served, champions = scenario.facts["after_forecast"]
    assert served == champions and len(champions) == 1
    approved = scenario.facts["approved"]
    assert approved and scenario.facts["after_approve"] == ({approved}, {approved})
    assert scenario.facts["after_rollback"] == (champions, champions)
    done = {r["command"] for r in scenario.runs if r["status"] == "succeeded"}
    assert {"forecast", "model approve", "model rollback"} <= done
    _refused(scenario, "unknown_run", "no model run 'no-such-run'")


def test_a_killed_run_is_abandoned_and_the_rerun_succeeds(scenario: Scenario) -> None:
    """Issue 12 item 6."""
    pid = scenario.facts["killed_pid"]
    shown = scenario.facts["runs_after_kill"][0]
    assert shown["status"] == "abandoned" and f"process {pid}" in shown["error"]
    killed = next(r for r in scenario.runs if r["pid"] == pid)
    assert killed["status"] == "abandoned" and killed["ended_at"]
    assert f"process {pid} on" in killed["error"] and "(killed?)" in killed["error"]
    assert "during step build_warehouse" in killed["error"]
    assert killed["steps"]["ingest"]["status"] == "succeeded"
    assert killed["steps"]["build_warehouse"]["status"] == "abandoned"
    assert not [r for r in scenario.runs if r["status"] == "running"]


def test_a_second_run_exits_2_at_once_naming_the_first(scenario: Scenario) -> None:
    """Issue 12 item 7."""
    line = _refused(scenario, "second_run", "another run (")
    first = scenario.results["day2"]
    assert f"pid {first.pid}" in line and "is in progress on" in line
    assert str(scenario.path) in line


def test_json_logs_are_structured_and_redacted(scenario: Scenario) -> None:
    logs = scenario.results["day2"].stderr
    lines = [json.loads(line) for line in logs.splitlines() if line.strip()]
    assert lines, "no log lines"
    steps = {r["step"] for r in lines if r["msg"].startswith("step ")}
    assert steps == {"ingest", "build_warehouse", "forecast", "build_ml", "publish", "docs"}
    assert any(r["msg"].startswith("run 2") and "abandoned" in r["msg"] for r in lines)
    assert TOKEN not in logs and "secretpath" not in logs and "hook-pw" not in logs
    assert lines[-1]["msg"] == "run succeeded"


def test_duplicate_in_raw_fails_and_leaves_published_unchanged(scenario: Scenario) -> None:
    failed = scenario.results["day3"]
    assert failed.exit_code == 1, failed.output
    assert "record_key" in failed.output  # the failing test is named
    assert scenario.digests["day3"] == scenario.digests["day2"]


def test_ledger_records_every_outcome(scenario: Scenario) -> None:
    runs = [r for r in scenario.runs if r["command"] == "run"]
    assert [r["status"] for r in runs] == ["failed", "succeeded", "abandoned", "succeeded"]
    assert [r["as_of"] for r in runs] == [DAY3, DAY2, DAY2, DAY1]
    failed, ok = runs[0], runs[1]
    assert failed["steps"]["build_warehouse"]["status"] == "failed"
    assert failed["steps"]["publish"]["status"] == "skipped"
    assert any("record_key" in t for t in failed["failing_tests"])
    assert failed["tests_failed"] >= 1
    assert all(s["status"] == "succeeded" for s in ok["steps"].values())
    assert ok["tests_passed"] > 0 and ok["tests_failed"] == 0
    first_notes = runs[-1]["notes"]  # the first run says it created the file and the landing
    assert first_notes[0] == f"created new warehouse {scenario.path}", first_notes
    assert any(n.startswith("raw landing created in a new warehouse") for n in first_notes)
    # u41: day 1 ran dbt's unit tests and recorded their pass; day 2, on the same code, skipped
    # them, naming day 1's run, and ran the same data tests (orchestration.unit_test_memo).
    ran, skipped = ([n for n in r["notes"] if n.startswith("unit tests: ")] for r in (runs[-1], ok))
    assert len(ran) == 2 and all(" ran and passed (" in n for n in ran), ran
    assert all(f"skipped, run {runs[-1]['run_id']} passed" in n for n in skipped), skipped
    assert [n.split("; ")[-1] for n in skipped] == [n.split("; ")[-1] for n in ran] != []


def test_webhook_got_every_outcome_with_basic_auth(scenario: Scenario) -> None:
    """Issue 12 item 9: credentials in the URL are sent as basic auth and never shown."""
    statuses = [(b["blotter"]["status"], b["text"].split()[2]) for b in scenario.webhook]
    assert statuses == [
        ("succeeded", "run"),
        ("refused", "run"),  # the key change: the scheduled run needs a person
        ("succeeded", "rekey"),
        ("succeeded", "forecast"),
        ("succeeded", "model"),
        ("succeeded", "model"),
        ("refused", "run"),  # the second concurrent run
        ("succeeded", "run"),
        ("failed", "run"),
    ]
    assert "blotter rekey" in scenario.webhook[1]["text"]
    assert "record_key" in scenario.webhook[-1]["text"]
    assert {b["authorization"] for b in scenario.webhook} == {"Basic b3BzOmhvb2stcHctOTkzMQ=="}
    for result in scenario.results.values():
        assert "hook-pw-9931" not in result.output


def test_dbt_gets_the_run_s_vars(scenario: Scenario) -> None:
    """Issue 12 item 12 (CONTRACTS.md B): the audited build of day 3 was dbt's last call.

    The data cutoff reaches dbt in the environment, not in ``--vars`` (issue 16: vars that change
    daily made dbt parse the whole project every day): day 2's docs site compiled its own as-of.
    """
    results = json.loads((scenario.base / "target" / "run_results.json").read_text())
    assert results["args"]["vars"] == {"schema_prefix": "audit_", "data_start": START}
    window = next(
        n
        for n in scenario.facts["docs_manifest"]["nodes"].values()
        if n["name"] == "int_data_window"
    )
    assert f"cast('{DAY2}' as date) as data_cutoff_date" in window["compiled_code"]


def test_a_daily_run_parses_dbt_once_and_seeds_only_the_continued_tables(
    scenario: Scenario,
) -> None:
    """Issue 16 (P2): one dbt parse per run; the audit schemas get the continued tables only.

    The docs step and the build share the run's parse; before, the docs step (other vars)
    parsed the whole project again. Only incremental models, snapshots and the ML store are
    copied into the audit schemas, not every published table.
    """
    _ok(scenario, "day2")
    summary = json.loads((scenario.base / "s2.json").read_text())
    assert summary["status"] == "succeeded" and summary["dbt_parses"] == 1
    assert json.loads((scenario.base / "s1.json").read_text())["dbt_parses"] == 1
    # Day 3 follows day 2 on the same target: dbt re-parses only what the new cutoff changes.
    day3 = json.loads((scenario.base / "s3.json").read_text())
    assert day3["dbt_parses"] == 1 and day3["dbt_full_parses"] == 0
    lines = [json.loads(line) for line in scenario.results["day2"].stderr.splitlines() if line]
    built = next(r for r in lines if r["msg"] == "step build_warehouse succeeded")
    nodes = scenario.facts["docs_manifest"]["nodes"].values()
    continued = [n for n in nodes if n["config"].get("materialized") in CONTINUED]
    assert continued
    assert built["audit_tables_seeded"] == len(continued) + len(ML_TABLES)
    published_tables = [n for n in nodes if n["config"].get("materialized") == "table"]
    assert built["audit_tables_seeded"] < len(continued) + len(published_tables) + len(ML_TABLES)


def test_no_docs_ends_the_run_after_publish(scenario: Scenario) -> None:
    """``blotter run --no-docs`` (day 1) publishes without the docs step; day 2 runs it."""
    _ok(scenario, "day1")
    day1 = json.loads((scenario.base / "s1.json").read_text())
    assert list(day1["steps"]) == ["ingest", "build_warehouse", "forecast", "build_ml", "publish"]
    assert day1["steps"]["publish"]["status"] == "succeeded"
    assert scenario.facts["docs_site_after_day1"] is False
    day2 = json.loads((scenario.base / "s2.json").read_text())
    assert day2["steps"]["docs"]["status"] == "succeeded"


def test_the_docs_site_describes_the_published_relations(scenario: Scenario) -> None:
    """The docs step reuses the run's parse re-pointed at the published schemas."""
    manifest, catalog = scenario.facts["docs_manifest"], scenario.facts["docs_catalog"]
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert {n["schema"] for n in models} <= {"staging", "intermediate", "marts"}
    fct = next(n for n in models if n["name"] == "fct_incidents")
    assert '"marts"."fct_incidents"' in fct["relation_name"]
    assert "audit_" not in json.dumps(catalog["nodes"])
    assert catalog["nodes"]["model.blotter.fct_incidents"]["metadata"]["schema"] == "marts"
