"""Where raw landing goes: the dlt destination for a Blotter target.

``dev``/``ci`` land in the DuckDB file; ``prod`` lands in BigQuery. Library code: every value is
an explicit argument (orchestration builds :class:`BigQueryTarget` from the settings).

Use :func:`landing_destination` as a context manager around ``ingest(..., destination=...)``:
for an emulator endpoint it also points google-cloud-bigquery at it for the duration
(``BIGQUERY_EMULATOR_HOST``: dlt creates its BigQuery clients without client options, so the
environment is the only route) and turns off load-file compression (emulators cannot read
gzipped JSONL). Both are restored when the block exits.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt

AUTH_METHODS = ("oauth", "service-account")
RAW_DATASET = "raw"
_EMULATOR_ENV = "BIGQUERY_EMULATOR_HOST"
_NO_COMPRESSION_ENV = "DATA_WRITER__DISABLE_COMPRESSION"
_LAYOUT_ENV = "DATASET_NAME_LAYOUT"


class DestinationError(ValueError):
    """The target cannot be landed to as configured; the message says which setting to fix."""


@dataclass(frozen=True)
class BigQueryTarget:
    """A BigQuery project to land in and build on.

    Attributes:
        project: GCP project id (datasets and jobs live there).
        location: Dataset location, e.g. ``US`` or ``EU``.
        dataset_prefix: Prepended to every dataset (``<prefix>raw``, ``<prefix>marts`` ...).
        auth_method: ``oauth`` (application-default credentials, e.g. ``gcloud auth
            application-default login`` or workload identity) or ``service-account`` (a key file).
        keyfile: Service-account JSON key file (``service-account`` only).
        api_endpoint: Another BigQuery API endpoint, e.g. ``http://127.0.0.1:9050`` for a local
            emulator; credentials are then anonymous.
    """

    project: str
    location: str = "US"
    dataset_prefix: str = ""
    auth_method: str = "oauth"
    keyfile: str | None = None
    api_endpoint: str | None = None

    def __post_init__(self) -> None:
        if not self.project:
            raise DestinationError("BLOTTER_GCP_PROJECT is required for the prod target")
        if self.auth_method not in AUTH_METHODS:
            raise DestinationError(
                f"BLOTTER_BQ_AUTH_METHOD={self.auth_method!r} is not one of "
                f"{', '.join(AUTH_METHODS)}"
            )
        if self.auth_method == "service-account" and not self.api_endpoint:
            if not self.keyfile:
                raise DestinationError(
                    "BLOTTER_BQ_AUTH_METHOD=service-account needs BLOTTER_BQ_KEYFILE"
                )
            if not Path(self.keyfile).is_file():
                raise DestinationError(f"BLOTTER_BQ_KEYFILE {self.keyfile} is not a file")
        if not re.match(r"^[A-Za-z0-9_]*$", self.dataset_prefix):
            raise DestinationError(
                f"BLOTTER_BQ_DATASET_PREFIX={self.dataset_prefix!r} may only hold letters, "
                "digits and underscores"
            )
        if self.api_endpoint and not self.api_endpoint.startswith(("http://", "https://")):
            raise DestinationError("BLOTTER_BQ_API_ENDPOINT must be an http(s) URL")

    @property
    def raw_dataset(self) -> str:
        """The dataset dlt lands in (dbt's ``socrata`` source reads it)."""
        return self.dataset_prefix + RAW_DATASET

    def dataset(self, name: str) -> str:
        """Full dataset name of a Blotter schema, e.g. ``marts`` → ``<prefix>marts``."""
        return self.dataset_prefix + name


def gcp_credentials(target: BigQueryTarget) -> Any:
    """dlt credentials for ``target`` (a ``GcpServiceAccountCredentials``).

    An emulator gets Google's anonymous credentials (no token is ever fetched); ``oauth`` is
    left to resolve application-default credentials when dlt connects; ``service-account``
    reads the key file.
    """
    from dlt.common.configuration.specs import GcpServiceAccountCredentials
    from dlt.common.configuration.specs.gcp_credentials import GcpDefaultCredentials

    creds = GcpServiceAccountCredentials()
    creds.project_id = target.project
    if target.api_endpoint:
        from google.auth.credentials import AnonymousCredentials

        # The "default credentials" slot takes any google.auth credentials object.
        GcpDefaultCredentials.parse_native_representation(creds, AnonymousCredentials())
    elif target.auth_method == "service-account":
        assert target.keyfile is not None  # checked in BigQueryTarget
        try:
            info = json.loads(Path(target.keyfile).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DestinationError(
                f"BLOTTER_BQ_KEYFILE {target.keyfile} is not a readable JSON key: "
                f"{type(exc).__name__}"
            ) from None
        creds.parse_native_representation(json.dumps(info))
        creds.project_id = target.project
    return creds


def bigquery_destination(target: BigQueryTarget) -> Any:
    """dlt's BigQuery destination for ``target`` (see :func:`landing_destination` for emulators)."""
    return dlt.destinations.bigquery(credentials=gcp_credentials(target), location=target.location)


def bigquery_client(target: BigQueryTarget) -> Any:
    """A google-cloud-bigquery client for ``target`` (publish, ML reads and writes, tests)."""
    from google.cloud import bigquery

    options: dict[str, str] = {}
    credentials: Any = None
    if target.api_endpoint:
        from google.auth.credentials import AnonymousCredentials

        credentials = AnonymousCredentials()
        options["api_endpoint"] = target.api_endpoint.rstrip("/")
    elif target.auth_method == "service-account":
        from google.oauth2 import service_account

        credentials = service_account.Credentials.from_service_account_file(target.keyfile)
    # oauth: the client resolves application-default credentials itself.
    return bigquery.Client(
        project=target.project,
        credentials=credentials,
        location=target.location,
        client_options=options or None,
    )


def duckdb_destination(duckdb_path: Path) -> Any:
    """dlt's DuckDB destination writing into the warehouse file ``duckdb_path``."""
    return dlt.destinations.duckdb(str(duckdb_path))


@contextmanager
def _scoped_env(wanted: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the block, then restore what was there."""
    saved = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def bigquery_endpoint(api_endpoint: str | None) -> Iterator[None]:
    """Point every google-cloud-bigquery client created in the block at ``api_endpoint``.

    Nothing changes when ``api_endpoint`` is None (the real BigQuery API).
    """
    if not api_endpoint:
        yield
        return
    with _scoped_env({_EMULATOR_ENV: api_endpoint.rstrip("/"), _NO_COMPRESSION_ENV: "true"}):
        yield


def landing_state_dir(duckdb_path: Path) -> Path:
    """dlt's working directory for a warehouse: ``<dir>/dlt_pipelines/<stem>`` of its file.

    Kept next to the DuckDB file on every target (as before ingestion took it as an argument),
    so each warehouse has its own pipeline state.
    """
    return duckdb_path.parent / "dlt_pipelines" / duckdb_path.stem


@contextmanager
def landing_destination(
    target: str, duckdb_path: Path, bigquery: BigQueryTarget | None = None
) -> Iterator[Any]:
    """The dlt destination for a Blotter target, ready to pass to ``ingest``.

    On BigQuery the dataset prefix applies to the landing too (``<prefix>raw``, where dbt's
    ``socrata`` source looks): dlt's ``dataset_name_layout`` is set for the block, so pipelines
    created in it name their dataset ``<prefix><dataset_name>``.

    Args:
        target: ``dev``, ``ci`` (DuckDB) or ``prod`` (BigQuery).
        duckdb_path: The DuckDB warehouse file (dev/ci).
        bigquery: The BigQuery project (prod).

    Raises:
        DestinationError: for an unknown target or a prod target without BigQuery settings.
    """
    if target in ("dev", "ci"):
        yield duckdb_destination(duckdb_path)
        return
    if target != "prod":
        raise DestinationError(f"unknown target {target!r}; use dev, ci or prod")
    if bigquery is None:
        raise DestinationError("the prod target needs BLOTTER_GCP_PROJECT (BigQuery settings)")
    layout = {_LAYOUT_ENV: bigquery.dataset_prefix + "%s"} if bigquery.dataset_prefix else {}
    with bigquery_endpoint(bigquery.api_endpoint), _scoped_env(layout):
        yield bigquery_destination(bigquery)
