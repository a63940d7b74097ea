"""The model version names the forecasting code, not only its params: a feature change that keeps
the config (f31, f32, f34 did) must not share a version with the code before it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import ml.config
from ml.config import ForecastConfig, code_digest


def test_the_digest_follows_the_package_files(tmp_path: Path) -> None:
    package = Path(ml.config.__file__).resolve().parent
    copy = tmp_path / "ml"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__", "*.md"))
    assert code_digest(copy) == code_digest()
    features = copy / "features.py"
    features.write_text(features.read_text() + "\n# one changed line\n")
    assert code_digest(copy) != code_digest()


def test_the_same_params_under_other_code_get_another_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = ForecastConfig()
    before = config.model_version
    assert ForecastConfig().model_version == before  # deterministic for one code and config
    monkeypatch.setattr(ml.config, "code_digest", lambda: "other code")
    assert config.model_version != before
    assert config.model_version.startswith(ml.config.MODEL_NAME + "-")
