"""`make bench-forecast`'s year-ahead origins (issue 14): enough of them, each year held out once.

Blocks of different origins count as independent in the uncertainty columns, so two origins'
held-out years must not overlap; each must lie inside the data the case really has.
"""

from __future__ import annotations

import pandas as pd
import pytest

from ml.panel import build_panel
from tests.bench import forecast_data
from tests.bench.forecast_data import YEAR, Case

# The origins each case had before f29: kept, so the earlier entries stay comparable.
KEPT = {
    "replay city": ["2024-06-29", "2024-06-24", "2024-06-01"],
    "Chicago homicides": ["2021-06-28", "2022-06-27", "2021-06-01", "2022-06-01"],
    "stress": ["2022-12-26", "2023-12-25", "2022-12-01", "2023-12-01"],
}
# Origins per frequency each case now has (f29: enough blocks to decide its cells).
COUNT = {"replay city": 3, "Chicago homicides": 4, "stress": 3}


def _cases() -> list[Case]:
    return [forecast_data.replay_city(), forecast_data.chicago(), *forecast_data.stress_cases()]


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return _cases()


def _kind(case: Case) -> str:
    return "stress" if case.name.startswith("stress") else case.name


def held_out(case: Case, freq: str) -> list[pd.DatetimeIndex]:
    """Each origin's held-out periods, indexed as ``forecast_eval.one_origin`` indexes them."""
    periods = build_panel(case.counts, freq).periods
    out = []
    for origin in case.origins[freq]:
        idx = int(periods.get_loc(origin))  # KeyError: the origin is not a period of the data
        out.append(periods[idx + 1 : idx + 1 + YEAR[freq]])
    return out


def test_every_held_out_year_is_whole_inside_the_data_and_disjoint(cases: list[Case]) -> None:
    for case in cases:
        for freq, origins in case.origins.items():
            where = f"{case.name} {freq}"
            assert origins == sorted(origins), where
            assert len(origins) == COUNT[_kind(case)], where
            years = held_out(case, freq)
            for origin, year in zip(origins, years, strict=True):
                # A whole year of complete periods after the origin (none cut off by the end).
                assert len(year) == YEAR[freq], f"{where} {origin:%Y-%m-%d}: {len(year)} periods"
                assert year[0] > origin, where
                # No gap in the data: a year of periods spans at most 366 days after the origin.
                assert (year[-1] - origin).days <= 366, f"{where} {origin:%Y-%m-%d}"
            for earlier, later in zip(years, years[1:], strict=False):
                assert earlier[-1] < later[0], f"{where}: held-out years overlap"


def test_origins_are_aligned_across_frequencies_and_the_old_ones_kept(cases: list[Case]) -> None:
    for case in cases:
        by_freq = case.origins
        assert {origin.strftime("%Y-%m-%d") for o in by_freq.values() for origin in o} >= set(
            KEPT[_kind(case)]
        ), case.name
        months = {freq: [o.to_period("M") for o in origins] for freq, origins in by_freq.items()}
        assert len({tuple(m) for m in months.values()}) == 1, f"{case.name}: {months}"
        for origin in by_freq.get("weekly", []):
            assert origin.day_of_week == 0, f"{case.name}: weekly origin {origin} not a Monday"
            # The week holding the month's last Monday (its next Monday is in the next month).
            assert (origin + pd.Timedelta(days=7)).month != origin.month, case.name
        for origin in by_freq.get("monthly", []):
            assert origin.day == 1, case.name


def test_daily_held_out_years_touch_but_never_share_a_day() -> None:
    """The replay city's daily hold-outs tile its last three years exactly (366 days each)."""
    case = forecast_data.replay_city()
    years = held_out(case, "daily")
    days = pd.DatetimeIndex([d for year in years for d in year])
    assert len(days) == 3 * 366 and days.is_unique
    assert days.max() == pd.Timestamp("2025-06-30")
    assert (days[1:] - days[:-1] == pd.Timedelta(days=1)).all()
