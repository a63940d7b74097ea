"""Streamlit building blocks of the page: each one renders an informative empty state itself."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.status import Banner, Headline

LEVEL_LABELS = {
    "city": "City",
    "police_district": "Police district",
    "council_district": "Council district",
    "neighborhood": "Neighborhood",
}
PERIOD_NAMES = {"daily": "day", "weekly": "week", "monthly": "month"}
# Accuracy columns worth showing, in this order, when the table has them.
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


def headlines(items: list[Headline], daily: pd.DataFrame, ref: date, area: str) -> None:
    """Headline numbers with their change vs the same period last year (52 weeks earlier)."""
    st.subheader(f"{area}: incidents up to {ref:%a %d %b %Y}")
    spark = []
    if not daily.empty:
        stamps = pd.to_datetime(daily["period_start"]).dt.date
        recent = daily[(stamps > ref - timedelta(days=28)) & (stamps <= ref)]
        spark = recent["incidents"].astype(int).tolist()
    columns = st.columns(len(items))
    for column, item in zip(columns, items, strict=True):
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
            help="Compared with the same days 52 weeks earlier (same weekdays).",
        )


def forecast(
    actuals: pd.DataFrame, forecasts: pd.DataFrame, level: str, area: str, freq: str
) -> None:
    """Forecast vs actual with 80% and 95% bands, plus a one-line summary of what is drawn."""
    label = f"{LEVEL_LABELS[level]} · {area} · {freq}"
    if actuals.empty and forecasts.empty:
        empty(f"No counts or forecasts for {label} yet.")
        return
    st.altair_chart(
        charts.forecast_chart(actuals, forecasts, f"Forecast vs actual: {area}"),
        width="stretch",
    )
    total = int(actuals["incidents"].sum()) if not actuals.empty else 0
    parts = [f"{label}: {len(actuals)} actual {PERIOD_NAMES[freq]}s ({total:,} incidents)"]
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


def incident_map(points: pd.DataFrame, area: str) -> None:
    """Map of the last 30 days on generalised locations (no base map: works offline)."""
    st.subheader("Where: last 30 days")
    if points.empty:
        empty(f"No located incidents in the last 30 days for {area}.")
        return
    st.altair_chart(charts.map_chart(points), width="stretch")
    st.caption(
        f"{int(points['incidents'].sum()):,} incidents on {len(points):,} ~100 m grid cells. "
        "Locations are generalised; sensitive offences carry no coordinates."
    )


def incident_types(types: pd.DataFrame, area: str) -> None:
    """Breakdown by incident type, last 30 days vs the same days last year."""
    st.subheader("What: incident types")
    if types.empty:
        empty(f"No incidents in the last 30 days for {area}.")
        return
    st.altair_chart(charts.types_chart(types), width="stretch")
    st.caption("Bars: last 30 days. Grey ticks: the same 30 days a year (52 weeks) earlier.")


def model(
    models: pd.DataFrame,
    forecasts: pd.DataFrame,
    accuracy: pd.DataFrame,
    live: pd.DataFrame,
    level: str,
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
        st.markdown(f"**Backtest**, {LEVEL_LABELS[level].lower()} × {freq}")
        if accuracy.empty:
            empty(f"No backtest for {LEVEL_LABELS[level].lower()} {freq} forecasts yet.")
        else:
            shown = [c for c in METRICS if c in accuracy.columns] or list(accuracy.columns)
            st.dataframe(accuracy[shown], hide_index=True, column_config=FORMATS)
            st.caption(
                "MAE/RMSE in incidents per period; MASE < 1 beats the seasonal-naive baseline; "
                "coverage = share of actuals inside the 80% / 95% intervals."
            )
    with actual:
        st.markdown(f"**On actuals since**, {area} × {freq}")
        if live.empty:
            empty(f"No {freq} forecast for {area} has met its actuals yet.")
        else:
            st.dataframe(
                live[[c for c in LIVE if c in live.columns]], hide_index=True, column_config=FORMATS
            )
            st.caption("Past forecasts scored as their periods completed (all runs).")


def runs(history: pd.DataFrame) -> None:
    """Recent runs from the run ledger."""
    with st.expander("Run history", expanded=False):
        if history.empty:
            empty("No run recorded in ops.run_ledger yet.")
        else:
            st.dataframe(history, hide_index=True)
