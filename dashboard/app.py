"""Blotter dashboard: incidents, forecasts and run health from the published marts.

Start it with ``blotter dashboard`` (or ``make dashboard``).

Environment variables read here:

- ``BLOTTER_DUCKDB_PATH``: the DuckDB warehouse file (default ``data/blotter.duckdb``;
  ``blotter dashboard`` passes the configured path).
- ``BLOTTER_TARGET`` and the other ``BLOTTER_*`` settings: which engine's reader serves the page
  (``blotter dashboard --target`` passes it).

The page reads published marts only, through a read-only reader (``engines/reader.py``) with
short-lived sessions; while a run holds the warehouse the page keeps showing the last results it
read.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st  # noqa: E402

from dashboard import components, status  # noqa: E402
from dashboard.area import AreaView, load_area  # noqa: E402
from dashboard.overview import Overview, load_overview  # noqa: E402
from engines.reader import Reader, WarehouseBusy, WarehouseUnavailable  # noqa: E402
from ml.config import FREQS  # noqa: E402

# Seconds results are cached. The overview (run ledger, last day, areas) is cheap and re-read
# often; an area's data is keyed by the overview's version, so a publish shows at once.
OVERVIEW_TTL = 30
AREA_TTL = 600
DB_PATH = os.environ.get("BLOTTER_DUCKDB_PATH") or "data/blotter.duckdb"


@st.cache_resource
def _reader(path: str) -> Reader:
    """The read-only reader of the configured target's engine (``path``: the DuckDB file)."""
    from orchestration.session import engine_of  # noqa: PLC0415
    from orchestration.settings import load_settings  # noqa: PLC0415

    settings = load_settings(overrides={"BLOTTER_DUCKDB_PATH": path})
    return engine_of(settings).reader()


@st.cache_resource
def _last_good() -> dict[tuple, tuple[object, datetime]]:
    """Last successful result per query key, served while a run holds the write lock."""
    return {}


@st.cache_data(ttl=OVERVIEW_TTL, show_spinner=False)
def _overview(path: str) -> Overview:
    return load_overview(_reader(path))


@st.cache_data(ttl=AREA_TTL, show_spinner="Reading the warehouse…")
def _area(
    path: str, freq: str, level: str, geo: str, last_day: date | None, version: str
) -> AreaView:
    del version  # part of the cache key only: a new publish means new results
    return load_area(_reader(path), freq, level, geo, last_day)


def _fetch(key: tuple, loader, *args):  # noqa: ANN001, ANN202  (returns loader's type)
    """Call a cached loader; when the warehouse is busy fall back to the last good result."""
    store = _last_good()
    try:
        value = loader(*args)
    except WarehouseBusy as exc:
        if key in store:
            value, when = store[key]
            st.info(f"A run is writing the warehouse; showing results read at {when:%H:%M:%S} UTC.")
            return value
        st.title("Blotter")
        st.warning(f"{exc}. This page will show data as soon as the run releases the file.")
        st.stop()
    except WarehouseUnavailable as exc:
        st.title("Blotter")
        components.empty(str(exc))
        st.stop()
    store.pop(key, None)
    store[key] = (value, datetime.now(UTC))
    while len(store) > 200:  # bounded: oldest results go first
        store.pop(next(iter(store)))
    return value


def _sidebar(overview: Overview) -> tuple[str, str, str]:
    """Level (the profile's, in its order), area and period chosen in the sidebar."""
    st.sidebar.header("Area")
    levels: list[str] = [level.name for level in overview.levels]
    labels = overview.labels
    # Options are never empty here (main() returns before without levels): never None.
    level = str(
        st.sidebar.selectbox("Geography level", levels, format_func=labels.__getitem__, key="level")
    )
    geo = str(st.sidebar.selectbox("Area", overview.geos[level], key=f"geo_{level}"))
    freq = str(
        st.sidebar.radio(
            "Period", FREQS, index=1, format_func=str.capitalize, key="freq", horizontal=True
        )
    )
    st.sidebar.caption(f"Warehouse: `{_reader(DB_PATH).label}`")
    return level, geo, freq


def main() -> None:
    """Render the page."""
    # No page_icon: Streamlit would fetch it from a CDN.
    st.set_page_config(page_title="Blotter", layout="wide")
    overview = _fetch(("overview", DB_PATH), _overview, DB_PATH)
    if not overview.levels:
        _without_areas(overview)
        return
    level, geo, freq = _sidebar(overview)
    label = overview.labels[level]
    key = (freq, level, geo, overview.last_data_day, overview.version)
    view = _fetch(("area", DB_PATH, *key), _area, DB_PATH, *key)

    st.title("Blotter: incidents and forecasts")
    components.banner(status.banner(overview.runs, overview.last_data_day))
    components.headlines(status.headlines(view.daily), view.daily, geo)

    with st.container(key="forecast"):  # CSS class st-key-forecast: a stable hook for tests
        components.forecast(view.actuals, view.forecasts, label, geo, freq)
    left, right = st.columns([3, 2])
    with left:
        components.incident_map(view.points, geo)
    with right:
        components.incident_types(view.types, geo)
    components.model(overview.models, view.forecasts, view.accuracy, view.live, label, geo, freq)
    components.serving(view.serving, overview.labels, freq)
    _footer(overview, view.notes)


def _without_areas(overview: Overview) -> None:
    """No geography published yet: the run status and what is missing, nothing to select."""
    st.title("Blotter: incidents and forecasts")
    components.banner(status.banner(overview.runs, overview.last_data_day))
    components.empty("No geography published yet (marts.dim_geography): nothing to show by area.")
    _footer(overview, [])


def _footer(overview: Overview, area_notes: list[str]) -> None:
    """Run history, data notes and the page's last element."""
    components.runs(overview.runs)
    notes = overview.notes + area_notes
    if notes:
        with st.expander(f"Data notes ({len(notes)})"):
            for note in notes:
                st.markdown(f"- {note}")
    with st.container(key="page_end"):  # the last element: tests wait for it
        st.caption(
            f"Rendered {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC. Run status is re-read every "
            f"{OVERVIEW_TTL} s, area data after each run."
        )


main()
