"""Streamlit building blocks of the page: each one renders an informative empty state itself."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.incidents import MapPoints, TypeBreakdown
from dashboard.status import Banner, Headlines

PERIOD_NAMES = {"daily": "day", "weekly": "week", "monthly": "month"}
# Accuracy columns shown, in this order (fct_forecast_performance, fct_forecast_accuracy).
METRICS = ("method", "is_selected", "mae", "rmse", "mase", "coverage_80", "coverage_95", "n")
LIVE = ("model_version", "run_status", "periods", "mae", "coverage_80", "coverage_95")
FORMATS = {
    "mae": st.column_config.NumberColumn("MAE", format="%.2f"),
    "rmse": st.column_config.NumberColumn("RMSE", format="%.2f"),
    "mase": st.column_config.NumberColumn("MASE", format="%.2f"),
    "coverage_80": st.column_config.NumberColumn("80% cover", format="percent"),
    "coverage_95": st.column_config.NumberColumn("95% cover", format="percent"),
    "is_selected": st.column_config.CheckboxColumn("used"),
}


def empty(message: str) -> None:
    """An empty state: says what is missing and why, never an exception."""
    st.info(message)


def banner(status: Banner) -> None:
    """The freshness / last-run banner."""
    show = {"error": st.error, "warning": st.warning, "info": st.info, "success": st.success}
    show[status.kind](status.message)


def headlines(heads: Headlines, daily: pd.DataFrame, area: str) -> None:
    """Headline numbers over complete days, each against the same days 52 weeks earlier."""
    if heads.ref is None:
        st.subheader(f"{area}: no complete day of data yet")
    else:
        st.subheader(f"{area}: incidents in the complete days up to {heads.ref:%a %d %b %Y}")
    spark = []
    if heads.ref is not None and not daily.empty:
        stamps = pd.to_datetime(daily["period_start"]).dt.date
        recent = daily[(stamps > heads.ref - timedelta(days=28)) & (stamps <= heads.ref)]
        spark = recent["incidents"].astype(int).tolist()
    columns = st.columns(len(heads.items))
    for column, item in zip(columns, heads.items, strict=True):
        delta = None
        if item.delta_pct is not None:
            delta = f"{item.delta_pct:+.1f}% vs last year ({item.last_year:,})"
        column.metric(
            item.label,
            "–" if item.value is None else f"{item.value:,}",
            delta,
            delta_color="inverse",  # more incidents is worse
            border=True,
            chart_data=spark if item.label == "Last 28 days" and spark else None,
            help="Complete days only, compared with the same days 52 weeks earlier (same "
            "weekdays) when those are complete too.",
        )
    if heads.partial_days:
        st.caption(
            f"The {heads.partial_days} day{'s' * (heads.partial_days != 1)} since are still "
            f"incomplete (late reports still arrive): {heads.partial_incidents:,} incidents so "
            "far, not compared."
        )


def forecast(
    actuals: pd.DataFrame, forecasts: pd.DataFrame, level_label: str, area: str, freq: str
) -> None:
    """Forecast vs actual with 80% and 95% bands, plus a one-line summary of what is drawn."""
    label = f"{level_label} · {area} · {freq}"
    if actuals.empty and forecasts.empty:
        empty(f"No counts or forecasts for {label} yet.")
        return
    st.altair_chart(
        charts.forecast_chart(actuals, forecasts, f"Forecast vs actual: {area}"),
        width="stretch",
    )
    total = int(actuals["incidents"].sum()) if not actuals.empty else 0
    parts = [f"{label}: {len(actuals)} actual {PERIOD_NAMES[freq]}s ({total:,} incidents)"]
    if not actuals.empty:
        partial = int((~actuals["is_complete_period"].astype("boolean").fillna(False)).sum())
        if partial:
            parts.append(f"hollow: {partial} {PERIOD_NAMES[freq]}s not complete yet")
    if forecasts.empty:
        parts.append("no forecast published for this area yet")
    else:
        first = forecasts.iloc[0]
        parts.append(
            f"{len(forecasts)} forecast {PERIOD_NAMES[freq]}s from "
            f"{pd.Timestamp(first['period_start']):%Y-%m-%d} (model {first['model_version']}); "
            "shaded: 80% and 95% intervals"
        )
    st.caption(" · ".join(parts))


def incident_map(located: MapPoints, area: str) -> None:
    """Map of the last 30 days on generalised locations (no base map: works offline)."""
    st.subheader("Where: last 30 days")
    if located.points.empty:
        empty(f"No located incidents in the last 30 days for {area}.")
        return
    st.altair_chart(charts.map_chart(located.points), width="stretch")
    shown = int(located.points["incidents"].sum())
    st.caption(
        f"{shown:,} incidents on {len(located.points):,} ~100 m grid cells, "
        f"{located.start:%d %b} to {located.end:%d %b %Y}; {located.unlocated:,} more have no "
        "published location (sensitive offences carry none). Locations are generalised."
    )


def incident_types(breakdown: TypeBreakdown, area: str) -> None:
    """Breakdown by type over the last complete weeks vs the same weeks last year."""
    st.subheader("What: incident types")
    if breakdown.types.empty or breakdown.weeks is None:
        empty(f"No complete week with incidents for {area} yet.")
        return
    st.altair_chart(charts.types_chart(breakdown.types), width="stretch")
    first, last = breakdown.weeks
    shown = int(breakdown.types["recent"].fillna(0).sum())
    parts = [
        f"Bars: weeks of {first:%d %b} to {last:%d %b %Y} (complete weeks), {shown:,} incidents"
    ]
    if breakdown.total is not None and shown != breakdown.total:
        parts.append(f"which does NOT match the area's {breakdown.total:,} in the counts")
    elif breakdown.total is not None:
        parts.append("the area's total")
    if breakdown.types["is_remainder"].any():
        parts.append(
            "small cells are withheld for privacy: their sum is the 'other (suppressed)' bar"
        )
    parts.append(
        "grey ticks: the same weeks a year earlier"
        if breakdown.has_last_year
        else "no complete weeks a year earlier to compare"
    )
    st.caption("; ".join(parts) + ".")


def model(
    models: pd.DataFrame,
    forecasts: pd.DataFrame,
    accuracy: pd.DataFrame,
    live: pd.DataFrame,
    level_label: str,
    area: str,
    freq: str,
) -> None:
    """Model version, its backtest accuracy and its accuracy on actuals that arrived since."""
    st.subheader("Model and measured accuracy")
    version = None
    if not forecasts.empty:
        version = str(forecasts["model_version"].iloc[0])
    elif not models.empty and "model_version" in models.columns:
        version = str(models["model_version"].iloc[0])
    st.markdown(f"Forecasts by model **{version}**." if version else "No model has forecast yet.")
    if not models.empty:
        st.dataframe(models, hide_index=True)
    backtest, actual = st.columns(2)
    with backtest:
        st.markdown(f"**Backtest**, {level_label.lower()} × {freq}")
        if accuracy.empty:
            empty(f"No backtest for {level_label.lower()} {freq} forecasts yet.")
        else:
            st.dataframe(accuracy[list(METRICS)], hide_index=True, column_config=FORMATS)
            st.caption(
                "MAE/RMSE in incidents per period; MASE < 1 beats the seasonal-naive baseline; "
                "coverage = share of actuals inside the 80% / 95% intervals."
            )
    with actual:
        st.markdown(f"**On actuals since**, {area} × {freq}")
        if live.empty:
            empty(f"No {freq} forecast for {area} has met its actuals yet.")
        else:
            st.dataframe(live[list(LIVE)], hide_index=True, column_config=FORMATS)
            st.caption("Past forecasts scored as their periods completed (all runs).")


def serving(methods: pd.DataFrame, labels: dict[str, str], freq: str) -> None:
    """Which method served each level x horizon bucket of the shown run (dim_forecast_models)."""
    if methods.empty:
        return
    table = methods.pivot(index="geo_level", columns="horizon_bucket", values="serving_method")
    buckets = list(dict.fromkeys(methods["horizon_bucket"]))  # nearest first, as read
    levels = [level for level in labels if level in table.index]  # the profile's order
    table = table.loc[levels, buckets].rename(index=labels).rename_axis(index="level")
    st.markdown(f"**Serving method** per level and horizon ({freq})")
    st.dataframe(table.reset_index(), hide_index=True)
    st.caption("Per level and horizon the method with the lowest backtest error serves.")


def runs(history: pd.DataFrame) -> None:
    """Recent runs from the run history (marts.fct_pipeline_runs)."""
    with st.expander("Run history", expanded=False):
        if history.empty:
            empty("No run recorded in marts.fct_pipeline_runs yet.")
        else:
            st.dataframe(history, hide_index=True)
