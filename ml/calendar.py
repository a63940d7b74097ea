"""Calendar features of each target period: weekday, day of year, month, US/NY holidays.

Weekly data gets no week number (f34). With one free value per ISO week, the gbm learnt a
week from the year or two its recency weight favours, and week 1 (the end of the integer
range) fell out of one split: one extreme week 1 (f30: the stress case's 2021-01-04) pulled
next year's week 1 down by ~0.7 of its dip. The weekly gbm sees the time of year through a
geography level's multi-year seasonal curve instead (``ml.smooth_season``).
"""

from __future__ import annotations

import holidays
import numpy as np
import pandas as pd

from ml.config import ForecastConfig


def calendar_features(
    dates: pd.DatetimeIndex, freq: str, config: ForecastConfig
) -> dict[str, np.ndarray]:
    """Calendar features of each target period (holidays from the configured calendar)."""
    years = range(int(dates.year.min()) - 1, int(dates.year.max()) + 2)
    cal = holidays.country_holidays(
        config.holiday_country, subdiv=config.holiday_subdiv, years=years
    )
    days = pd.DatetimeIndex(sorted(pd.Timestamp(d) for d in cal))
    month = dates.month.to_numpy(float)
    if freq == "daily":
        is_hol = dates.isin(days)
        near = dates.isin(days + pd.Timedelta(days=1)) | dates.isin(days - pd.Timedelta(days=1))
        return {
            "dow": dates.day_of_week.to_numpy(float),
            "month": month,
            "day_of_year_4": (dates.day_of_year.to_numpy() // 4).astype(float),
            "holiday": is_hol.astype(float),
            "near_holiday": near.astype(float),
        }
    if freq == "weekly":
        n_hol = np.zeros(len(dates))
        for k in range(7):
            n_hol += (dates + pd.Timedelta(days=k)).isin(days)
        return {"month": month, "holidays_in_period": n_hol}
    return {"month": month, "days_in_month": dates.days_in_month.to_numpy(float)}
