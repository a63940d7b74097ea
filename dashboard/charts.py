"""Altair charts. Everything renders offline: no map tiles, no remote data or fonts."""

from __future__ import annotations

import altair as alt
import pandas as pd

ACTUAL = "#1f3b57"
FORECAST = "#d1495b"
LAST_YEAR = "#9aa5b1"


def forecast_chart(actuals: pd.DataFrame, forecasts: pd.DataFrame, title: str) -> alt.LayerChart:
    """Actual counts as a line, the latest forecast as a dashed line inside its 80%/95% bands."""
    layers: list[alt.Chart] = []
    x = alt.X("period_start:T", title=None)
    if not forecasts.empty:
        base = alt.Chart(forecasts).encode(x=x)
        tooltip = [
            alt.Tooltip("period_start:T", title="Period"),
            alt.Tooltip("yhat:Q", title="Forecast", format=".1f"),
            alt.Tooltip("yhat_lower_80:Q", title="80% low", format=".1f"),
            alt.Tooltip("yhat_upper_80:Q", title="80% high", format=".1f"),
            alt.Tooltip("yhat_lower_95:Q", title="95% low", format=".1f"),
            alt.Tooltip("yhat_upper_95:Q", title="95% high", format=".1f"),
        ]
        layers += [
            base.mark_area(color=FORECAST, opacity=0.15).encode(
                y=alt.Y("yhat_lower_95:Q", title="Incidents"), y2="yhat_upper_95:Q"
            ),
            base.mark_area(color=FORECAST, opacity=0.3).encode(
                y="yhat_lower_80:Q", y2="yhat_upper_80:Q"
            ),
            base.mark_line(
                color=FORECAST, strokeDash=[6, 3], point=alt.OverlayMarkDef(color=FORECAST)
            ).encode(y="yhat:Q", tooltip=tooltip),
        ]
    if not actuals.empty:
        complete = actuals["is_complete_period"].fillna(True).astype(bool)
        data = actuals.assign(status=complete.map({True: "complete", False: "partial so far"}))
        base = alt.Chart(data).encode(x=x)
        tooltip = [
            alt.Tooltip("period_start:T", title="Period"),
            alt.Tooltip("incidents:Q", title="Actual"),
            alt.Tooltip("status:N", title="Period is"),
        ]
        # The current period is still filling up: a hollow point, not a cliff in the line.
        layers += [
            base.transform_filter("datum.status == 'complete'")
            .mark_line(color=ACTUAL)
            .encode(y=alt.Y("incidents:Q", title="Incidents")),
            base.transform_filter("datum.status == 'complete'")
            .mark_circle(color=ACTUAL, size=30)
            .encode(y="incidents:Q", tooltip=tooltip),
            base.transform_filter("datum.status != 'complete'")
            .mark_point(color=ACTUAL, size=40, filled=False)
            .encode(y="incidents:Q", tooltip=tooltip),
        ]
    return alt.layer(*layers).properties(title=title, height=320).interactive(bind_y=False)


def types_chart(types: pd.DataFrame) -> alt.LayerChart:
    """Incidents by type in the last 30 days (bars) against the same 30 days last year (ticks)."""
    order = alt.SortField("recent", order="descending")
    y = alt.Y("incident_type:N", title=None, sort=order)
    tooltip = [
        alt.Tooltip("incident_type:N", title="Type"),
        alt.Tooltip("recent:Q", title="Last 30 days"),
        alt.Tooltip("last_year:Q", title="Same days last year"),
    ]
    base = alt.Chart(types).encode(y=y, tooltip=tooltip)
    bars = base.mark_bar(color=ACTUAL).encode(x=alt.X("recent:Q", title="Incidents"))
    ticks = base.mark_tick(color=LAST_YEAR, thickness=3, size=18).encode(x="last_year:Q")
    return alt.layer(bars, ticks).properties(height=max(180, 36 * len(types)))


def map_chart(points: pd.DataFrame) -> alt.Chart:
    """Recent incidents on their generalised (~100 m) grid cells, without any base map."""
    return (
        alt.Chart(points)
        .mark_circle(opacity=0.6)
        .encode(
            longitude="longitude:Q",
            latitude="latitude:Q",
            size=alt.Size(
                "incidents:Q",
                scale=alt.Scale(range=[12, 200]),
                legend=alt.Legend(title="Incidents", format="d", tickMinStep=1),
            ),
            color=alt.Color("incident_type:N", title="Type", scale=alt.Scale(scheme="tableau10")),
            tooltip=[
                alt.Tooltip("incident_type:N", title="Type"),
                alt.Tooltip("incidents:Q", title="Incidents"),
                alt.Tooltip("latitude:Q", format=".3f"),
                alt.Tooltip("longitude:Q", format=".3f"),
            ],
        )
        .project(type="mercator")
        .properties(height=420)
    )
