"""Altair charts. Everything renders offline: no map tiles, no remote data or fonts."""

from __future__ import annotations

import altair as alt
import pandas as pd

ACTUAL = "#1f3b57"
FORECAST = "#d1495b"
LAST_YEAR = "#9aa5b1"
SUPPRESSED = "#c2a878"


def forecast_chart(
    actuals: pd.DataFrame, forecasts: pd.DataFrame, title: str
) -> alt.LayerChart | alt.FacetChart:
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
        # The mart's flag alone decides; an unknown flag is not complete.
        complete = actuals["is_complete_period"].astype("boolean").fillna(False).astype(bool)
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


def type_labels(types: pd.DataFrame) -> pd.Series:
    """Bar labels that say when a count is (partly) suppressed, instead of showing a zero."""

    def label(row: pd.Series) -> str:
        if row["is_remainder"]:
            return str(row["incident_type"])
        if pd.isna(row["recent"]):
            return f"{row['incident_type']} (suppressed)"
        if row["recent_suppressed"]:
            weeks = int(row["recent_suppressed"])
            return f"{row['incident_type']} (+ {weeks} week{'s' * (weeks != 1)} suppressed)"
        return str(row["incident_type"])

    return types.apply(label, axis=1)


def types_chart(types: pd.DataFrame) -> alt.LayerChart | alt.FacetChart:
    """Incidents by type in the last complete weeks (bars) against the same weeks last year.

    Suppressed counts are labelled as such: a type whose every week is suppressed has no bar
    (its incidents are in the 'other (suppressed)' bar), never a bar of zero.
    """

    def shown(values: pd.Series, missing: str) -> pd.Series:
        return values.map(lambda v: missing if pd.isna(v) else f"{int(v):,}")

    data = types.assign(
        label=type_labels(types),
        recent_shown=shown(types["recent"], "suppressed"),
        last_year_shown=shown(types["last_year"], "–"),
    )
    order = list(data["label"])
    y = alt.Y("label:N", title=None, sort=order)
    tooltip = [
        alt.Tooltip("label:N", title="Type"),
        alt.Tooltip("recent_shown:N", title="Last weeks"),
        alt.Tooltip("recent_suppressed:Q", title="Weeks suppressed"),
        alt.Tooltip("last_year_shown:N", title="Same weeks last year"),
    ]
    base = alt.Chart(data).encode(y=y, tooltip=tooltip)
    bars = base.mark_bar().encode(
        x=alt.X("recent:Q", title="Incidents"),
        color=alt.condition("datum.is_remainder", alt.value(SUPPRESSED), alt.value(ACTUAL)),
    )
    ticks = base.mark_tick(color=LAST_YEAR, thickness=3, size=18).encode(x="last_year:Q")
    return alt.layer(bars, ticks).properties(height=max(180, 36 * len(data)))


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
