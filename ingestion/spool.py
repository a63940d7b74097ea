"""A fetch's validated pages on disk, written once as the parquet files the load reads.

Each page is appended, while the fetch goes on, to an open parquet file as one row group. The
files are what dlt then loads as they are (``dlt.mark.with_file_import``), where the pages used
to be spooled as Arrow IPC, read back after the fetch and written again by dlt's extract: that
read and write was the single-threaded tail between the last page and the insert.

A page whose columns are the open file's in another order (a first record without a field lists
it later) is written in the file's order; one with other columns or types (drift) starts a new
file. Each page keeps its own column order for what depends on it: duplicates' payloads and the
column order dlt infers (:meth:`PageSpool.landing_schema`). Rows superseded later in the fetch
are taken out by rewriting only the files that hold them (:meth:`PageSpool.drop`).

Environment variables read here: none.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

# The files are read once, whole, by the insert: no statistics (nothing filters on them) and no
# dictionaries (one write of 1M rows 1.0-1.1 -> 0.6-0.7 CPU s, the same insert; 130 MiB of disk
# instead of 87 until the load, against ~700 MiB for the Arrow IPC spool before).
WRITE_OPTIONS = {"use_dictionary": False, "write_statistics": False}


@dataclass
class SpooledPage:
    """Where one page went.

    Attributes:
        file: Index of its file in :attr:`PageSpool.files`.
        group: Its row group in that file (None: it had no row, nothing was written).
        rows: Its rows (after :meth:`PageSpool.drop`: the rows left).
        schema: The page's own schema, columns in its own order.
    """

    file: int
    group: int | None
    rows: int
    schema: pa.Schema


class PageSpool:
    """Parquet files of the pages in ``workdir``; one row group per page, pages in fetch order."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.files: list[Path] = []
        self.pages: list[SpooledPage] = []
        self._writer: pq.ParquetWriter | None = None
        self._groups = 0  # row groups written to the open file

    def add(self, table: pa.Table) -> None:
        """Append one page (possibly empty: it is recorded, nothing is written)."""
        if not table.num_rows:
            self.pages.append(SpooledPage(max(len(self.files) - 1, 0), None, 0, table.schema))
            return
        if self._writer is not None and not _same_columns(table.schema, self._writer.schema):
            self.finish()
        if self._writer is None:
            path = self.workdir / f"pages-{len(self.files):04d}.parquet"
            self._writer = pq.ParquetWriter(str(path), table.schema, **WRITE_OPTIONS)
            self.files.append(path)
            self._groups = 0
        ordered = table.select(self._writer.schema.names)
        # One row group per page, so a page is read back (or rewritten) on its own.
        self._writer.write_table(ordered, row_group_size=table.num_rows)
        spooled = SpooledPage(len(self.files) - 1, self._groups, table.num_rows, table.schema)
        self.pages.append(spooled)
        self._groups += 1

    def finish(self) -> None:
        """Close the open file (its footer is written): the files can be read (idempotent)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def page(self, page_no: int) -> pa.Table:
        """One written page, columns in its own order (after :meth:`finish`)."""
        spooled = self.pages[page_no]
        if spooled.group is None:
            return spooled.schema.empty_table()
        # One thread: threaded decoding frees its scratch buffers later, on the pool's threads,
        # so a second page's worth could still be held when the next page is read.
        with pq.ParquetFile(str(self.files[spooled.file]), memory_map=True) as reader:
            table = reader.read_row_group(spooled.group, use_threads=False)
        return table.select(spooled.schema.names)

    def drop(self, losers: dict[int, list[int]], taken: Callable[[int, pa.Table], None]) -> None:
        """Rewrite the files holding ``losers`` (page -> rows) without them.

        ``taken(page_no, rows)`` receives each page's dropped rows (its own column order) before
        its file is replaced; files without losers are not touched.
        """
        self.finish()
        by_file: dict[int, list[int]] = {}
        for page_no in losers:
            by_file.setdefault(self.pages[page_no].file, []).append(page_no)
        for file_no in sorted(by_file):
            self._rewrite(file_no, losers, taken)

    def _rewrite(
        self, file_no: int, losers: dict[int, list[int]], taken: Callable[[int, pa.Table], None]
    ) -> None:
        path = self.files[file_no]
        fresh = path.with_suffix(".rewrite")
        reader = pq.ParquetFile(str(path), memory_map=True)
        groups = 0
        with pq.ParquetWriter(str(fresh), reader.schema_arrow, **WRITE_OPTIONS) as writer:
            for page_no, spooled in enumerate(self.pages):
                if spooled.file != file_no or spooled.group is None:
                    continue
                table = reader.read_row_group(spooled.group, use_threads=False)
                rows = losers.get(page_no)
                if rows:
                    taken(page_no, table.take(rows).select(spooled.schema.names))
                    mask = np.ones(table.num_rows, dtype=bool)
                    mask[rows] = False
                    table = table.filter(pa.array(mask))
                spooled.rows = table.num_rows
                spooled.group = None
                if table.num_rows:
                    writer.write_table(table, row_group_size=table.num_rows)
                    spooled.group = groups
                    groups += 1
        del reader
        os.replace(fresh, path)

    def written(self) -> Iterator[tuple[Path, int]]:
        """Each file holding rows and its row count (after :meth:`finish` / :meth:`drop`)."""
        self.finish()
        for file_no, path in enumerate(self.files):
            rows = sum(p.rows for p in self.pages if p.file == file_no and p.group is not None)
            if rows:
                yield path, rows

    def landing_schema(self) -> pa.Schema:
        """Every column of the pages that kept a row, in the order dlt met them before: pages
        were handed on last first, and each page's new columns came after the known ones."""
        fields: dict[str, pa.Field] = {}
        for spooled in reversed(self.pages):
            if spooled.rows:
                for column in spooled.schema:
                    fields.setdefault(column.name, column)
        return pa.schema(list(fields.values()))


def _same_columns(schema: pa.Schema, written: pa.Schema) -> bool:
    """``schema`` holds exactly ``written``'s columns (names, types, nullability), any order."""
    if len(schema) != len(written) or set(schema.names) != set(written.names):
        return False
    return all(schema.field(name).equals(written.field(name)) for name in written.names)
