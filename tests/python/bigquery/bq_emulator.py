"""Start ``bqemulator`` (a local BigQuery: REST + gRPC over DuckDB) for the ``bigquery`` tests.

bqemulator needs DuckDB's ``spatial`` extension at startup and would download it; there is no
internet here, so :func:`install_spatial` installs it from the ``duckdb-extension-spatial`` wheel
(the same binary, shipped on PyPI) into DuckDB's extension directory first. Every missing piece
raises :class:`EmulatorUnavailable`: the tests fail, they never skip.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

PROJECT = "blotter-emulated"
STARTUP_SECONDS = 90
# Tables larger than this are read through the Storage Read API (see Emulator.read_table).
STORAGE_READ_ROWS = 1000


class EmulatorUnavailable(RuntimeError):
    """A prerequisite of the emulator is missing, or it did not become ready."""


@dataclass(frozen=True)
class Emulator:
    """A running emulator: its REST and gRPC endpoints and the project id the tests use."""

    endpoint: str
    project: str
    log_path: Path
    grpc_endpoint: str = ""  # host:port of the Storage Read API

    def client(self):  # -> google.cloud.bigquery.Client (imported lazily)
        """A google-cloud-bigquery client for this emulator (anonymous credentials)."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        return bigquery.Client(
            project=self.project,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": self.endpoint},
        )

    def read_table(self, table_id: str):  # -> pyarrow.Table
        """Every row of the table ``dataset.table`` (row order not kept), as Arrow.

        Tables over :data:`STORAGE_READ_ROWS` rows come through the Storage Read API (gRPC,
        Arrow batches), 3-5x faster here than the REST pages of JSON rows; smaller ones through
        REST, which is quicker below that size. Both give the same Arrow schema and values.
        """
        import grpc
        import pyarrow as pa
        from google.cloud.bigquery_storage_v1 import BigQueryReadClient
        from google.cloud.bigquery_storage_v1.services.big_query_read.transports import (
            BigQueryReadGrpcTransport,
        )

        client = self.client()
        table = client.get_table(f"{self.project}.{table_id}")
        if not self.grpc_endpoint or (table.num_rows or 0) <= STORAGE_READ_ROWS:
            return client.list_rows(table).to_arrow(create_bqstorage_client=False)
        # A batch of a wide table is larger than gRPC's default 4 MiB message.
        channel = grpc.insecure_channel(
            self.grpc_endpoint, options=[("grpc.max_receive_message_length", -1)]
        )
        reader = BigQueryReadClient(transport=BigQueryReadGrpcTransport(channel=channel))
        # Ten streams keep each message under the emulator's 11 MiB send limit.
        batches = list(
            client.list_rows(table).to_arrow_iterable(bqstorage_client=reader, max_stream_count=10)
        )
        channel.close()
        return pa.Table.from_batches(batches)


def install_spatial() -> Path:
    """Install DuckDB's spatial extension from the ``duckdb-extension-spatial`` wheel.

    Idempotent (``INSTALL`` of an installed extension is a no-op).

    Returns:
        The extension file that was installed.

    Raises:
        EmulatorUnavailable: when duckdb or the wheel is missing or of another version.
    """
    try:
        import duckdb
        import duckdb_extension_spatial
    except ImportError as exc:
        raise EmulatorUnavailable(
            f"{exc.name} is not installed: `make setup` installs duckdb and "
            "duckdb-extension-spatial (bqemulator needs both)"
        ) from None
    version = duckdb.__version__
    if not version.startswith("1.5."):
        raise EmulatorUnavailable(f"bqemulator needs duckdb 1.5.x, found {version}")
    path = (
        Path(duckdb_extension_spatial.__file__).parent
        / "extensions"
        / f"v{version}"
        / "spatial.duckdb_extension"
    )
    if not path.is_file():
        raise EmulatorUnavailable(
            f"duckdb-extension-spatial does not ship {path.name} for duckdb v{version}; "
            "install the duckdb-extension-spatial version equal to duckdb's"
        )
    with duckdb.connect() as con:
        # The path is a code-derived location, not data; DuckDB takes no parameter here.
        con.execute(f"INSTALL '{path.as_posix()}'")
        con.execute("LOAD spatial")
    return path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(endpoint: str, proc: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
            raise EmulatorUnavailable(
                f"bqemulator exited with {proc.returncode} at startup: " + " | ".join(tail)
            )
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{endpoint}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise EmulatorUnavailable(f"bqemulator not ready after {STARTUP_SECONDS}s (log: {log_path})")


@contextlib.contextmanager
def running_emulator(work_dir: Path, project: str = PROJECT) -> Iterator[Emulator]:
    """Run bqemulator in a child process on free loopback ports until the block exits.

    Persistent mode (a DuckDB file under ``work_dir``): its catalog sees tables created by SQL
    DDL, which dbt relies on (the ephemeral in-memory catalog only sees REST-created ones).
    """
    try:
        import bqemulator  # noqa: F401
    except ImportError:
        raise EmulatorUnavailable("bqemulator is not installed: run `make setup`") from None
    install_spatial()
    work_dir.mkdir(parents=True, exist_ok=True)
    rest, grpc = free_port(), free_port()
    endpoint = f"http://127.0.0.1:{rest}"
    log_path = work_dir / "bqemulator.log"
    env = {
        **os.environ,
        # Avro needs another download; Blotter never loads Avro.
        "BQEMU_ENABLE_FORMAT_EXTENSIONS": "false",
        "BQEMU_LOG_LEVEL": "warning",
    }
    # bqemulator's own command line, with its SQL parses memoised (bq_emulator_main.py).
    cmd = [
        sys.executable,
        str(Path(__file__).with_name("bq_emulator_main.py")),
        "start",
        "--rest-host=127.0.0.1",
        f"--rest-port={rest}",
        "--grpc-host=127.0.0.1",
        f"--grpc-port={grpc}",
        "--persistent",
        f"--data-dir={work_dir / 'data'}",
        f"--project={project}",
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_ready(endpoint, proc, log_path)
        yield Emulator(endpoint, project, log_path, grpc_endpoint=f"127.0.0.1:{grpc}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
