"""Settings: defaults, validation, .env overlay, and secrets kept out of repr."""

from datetime import date
from pathlib import Path

import pytest

from orchestration.settings import SettingsError, load_settings, secret_values


def test_defaults_point_at_the_embedded_warehouse():
    settings = load_settings(env={}, dotenv=None)
    assert settings.duckdb_path == Path("data/blotter.duckdb")
    assert settings.source == "demo" and settings.source_url is None
    assert settings.target == "dev"


def test_buffalo_and_url_sources_resolve():
    assert "d6g9-xbgu" in load_settings(env={"BLOTTER_SOURCE": "buffalo"}, dotenv=None).source_url
    url = "https://data.cityofchicago.org/resource/ijzp-q8t2.json"
    assert load_settings(env={"BLOTTER_SOURCE": url}, dotenv=None).source_url == url


def test_a_dataset_without_a_profile_is_refused_naming_the_file_to_create():
    url = "https://data.example.gov/resource/abcd-1234.json"
    with pytest.raises(SettingsError, match=r"ingestion/profiles/"):
        load_settings(env={"BLOTTER_SOURCE": url}, dotenv=None)


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"BLOTTER_SORUCE": "demo"}, "unknown setting BLOTTER_SORUCE"),
        ({"BLOTTER_SOURCE": "ftp://nope"}, "BLOTTER_SOURCE"),
        ({"BLOTTER_START_DATE": "yesterday"}, "YYYY-MM-DD"),
        ({"BLOTTER_DEMO_FAULTS": "http429,gremlins"}, "gremlins"),
        ({"BLOTTER_TARGET": "staging"}, "BLOTTER_TARGET"),
    ],
)
def test_invalid_settings_name_the_problem(env, needle):
    with pytest.raises(SettingsError, match=needle):
        load_settings(env=env, dotenv=None)


def test_dotenv_is_overlaid_by_the_environment(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("BLOTTER_START_DATE=2024-02-01\nBLOTTER_TARGET=ci\n")
    settings = load_settings(env={"BLOTTER_TARGET": "dev"}, dotenv=dotenv)
    assert settings.start_date == date(2024, 2, 1)
    assert settings.target == "dev"


def test_secrets_stay_out_of_repr():
    env = {"BLOTTER_SOCRATA_APP_TOKEN": "tok-123456", "BLOTTER_PSEUDONYM_KEY": "k-987"}
    settings = load_settings(env=env, dotenv=None)
    assert "tok-123456" not in repr(settings) and "k-987" not in repr(settings)
    assert sorted(secret_values(env)) == ["k-987", "tok-123456"]
