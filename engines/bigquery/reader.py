"""The read-only :class:`engines.reader.Reader` on BigQuery datasets (google-cloud-bigquery).

Blotter's schema ``marts`` is the dataset ``<dataset_prefix>marts`` of ``project``. Sessions are
cheap (the client is shared): each query is one job in ``location``. Reader SQL binds ``$name``
parameters; they become BigQuery named parameters (``@name``) typed from the Python value.
Results come back through Arrow with DuckDB's own pandas conversion, so a frame has the dtypes
the DuckDB reader gives for the same rows.

Environment variables read here: none (the client and names are passed in).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from engines.reader import PARAMETER, QueryFailed, WarehouseUnavailable, first_line


def _quoted(*parts: str) -> str:
    """```project`.`dataset`.`table```: each part quoted (plain GoogleSQL)."""
    return ".".join("`" + part.replace("`", "") + "`" for part in parts)


def _parameter(name: str, value: Any) -> Any:  # -> bigquery.ScalarQueryParameter
    """A typed named parameter; ``None`` has no type, so it is refused."""
    from google.cloud import bigquery

    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()  # numpy scalars
    if isinstance(value, bool):
        kind = "BOOL"
    elif isinstance(value, int):
        kind = "INT64"
    elif isinstance(value, float):
        kind = "FLOAT64"
    elif isinstance(value, str):
        kind = "STRING"
    elif isinstance(value, datetime):
        kind = "TIMESTAMP" if value.tzinfo else "DATETIME"
    elif isinstance(value, date):
        kind = "DATE"
    else:
        raise TypeError(f"parameter ${name}: cannot bind {type(value).__name__} ({value!r})")
    return bigquery.ScalarQueryParameter(name, kind, value)


def _frame(table: pa.Table) -> pd.DataFrame:
    """Arrow → pandas with DuckDB's conversion (the dtypes ``DuckDBReader`` gives)."""
    with duckdb.connect() as con:
        return con.from_arrow(table).df()


class BigQuerySession:
    """:class:`engines.reader.Session` on the datasets of one project and prefix."""

    def __init__(self, reader: BigQueryReader) -> None:
        self._reader = reader
        self._columns: dict[tuple[str, str], list[str] | None] = {}

    def rel(self, schema: str, table: str) -> str:
        """`` `project`.`<prefix><schema>`.`table` ``."""
        r = self._reader
        return _quoted(r.project, r.dataset_prefix + schema, table)

    def columns(self, schema: str, table: str) -> list[str] | None:
        """Column names of the published ``schema.table``, or None when it does not exist."""
        from google.api_core import exceptions

        key = (schema, table)
        if key not in self._columns:
            r = self._reader
            try:
                found = r.client.get_table(f"{r.project}.{r.dataset_prefix}{schema}.{table}")
                self._columns[key] = [field.name for field in found.schema]
            except exceptions.NotFound:
                self._columns[key] = None
            except Exception as exc:  # noqa: BLE001 - auth, network: the warehouse is unreadable
                raise WarehouseUnavailable(f"cannot read {r.label}: {first_line(exc)}") from exc
        return self._columns[key]

    def df(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Run one query job; ``$name`` parameters are bound as ``@name``."""
        from google.api_core import exceptions
        from google.cloud import bigquery

        params = dict(params or {})
        used = set(PARAMETER.findall(sql))
        missing = used - params.keys()
        if missing:
            raise QueryFailed(f"no value for parameter(s) {', '.join(sorted(missing))}")
        config = bigquery.QueryJobConfig(
            query_parameters=[_parameter(name, params[name]) for name in sorted(used)]
        )
        r = self._reader
        try:
            job = r.client.query(PARAMETER.sub(r"@\1", sql), job_config=config, location=r.location)
            return _frame(job.to_arrow(create_bqstorage_client=False))
        except (exceptions.BadRequest, exceptions.NotFound) as exc:
            raise QueryFailed(first_line(exc)) from exc
        except Exception as exc:  # noqa: BLE001 - auth, network, 5xx: the warehouse is unreadable
            raise WarehouseUnavailable(f"cannot read {r.label}: {first_line(exc)}") from exc


class BigQueryReader:
    """Read-only sessions on the published datasets ``<dataset_prefix><schema>`` of a project.

    Args:
        client: a ``google.cloud.bigquery.Client`` (credentials and endpoint already set).
        project: the project holding the datasets.
        dataset_prefix: put in front of every schema name (``blotter_``).
        location: where the query jobs run (the datasets' location).
    """

    def __init__(self, client: Any, project: str, dataset_prefix: str, location: str) -> None:
        self.client = client
        self.project = project
        self.dataset_prefix = dataset_prefix
        self.location = location
        self.label = f"bigquery://{project}/{dataset_prefix}*"

    @contextmanager
    def session(self) -> Iterator[BigQuerySession]:
        """A session (no connection to hold: each query is its own job)."""
        yield BigQuerySession(self)

    def writer_active(self) -> bool | None:
        """None: the run lock is a file on the runner, not visible from here."""
        return None
