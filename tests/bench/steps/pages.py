"""Download the pages a backfill requests and save them as JSON files (the P1 reference input).

The query is built with the ingestion's own settings (``$where``, ``$order``, ``$limit``,
``$select``) so the saved pages hold exactly what the backfill reads. The bodies are written
as received: no parsing, so the time is the serving limit of the replay API plus HTTP.

Usage: ``python -m tests.bench.steps.pages --url URL --start 2015-01-01 --out DIR``
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import requests

from tests.bench.proc import emit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--start", type=date.fromisoformat, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--discard", action="store_true", help="count rows, keep no files")
    args = parser.parse_args()

    from ingestion.socrata.helpers import build_where
    from ingestion.socrata.settings import dataset_settings

    dataset = dataset_settings(args.url)
    params = {
        "$select": ":*,*",
        "$where": build_where(dataset, args.start),
        "$order": f"{dataset.cursor},{dataset.tiebreak}",
        "$limit": dataset.page_size,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    total_bytes = pages = rows = 0
    offset = 0
    with requests.Session() as session:
        while True:
            response = session.get(args.url, params={**params, "$offset": offset}, timeout=300)
            response.raise_for_status()
            body = response.content
            if body.strip() in (b"[]", b"[\n]"):
                break
            pages += 1
            total_bytes += len(body)
            # Every served record carries its key (no faults here): count rows without parsing.
            page_rows = body.count(b'"case_number"')
            rows += page_rows
            if not args.discard:
                (args.out / f"page-{pages:05d}.json").write_bytes(body)
            offset += dataset.page_size
            if page_rows < dataset.page_size:  # a short page is the last one
                break
    seconds = time.perf_counter() - started
    emit({"seconds": seconds, "pages": pages, "bytes": total_bytes, "rows": rows})


if __name__ == "__main__":
    main()
