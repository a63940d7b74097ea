"""Settings: defaults, validation, .env overlay, and secrets kept out of repr."""

from datetime import date
from pathlib import Path

import pytest

from orchestration.settings import Settings, SettingsError, load_settings, secret_values


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
    # Other tools' names in a shared .env are theirs (and lower case is not ours either).
    dotenv.write_text(
        "BLOTTER_START_DATE=2024-02-01\nBLOTTER_TARGET=ci\nGOOGLE_APPLICATION_CREDENTIALS=/k.json\n"
        "blotter_log_format=yaml\n"
    )
    settings = load_settings(env={"BLOTTER_TARGET": "dev"}, dotenv=dotenv)
    assert settings.start_date == date(2024, 2, 1)
    assert settings.target == "dev"


def test_secrets_stay_out_of_repr():
    env = {"BLOTTER_SOCRATA_APP_TOKEN": "tok-123456", "BLOTTER_PSEUDONYM_KEY": "k-987"}
    settings = load_settings(env=env, dotenv=None)
    assert "tok-123456" not in repr(settings) and "k-987" not in repr(settings)
    assert sorted(secret_values(env)) == ["k-987", "tok-123456"]


# ---- issue 15 item 3: pydantic-settings, secrets as SecretStr

SECRET_ENV = {
    "BLOTTER_SOCRATA_APP_TOKEN": "tok-5f3a91",
    "BLOTTER_PSEUDONYM_KEY": "key-77c2e0",
    "BLOTTER_NOTIFY_WEBHOOK": "https://ops:pw-19d4b7@hooks.example/services/T1/B2/path-8e1c",
}


def test_secrets_are_secretstr_and_never_in_repr_str_or_dump():
    settings = load_settings(env=SECRET_ENV, dotenv=None)
    shown = "\n".join(
        [repr(settings), str(settings), f"{settings}", settings.model_dump_json()]
        + [repr(v) for v in settings.model_dump().values()]
    )
    for value in ("tok-5f3a91", "key-77c2e0", "pw-19d4b7", "path-8e1c"):
        assert value not in shown, value
    assert settings.app_token is not None and settings.notify_webhook is not None
    assert settings.app_token.get_secret_value() == "tok-5f3a91"
    assert settings.pseudonym_key.get_secret_value() == "key-77c2e0"
    assert not settings.uses_dev_pseudonym_key
    # The log redactor gets every raw value, including the webhook's password on its own.
    assert set(settings.secrets()) == {*SECRET_ENV.values(), "pw-19d4b7"}


def test_an_invalid_secret_is_refused_without_echoing_it():
    env = {"BLOTTER_NOTIFY_WEBHOOK": "ftp://ops:pw-19d4b7@hooks.example/x"}
    with pytest.raises(SettingsError) as caught:
        load_settings(env=env, dotenv=None)
    assert str(caught.value) == "BLOTTER_NOTIFY_WEBHOOK must be an http(s) URL"


def test_every_setting_is_read_by_its_env_name_and_empty_means_unset(tmp_path):
    env = {
        "BLOTTER_DUCKDB_PATH": str(tmp_path / "w.duckdb"),
        "BLOTTER_START_DATE": "2024-02-01",
        "BLOTTER_DEMO_FAULTS": "http429, slow",
        "BLOTTER_TARGET": "prod",
        "BLOTTER_GCP_PROJECT": "p1",
        "BLOTTER_BQ_DATASET_PREFIX": "x_",
        "BLOTTER_BQ_LOCATION": "EU",
        "BLOTTER_BQ_AUTH_METHOD": "service-account",
        "BLOTTER_BQ_KEYFILE": "/k.json",
        "BLOTTER_BQ_API_ENDPOINT": "http://127.0.0.1:9050",
        "BLOTTER_LOG_FORMAT": "json",
        "BLOTTER_SOCRATA_APP_TOKEN": "",
    }
    s = load_settings(env=env, dotenv=None)
    assert (s.duckdb_path, s.start_date, s.demo_faults, s.target) == (
        tmp_path / "w.duckdb",
        date(2024, 2, 1),
        ("http429", "slow"),
        "prod",
    )
    assert (s.gcp_project, s.bq_dataset_prefix, s.bq_location, s.bq_auth_method) == (
        "p1",
        "x_",
        "EU",
        "service-account",
    )
    assert (s.bq_keyfile, s.bq_api_endpoint, s.log_format) == (
        "/k.json",
        "http://127.0.0.1:9050",
        "json",
    )
    assert s.app_token is None and s.uses_dev_pseudonym_key


def test_overrides_win_over_the_environment_and_dotenv(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("BLOTTER_TARGET=ci\nBLOTTER_LOG_FORMAT=json\n")
    settings = load_settings(
        env={"BLOTTER_TARGET": "dev"}, dotenv=dotenv, overrides={"BLOTTER_TARGET": "prod"}
    )
    assert settings.target == "prod" and settings.log_format == "json"
    with pytest.raises(SettingsError, match="unknown setting BLOTTER_TRAGET"):
        load_settings(env={}, dotenv=None, overrides={"BLOTTER_TRAGET": "prod"})
    dotenv.write_text("BLOTTER_LOG_FROMAT=json\n")
    with pytest.raises(SettingsError, match="unknown setting BLOTTER_LOG_FROMAT"):
        load_settings(env={}, dotenv=dotenv)


def test_settings_built_in_code_ignore_the_process_environment(monkeypatch):
    """Settings(...) is what it is given: a default computed from it cannot follow a typo."""
    monkeypatch.setenv("BLOTTER_DUCKDB_PATH", "/typo/blotter.duckdb")
    assert Settings().duckdb_path == Path("data/blotter.duckdb")
    assert load_settings(dotenv=None).duckdb_path == Path("/typo/blotter.duckdb")


def test_a_bad_value_on_the_command_line_is_one_line_and_exit_2(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from orchestration.cli import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BLOTTER_LOG_FORMAT", "yaml")
    result = CliRunner().invoke(app, ["runs"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: BLOTTER_LOG_FORMAT='yaml' is not 'text' or 'json'"


def test_the_real_samples_directory_is_no_setting_but_not_refused():
    """README: export BLOTTER_REAL_DATA_DIR to run the tests from elsewhere; the CLI still runs."""
    settings = load_settings(env={"BLOTTER_REAL_DATA_DIR": "/data/real"}, dotenv=None)
    assert "real" not in repr(settings)
    with pytest.raises(SettingsError, match="unknown setting BLOTTER_REAL_DATA_DIRS"):
        load_settings(env={"BLOTTER_REAL_DATA_DIRS": "/data/real"}, dotenv=None)
