"""Raw landing on BigQuery: dlt's BigQuery destination, with the dataset prefix and emulator.

Use :func:`landing` as a context manager around ``ingest(..., destination=...)``. The dataset
prefix applies to the landing too (``<prefix>raw``, where dbt's ``socrata`` source looks):
dlt's ``DATASET_NAME_LAYOUT`` is set for the block. For an emulator endpoint it also points
google-cloud-bigquery at it (``BIGQUERY_EMULATOR_HOST``: dlt creates its clients without client
options, so the environment is the only route) and turns off load-file compression (emulators
cannot read gzipped JSONL). All are restored when the block exits (``engines.env``).

Environment variables read here: none; set for the block: ``BIGQUERY_EMULATOR_HOST``,
``DATA_WRITER__DISABLE_COMPRESSION``, ``DATASET_NAME_LAYOUT``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dlt

from engines.bigquery.target import BigQueryTarget, gcp_credentials
from engines.env import scoped_env

_EMULATOR_ENV = "BIGQUERY_EMULATOR_HOST"
_NO_COMPRESSION_ENV = "DATA_WRITER__DISABLE_COMPRESSION"
_LAYOUT_ENV = "DATASET_NAME_LAYOUT"


def bigquery_destination(target: BigQueryTarget) -> Any:
    """dlt's BigQuery destination for ``target`` (see :func:`landing` for emulators)."""
    return dlt.destinations.bigquery(credentials=gcp_credentials(target), location=target.location)


@contextmanager
def bigquery_endpoint(api_endpoint: str | None) -> Iterator[None]:
    """Point every google-cloud-bigquery client created in the block at ``api_endpoint``.

    Nothing changes when ``api_endpoint`` is None (the real BigQuery API).
    """
    if not api_endpoint:
        yield
        return
    with scoped_env({_EMULATOR_ENV: api_endpoint.rstrip("/"), _NO_COMPRESSION_ENV: "true"}):
        yield


@contextmanager
def landing(target: BigQueryTarget) -> Iterator[Any]:
    """The dlt destination for ``target``, with dataset naming and the endpoint set up."""
    layout = {_LAYOUT_ENV: target.dataset_prefix + "%s"} if target.dataset_prefix else {}
    with bigquery_endpoint(target.api_endpoint), scoped_env(layout):
        yield bigquery_destination(target)
