"""A copy of the dbt project with extra models, for generic tests that must see a failure."""

from __future__ import annotations

import shutil
from pathlib import Path

from orchestration.dbt_runner import PROJECT_DIR


def project_with_models(dest: Path, folder: str, files: dict[str, str]) -> Path:
    """A copy of the dbt project in ``dest`` with ``files`` (name -> text) in models/<folder>."""
    for name in ("dbt_project.yml", "profiles.yml", "macros", "models", "snapshots", "tests"):
        src = PROJECT_DIR / name
        if src.is_dir():
            ignore = shutil.ignore_patterns("python", "__pycache__")
            shutil.copytree(src, dest / name, ignore=ignore)
        else:
            shutil.copy2(src, dest / name)
    models = dest / "models" / folder
    models.mkdir()
    for name, text in files.items():
        (models / name).write_text(text)
    return dest
