"""Blotter settings, read once from ``BLOTTER_*`` environment variables and an optional ``.env``.

Environment variables read here:

- ``BLOTTER_DUCKDB_PATH``: the embedded warehouse file (default ``data/blotter.duckdb``); a new
  file is announced, a missing directory refused (``orchestration.warehouse_file``).
- ``BLOTTER_SOURCE``: ``demo`` (default, the local replay API), a source profile name
  (``buffalo``, ``chicago``, ``sf``: the real portal) or a SODA resource URL
  ``https://host/resource/<dataset>.json`` whose dataset has a profile (``URL#<profile>`` picks
  one, e.g. for a file served by ``blotter demo-api --from-file``).
- ``BLOTTER_START_DATE``: first day of the initial backfill (ISO date, default 2023-01-01).
- ``BLOTTER_SOCRATA_APP_TOKEN``: Socrata app token (secret: never logged or printed).
- ``BLOTTER_DEMO_FAULTS``: comma-separated faults the replay API injects (see ``demo-api``).
- ``BLOTTER_TARGET``: dbt target, ``dev`` (default), ``ci`` or ``prod``.
- ``BLOTTER_NOTIFY_WEBHOOK``: Slack-compatible webhook for run notifications (secret; URL
  credentials are sent as basic auth).
- ``BLOTTER_PSEUDONYM_KEY``: key of the case-number pseudonym (secret; prod refuses the default;
  a change is refused until ``blotter rekey``).
- ``BLOTTER_GCP_PROJECT``, ``BLOTTER_BQ_DATASET_PREFIX``, ``BLOTTER_BQ_LOCATION``,
  ``BLOTTER_BQ_AUTH_METHOD``, ``BLOTTER_BQ_KEYFILE``, ``BLOTTER_BQ_API_ENDPOINT``: BigQuery.

Any other ``BLOTTER_*`` variable is an error: a typo must not silently fall back to a default.

:class:`Settings` is a pydantic-settings model: secrets are ``SecretStr`` (``**********`` in any
repr or log; callers take ``.get_secret_value()`` where they need the value). ``Settings(...)``
holds exactly what it is given; :func:`load_settings` reads the environment and ``.env`` through
pydantic-settings' sources and turns any invalid value into one :class:`SettingsError` line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import AliasGenerator, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from replay.faults import FAULT_NAMES

# The replay API owns the fault names; settings only validates them.
DEMO_FAULTS = FAULT_NAMES
DEV_PSEUDONYM_KEY = "blotter-dev-pseudonym-key"
DEFAULT_DUCKDB_PATH = Path("data/blotter.duckdb")
TARGETS = ("dev", "ci", "prod")
LOG_FORMATS = ("text", "json")
PREFIX = "BLOTTER_"
SECRETS = {"BLOTTER_SOCRATA_APP_TOKEN", "BLOTTER_NOTIFY_WEBHOOK", "BLOTTER_PSEUDONYM_KEY"}


class SettingsError(ValueError):
    """A setting is unknown or invalid; the message names it and says what is accepted."""


def _env_name(field: str) -> str:
    return PREFIX + field.upper()


class Settings(BaseSettings):
    """Validated configuration for one Blotter process (attribute ``x`` is ``BLOTTER_X``)."""

    model_config = SettingsConfigDict(
        # Every field's env name is its alias (exact case, like the shell); attributes by name.
        alias_generator=AliasGenerator(validation_alias=_env_name),
        populate_by_name=True,
        case_sensitive=True,
        env_ignore_empty=True,  # BLOTTER_X= means "not set", as before
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,  # a validation error must not echo a secret
    )

    duckdb_path: Path = DEFAULT_DUCKDB_PATH
    source: str = "demo"
    start_date: date = date(2023, 1, 1)
    app_token: SecretStr | None = Field(default=None, validation_alias="BLOTTER_SOCRATA_APP_TOKEN")
    demo_faults: Annotated[tuple[str, ...], NoDecode] = ()
    target: str = "dev"
    notify_webhook: SecretStr | None = None
    pseudonym_key: SecretStr = SecretStr(DEV_PSEUDONYM_KEY)
    gcp_project: str | None = None
    bq_dataset_prefix: str = ""
    bq_location: str = "US"
    bq_auth_method: str = "oauth"
    bq_keyfile: str | None = None  # a path, not a secret
    bq_api_endpoint: str | None = None
    log_format: str = "text"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the given values: :func:`load_settings` adds the environment and ``.env``."""
        return (init_settings,)

    @field_validator("source", mode="before")
    @classmethod
    def _known_source(cls, value: Any) -> Any:
        if isinstance(value, str):
            check_source(value)
        return value

    @field_validator("start_date", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        return parse_date("BLOTTER_START_DATE", value) if isinstance(value, str) else value

    @field_validator("demo_faults", mode="before")
    @classmethod
    def _fault_list(cls, value: Any) -> Any:
        return parse_faults(value) if isinstance(value, str) else value

    @field_validator("target", mode="before")
    @classmethod
    def _known_target(cls, value: Any) -> Any:
        if value not in TARGETS:
            raise ValueError(f"BLOTTER_TARGET={value!r} is not one of {', '.join(TARGETS)}")
        return value

    @field_validator("notify_webhook", mode="before")
    @classmethod
    def _http_url(cls, value: Any) -> Any:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if raw is not None and not str(raw).startswith(("http://", "https://")):
            raise ValueError("BLOTTER_NOTIFY_WEBHOOK must be an http(s) URL")
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _known_format(cls, value: Any) -> Any:
        if value not in LOG_FORMATS:
            raise ValueError(f"BLOTTER_LOG_FORMAT={value!r} is not 'text' or 'json'")
        return value

    @property
    def source_url(self) -> str | None:
        """The SODA resource URL (``URL#<profile>`` kept), or None for the in-process replay API."""
        if self.source == "demo":
            return None
        if self.source.startswith(("http://", "https://")):
            return self.source
        from ingestion.profiles import load_profile

        return load_profile(self.source).url  # a name: the profile's portal (checked at load)

    @property
    def uses_dev_pseudonym_key(self) -> bool:
        """True when no key was configured (prod refuses the development key)."""
        return self.pseudonym_key.get_secret_value() == DEV_PSEUDONYM_KEY

    def secrets(self) -> list[str]:
        """Values that must never appear in logs, whether they came from the environment or
        ``.env``: the token, the webhook URL and its password, the pseudonym key."""
        wrapped = (self.app_token, self.notify_webhook, self.pseudonym_key)
        values = [s.get_secret_value() for s in wrapped if s and s.get_secret_value()]
        webhook = self.notify_webhook.get_secret_value() if self.notify_webhook else ""
        if webhook and (password := urlsplit(webhook).password):
            values.append(password)
        return values


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    """Values that must never appear in logs (used by the log redactor)."""
    env = os.environ if env is None else env
    return [env[k] for k in SECRETS if env.get(k)]


def check_source(value: str) -> None:
    """Refuse a source without a profile, or a profile without a portal URL (one line)."""
    from ingestion.profiles import ProfileError, load_profile

    try:
        profile = load_profile(value)  # a source needs a profile (ingestion/profiles/*.yml)
    except ProfileError as exc:
        raise ValueError(f"BLOTTER_SOURCE={value!r}: {exc}") from None
    if value != "demo" and profile.url is None:
        raise ValueError(
            f"BLOTTER_SOURCE={value!r}: profile {value} has no portal URL; serve a file with "
            f"`blotter demo-api --from-file PATH --profile {value}` and use the URL it prints"
        )


def parse_faults(raw: str) -> tuple[str, ...]:
    """Parse a comma-separated fault list, rejecting unknown names."""
    faults = tuple(f.strip() for f in raw.split(",") if f.strip())
    unknown = [f for f in faults if f not in DEMO_FAULTS]
    if unknown:
        raise SettingsError(
            f"unknown demo fault(s) {', '.join(unknown)}; choose from {', '.join(DEMO_FAULTS)}"
        )
    return faults


def parse_date(name: str, raw: str) -> date:
    """``raw`` as an ISO date, or a :class:`SettingsError` naming ``name``."""
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a date; use YYYY-MM-DD") from None


class _Environment(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping (the process's by default)."""

    def __init__(self, environ: Mapping[str, str] | None) -> None:
        self._environ = os.environ if environ is None else environ
        super().__init__(Settings)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )


# Every BLOTTER_* name Settings reads (its fields' aliases).
KNOWN = frozenset(
    str(info.validation_alias or _env_name(name)) for name, info in Settings.model_fields.items()
)
# BLOTTER_* names the tests and benchmarks read (README): an operator who exports one to run
# them must still be able to run the CLI, and a misspelling of one is still refused.
NOT_SETTINGS = frozenset({"BLOTTER_REAL_DATA_DIR"})


def load_settings(
    env: Mapping[str, str] | None = None,
    dotenv: Path | None = Path(".env"),
    overrides: Mapping[str, str] | None = None,
) -> Settings:
    """Build Settings from ``.env`` (if present), overlaid by ``env`` (default: the process
    environment), overlaid by ``overrides`` (``BLOTTER_*`` names, e.g. a command-line option).

    Raises:
        SettingsError: on an unknown ``BLOTTER_*`` name or an invalid value (one line).
    """
    environ = os.environ if env is None else env
    overrides = overrides or {}
    from_file: dict[str, Any] = {}
    names = {k for k in environ if k.startswith(PREFIX)} | set(overrides)
    if dotenv is not None and dotenv.is_file():
        names |= {k for k in dotenv_values(dotenv) if k.startswith(PREFIX)}
        # A shared .env may hold other tools' names (GOOGLE_..., DBT_...): only ours are read.
        from_file = {
            k: v for k, v in DotEnvSettingsSource(Settings, env_file=dotenv)().items() if k in KNOWN
        }
    unknown = sorted(names - KNOWN - NOT_SETTINGS)
    if unknown:
        raise SettingsError(
            f"unknown setting {unknown[0]}; known settings are {', '.join(sorted(KNOWN))}"
        )
    given = {k: v for k, v in overrides.items() if v}
    try:
        return Settings(**{**from_file, **_Environment(environ)(), **given})
    except ValidationError as exc:
        raise SettingsError(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    """The first problem of a validation error, as the operator reads it."""
    first = exc.errors(include_url=False)[0]
    if isinstance(error := first.get("ctx", {}).get("error"), ValueError):
        return str(error)  # our validators' messages already name the setting
    name = str(first["loc"][0]) if first["loc"] else "setting"
    name = name if name.startswith(PREFIX) else _env_name(name)
    return f"{name}: {first['msg']}"
