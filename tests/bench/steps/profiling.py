"""Optional pyinstrument profiling of a step's measured section."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def maybe_profile(out: Path | None) -> Iterator[None]:
    """Profile the block with pyinstrument into ``out`` (.html and .txt) when ``out`` is set."""
    if out is None:
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.005)
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".html").write_text(profiler.output_html())
        if profiler.last_session is not None:  # re-render with `pyinstrument --load <file>`
            profiler.last_session.save(str(out.with_suffix(".pyisession")))
        out.with_suffix(".txt").write_text(
            profiler.output_text(unicode=True, color=False, show_all=False)
        )
