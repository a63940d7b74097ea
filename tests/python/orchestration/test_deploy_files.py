"""The GitHub workflows, schedule and Dockerfile parse and point at commands that really exist."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

import orchestration.commands.run  # noqa: F401  (registers `run` and `runs`)
from orchestration.app import app
from orchestration.settings import KNOWN

ROOT = Path(__file__).resolve().parents[3]
WORKFLOWS = ROOT / ".github" / "workflows"


def _workflow(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def _run_lines(doc: dict) -> list[str]:
    lines = []
    for job in doc["jobs"].values():
        for step in job["steps"]:
            assert "uses" in step or "run" in step, step
            if "run" in step:
                lines += [ln.strip() for ln in step["run"].splitlines() if ln.strip()]
    return lines


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w.-]*):", text, flags=re.MULTILINE))


def _commands() -> set[str]:
    return {c.name or c.callback.__name__ for c in app.registered_commands}


def test_ci_runs_lint_and_make_test_on_push_and_pr() -> None:
    doc = _workflow("ci.yml")
    assert {"push", "pull_request"} <= set(doc["on"])
    lines = _run_lines(doc)
    targets = _make_targets()
    makes = [ln.split()[1] for ln in lines if ln.startswith("make ")]
    assert "test" in makes and "lint" in makes
    assert set(makes) <= targets, set(makes) - targets


def test_daily_runs_blotter_in_prod_and_uploads_artifacts() -> None:
    doc = _workflow("daily.yml")
    assert "workflow_dispatch" in doc["on"]
    cron = doc["on"]["schedule"][0]["cron"]
    assert len(cron.split()) == 5
    schedules = yaml.safe_load((ROOT / "orchestration" / "schedules.yml").read_text())
    assert schedules["schedules"][0]["cron"] == cron

    script = " ".join(_run_lines(doc))
    assert 'docker build --tag "$IMAGE"' in script
    assert "${{ github.sha }}" in doc["env"]["IMAGE"]  # image tagged by commit
    # The container's arguments form a real `blotter run` invocation.
    invocations = [
        shlex.split(s["run"].split('"$IMAGE"')[-1].split(">")[0].replace("\\\n", " "))
        for s in doc["jobs"]["run"]["steps"]
        if "docker run" in s.get("run", "")
    ]
    assert {args[0] for args in invocations} == {"run", "runs"} <= _commands()
    (args,) = [a for a in invocations if a[0] == "run"]
    assert args[args.index("--target") + 1] == "prod"
    for flag in ("--log-format", "--summary-file", "--as-of"):
        assert flag in orchestration_run_options(), flag
    # Every BLOTTER_* variable the job passes is a real setting.
    passed = set(re.findall(r"\bBLOTTER_[A-Z_]+", (WORKFLOWS / "daily.yml").read_text()))
    assert passed <= KNOWN, passed - KNOWN
    assert {"BLOTTER_GCP_PROJECT", "BLOTTER_BQ_KEYFILE"} <= passed
    # BigQuery credentials come from repository secrets, never literals.
    assert "secrets.GCP_SA_KEY" in (WORKFLOWS / "daily.yml").read_text()

    uploads = [
        s["with"]["path"]
        for s in doc["jobs"]["run"]["steps"]
        if s.get("uses", "").startswith("actions/upload-artifact")
    ]
    joined = "\n".join(uploads)
    assert "target/index.html" in joined and "run-summary.json" in joined


def orchestration_run_options() -> set[str]:
    import typer.main

    command = typer.main.get_command(app)
    return {opt for p in command.commands["run"].params for opt in p.opts}


def test_dockerfile_is_multi_stage_non_root_and_runs_blotter() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, flags=re.MULTILINE)) >= 2
    assert re.search(r"^USER (?!root)\S+", text, flags=re.MULTILINE)
    assert 'ENTRYPOINT ["blotter"]' in text and 'CMD ["run"]' in text
    copied = [
        path
        for src in re.findall(r"^COPY (?:--chown=\S+ )?(?!--from)(.+) \S+$", text, re.MULTILINE)
        for path in src.split()
    ]
    missing = [path for path in copied if not (ROOT / path).exists()]
    assert not missing, f"the Dockerfile copies what the repo does not have: {missing}"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored and ".venv" in ignored and ".git" in ignored
    # Every package `pip install .` installs must be in the build context of the image.
    includes = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = {p.rstrip("*") for p in includes["packages"]["find"]["include"]}
    shipped = {p for p in packages if (ROOT / p).is_dir() and p not in ignored}
    assert shipped <= set(copied), f"not copied into the image: {sorted(shipped - set(copied))}"


@pytest.mark.parametrize("name", ["ci.yml", "daily.yml"])
def test_workflows_pin_action_versions(name: str) -> None:
    text = (WORKFLOWS / name).read_text()
    assert re.findall(r"uses: \S+@v\d+", text)
    assert not re.findall(r"uses: \S+@(main|master)\b", text)
