"""The replay API is its own package and still ships: the demo is the embedded default."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_replay_is_a_top_level_package_that_is_installed_and_copied_into_the_image():
    assert not (ROOT / "ingestion" / "replay").exists()  # outside the dlt source
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "replay*" in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    build_stage = (ROOT / "Dockerfile").read_text().split("\nFROM ")[1]
    copied = set(re.findall(r"^COPY (\S+) \1$", build_stage, flags=re.MULTILINE))
    # settings validates BLOTTER_DEMO_FAULTS against replay's list; ingestion raises engines'
    # typed errors: both packages must be in the image with ingestion and orchestration.
    assert {"engines", "ingestion", "replay", "orchestration"} <= copied


def test_ingestion_names_no_warehouse_engine():
    # The duckdb library may parse pages and index keys in ingestion's own private files; the
    # warehouse it lands in (destination, its settings, engine modules) is named only by engines/.
    engine_names = re.compile(
        r"bigquery|destinations?\.duckdb|engines\.(duckdb|bigquery)", flags=re.IGNORECASE
    )
    for path in (ROOT / "ingestion").rglob("*.py"):
        # Docstrings span lines; a comment ends at its line.
        code = re.sub(r'""".*?"""|#[^\n]*', "", path.read_text(), flags=re.DOTALL)
        assert not engine_names.search(code), path
