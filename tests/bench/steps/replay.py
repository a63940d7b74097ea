"""Serve the replay API at a given scale until terminated (the benchmark's data source).

Prints one JSON line ``{"url": ...}`` when the server listens, then sleeps until SIGTERM. Running
the server in its own process keeps its CPU out of the measured step's process (they still share
the machine's cores, as a real portal would not).

Usage: ``python -m tests.bench.steps.replay --as-of 2026-10-31 --scale 5.0 --start 2015-01-01``
"""

from __future__ import annotations

import argparse
import signal
import sys
from datetime import date

from tests.bench.proc import emit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as-of", type=date.fromisoformat, required=True)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2015, 1, 1))
    args = parser.parse_args()

    from replay.server import running_replay

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with running_replay(as_of=args.as_of, scale=args.scale, start=args.start) as url:
        emit({"url": url, "as_of": args.as_of, "scale": args.scale})
        signal.pause()


if __name__ == "__main__":
    main()
