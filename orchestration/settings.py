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
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from replay.faults import FAULT_NAMES

# The replay API owns the fault names; settings only validates them.
DEMO_FAULTS = FAULT_NAMES
DEV_PSEUDONYM_KEY = "blotter-dev-pseudonym-key"
TARGETS = ("dev", "ci", "prod")

KNOWN = {
    "BLOTTER_DUCKDB_PATH",
    "BLOTTER_SOURCE",
    "BLOTTER_START_DATE",
    "BLOTTER_SOCRATA_APP_TOKEN",
    "BLOTTER_DEMO_FAULTS",
    "BLOTTER_TARGET",
    "BLOTTER_NOTIFY_WEBHOOK",
    "BLOTTER_PSEUDONYM_KEY",
    "BLOTTER_GCP_PROJECT",
    "BLOTTER_BQ_DATASET_PREFIX",
    "BLOTTER_BQ_LOCATION",
    "BLOTTER_BQ_AUTH_METHOD",
    "BLOTTER_BQ_KEYFILE",
    "BLOTTER_BQ_API_ENDPOINT",
    "BLOTTER_LOG_FORMAT",
}
SECRETS = {"BLOTTER_SOCRATA_APP_TOKEN", "BLOTTER_NOTIFY_WEBHOOK", "BLOTTER_PSEUDONYM_KEY"}


class SettingsError(ValueError):
    """A setting is unknown or invalid; the message names it and says what is accepted."""


@dataclass(frozen=True)
class Settings:
    """Validated configuration for one Blotter process."""

    duckdb_path: Path = Path("data/blotter.duckdb")
    source: str = "demo"
    start_date: date = date(2023, 1, 1)
    app_token: str | None = field(default=None, repr=False)
    demo_faults: tuple[str, ...] = ()
    target: str = "dev"
    notify_webhook: str | None = field(default=None, repr=False)
    pseudonym_key: str = field(default=DEV_PSEUDONYM_KEY, repr=False)
    gcp_project: str | None = None
    bq_dataset_prefix: str = ""
    bq_location: str = "US"
    bq_auth_method: str = "oauth"
    bq_keyfile: str | None = None
    bq_api_endpoint: str | None = None
    log_format: str = "text"

    @property
    def source_url(self) -> str | None:
        """The SODA resource URL (``URL#<profile>`` kept), or None for the in-process replay API."""
        if self.source == "demo":
            return None
        if self.source.startswith(("http://", "https://")):
            return self.source
        from ingestion.profiles import load_profile

        return load_profile(self.source).url  # a name: the profile's portal (checked at load)

    def secrets(self) -> list[str]:
        """Values that must never appear in logs, whether they came from the environment or
        ``.env``: the token, the webhook URL and its password, the pseudonym key."""
        values = [v for v in (self.app_token, self.notify_webhook, self.pseudonym_key) if v]
        if self.notify_webhook and (password := urlsplit(self.notify_webhook).password):
            values.append(password)
        return values


def secret_values(env: dict[str, str] | None = None) -> list[str]:
    """Values that must never appear in logs (used by the log redactor)."""
    env = dict(os.environ) if env is None else env
    return [env[k] for k in SECRETS if env.get(k)]


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
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a date; use YYYY-MM-DD") from None


def load_settings(
    env: dict[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> Settings:
    """Build Settings from ``.env`` (if present) overlaid by the process environment.

    Raises:
        SettingsError: on an unknown ``BLOTTER_*`` name or an invalid value.
    """
    merged: dict[str, str] = {}
    if dotenv is not None and dotenv.is_file():
        merged.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
    merged.update(dict(os.environ) if env is None else env)
    values = {k: v for k, v in merged.items() if k.startswith("BLOTTER_")}

    unknown = sorted(set(values) - KNOWN)
    if unknown:
        raise SettingsError(
            f"unknown setting {unknown[0]}; known settings are {', '.join(sorted(KNOWN))}"
        )
    kwargs: dict[str, object] = {}
    if v := values.get("BLOTTER_DUCKDB_PATH"):
        kwargs["duckdb_path"] = Path(v)
    if v := values.get("BLOTTER_SOURCE"):
        from ingestion.profiles import ProfileError, load_profile

        try:
            profile = load_profile(v)  # a source needs a profile (ingestion/profiles/*.yml)
        except ProfileError as exc:
            raise SettingsError(f"BLOTTER_SOURCE={v!r}: {exc}") from None
        if v != "demo" and profile.url is None:
            raise SettingsError(
                f"BLOTTER_SOURCE={v!r}: profile {v} has no portal URL; serve a file with "
                f"`blotter demo-api --from-file PATH --profile {v}` and use the URL it prints"
            )
        kwargs["source"] = v
    if v := values.get("BLOTTER_START_DATE"):
        kwargs["start_date"] = parse_date("BLOTTER_START_DATE", v)
    if v := values.get("BLOTTER_SOCRATA_APP_TOKEN"):
        kwargs["app_token"] = v
    if v := values.get("BLOTTER_DEMO_FAULTS"):
        kwargs["demo_faults"] = parse_faults(v)
    if v := values.get("BLOTTER_TARGET"):
        if v not in TARGETS:
            raise SettingsError(f"BLOTTER_TARGET={v!r} is not one of {', '.join(TARGETS)}")
        kwargs["target"] = v
    if v := values.get("BLOTTER_NOTIFY_WEBHOOK"):
        if not v.startswith(("http://", "https://")):
            raise SettingsError("BLOTTER_NOTIFY_WEBHOOK must be an http(s) URL")
        kwargs["notify_webhook"] = v
    if v := values.get("BLOTTER_PSEUDONYM_KEY"):
        kwargs["pseudonym_key"] = v
    if v := values.get("BLOTTER_LOG_FORMAT"):
        if v not in ("text", "json"):
            raise SettingsError(f"BLOTTER_LOG_FORMAT={v!r} is not 'text' or 'json'")
        kwargs["log_format"] = v
    for name, key in (
        ("BLOTTER_GCP_PROJECT", "gcp_project"),
        ("BLOTTER_BQ_DATASET_PREFIX", "bq_dataset_prefix"),
        ("BLOTTER_BQ_LOCATION", "bq_location"),
        ("BLOTTER_BQ_AUTH_METHOD", "bq_auth_method"),
        ("BLOTTER_BQ_KEYFILE", "bq_keyfile"),
        ("BLOTTER_BQ_API_ENDPOINT", "bq_api_endpoint"),
    ):
        if v := values.get(name):
            kwargs[key] = v
    return Settings(**kwargs)  # type: ignore[arg-type]
