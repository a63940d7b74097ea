"""A BigQuery project to land in and build on, checked once; its dlt credentials and client.

Every value is an explicit argument: orchestration passes the ``BLOTTER_GCP_PROJECT`` /
``BLOTTER_BQ_*`` settings to :func:`engines.engine_for`, which builds :class:`BigQueryTarget`.
Each mistake is one :class:`DestinationError` line naming the setting to fix.

Environment variables read here: none.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines.errors import DestinationError

AUTH_METHODS = ("oauth", "service-account")
RAW_DATASET = "raw"


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


def bigquery_client(target: BigQueryTarget) -> Any:
    """A google-cloud-bigquery client for ``target`` (publish, ML, key store, reader, tests)."""
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
