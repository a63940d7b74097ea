"""Issue 15 item 6: `make lint` runs the pre-commit hooks (ruff, ruff-format, sqlfluff) and mypy
on every Python package, offline; CI runs it before the tests."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]


def _make_target(name: str) -> list[str]:
    text = (ROOT / "Makefile").read_text()
    body = re.search(rf"^{name}:.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert body, name
    return [line.strip() for line in body.group(1).splitlines()]


def test_pre_commit_hooks_are_local_and_use_the_pinned_tools() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    (repo,) = config["repos"]  # no hook repository to fetch: build machines have no internet
    assert repo["repo"] == "local"
    hooks = {hook["id"]: hook for hook in repo["hooks"]}
    assert set(hooks) >= {"ruff", "ruff-format", "sqlfluff"}
    for hook in hooks.values():
        assert hook["language"] == "system" and ".venv/bin/" in hook["entry"], hook["id"]
    assert "ruff==" in (ROOT / "pyproject.toml").read_text()


def test_make_lint_runs_pre_commit_and_mypy_on_every_package() -> None:
    lint = _make_target("lint")
    assert any("pre-commit run --all-files" in line for line in lint)
    assert any(line.startswith("$(BIN)/mypy") for line in lint)
    listed = re.search(r"^PY_PACKAGES := (.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert listed
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    installed = {
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    assert installed <= set(listed.group(1).split())
    assert pyproject["tool"]["mypy"]["check_untyped_defs"] is True


def test_ci_lints_before_it_tests() -> None:
    commands = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip().startswith("make ")
    ]
    assert commands == ["make lint", "make test"]
