"""The dashboard in real headless Chromium, served by ``blotter dashboard`` on a loopback port.

One server for the module; states that need no browser (failed run, partial, busy or missing
warehouse) are rendered by Streamlit's script runner in test_dashboard_states.py.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from dashboard_harness import open_dashboard, running_dashboard, wait_rendered
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

EXCEPTION = '[data-testid="stException"]'
ALERT = '[data-testid="stAlert"]'
FORECAST_CAPTION = '.st-key-forecast [data-testid="stCaptionContainer"]'


@pytest.fixture(scope="module")
def healthy_url(healthy_db: Path, output_dir: Path) -> Iterator[str]:
    with running_dashboard(healthy_db) as url:
        yield url


def _metric(page, label: str) -> str:  # noqa: ANN001
    metric = page.locator('[data-testid="stMetric"]', has_text=label)
    return metric.locator('[data-testid="stMetricValue"]').inner_text()


def _select(page, label: str, option: str) -> None:  # noqa: ANN001
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_rendered(page)


def _redrawn(chart, before: bytes, seconds: float = 15) -> bool:  # noqa: ANN001
    """True once the chart's pixels differ from ``before`` (vega redraws asynchronously)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if chart.screenshot() != before:
            return True
        time.sleep(0.5)
    return False


def test_page_loads_with_headline_numbers_from_the_warehouse(
    chromium, healthy_url: str, healthy_db: Path, output_dir: Path
) -> None:
    page, blocked = open_dashboard(chromium, healthy_url)
    with duckdb.connect(str(healthy_db), read_only=True) as con:
        # The headline windows end on the last complete day (is_complete_period).
        last7, partial = con.execute(
            "with c as (select * from marts.fct_incident_counts where freq = 'daily' "
            "and geo_level = 'city'), ref as (select max(period_start) as d from c "
            "where is_complete_period) select sum(incidents) filter (where period_start "
            "between d - 6 and d), count(*) filter (where period_start > d) from c, ref"
        ).fetchone()
        (model,) = con.execute(
            "select any_value(model_version) from marts.fct_forecasts"
        ).fetchone()
    assert _metric(page, "Last 7 days") == f"{last7:,}"
    assert re.fullmatch(r"[\d,]+", _metric(page, "Last complete day"))
    assert (
        "vs last year"
        in page.locator('[data-testid="stMetric"]', has_text="Last 7 days").inner_text()
    )
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert f"The {partial} days since are still incomplete" in main and partial > 0
    assert "Last run succeeded" in page.locator(ALERT).first.inner_text()
    # Charts: forecast, map, types; all drawn from bundled vega (no tiles, no CDN). Vega mounts
    # after the script run ends (slower on a loaded machine): wait for the third chart.
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    charts.nth(2).wait_for(state="visible", timeout=30_000)
    assert charts.count() >= 3
    assert f"model {model}" in page.locator(FORECAST_CAPTION).inner_text()
    assert page.locator(EXCEPTION).count() == 0
    assert blocked == [], f"the page tried to reach the network: {blocked}"
    page.screenshot(path=str(output_dir / "dashboard.png"))


def test_changing_the_geography_changes_the_chart(
    chromium, healthy_url: str, output_dir: Path
) -> None:
    page, _ = open_dashboard(chromium, healthy_url)
    chart = page.locator('.st-key-forecast [data-testid="stVegaLiteChart"]')
    city_caption = page.locator(FORECAST_CAPTION).inner_text()
    city_pixels = chart.screenshot()
    assert city_caption.startswith("City · Buffalo · weekly")

    _select(page, "Geography level", "Police district")
    caption = page.locator(FORECAST_CAPTION)
    expect(caption).to_contain_text("Police district · District A · weekly", timeout=30_000)
    district_caption = caption.inner_text()
    _select(page, "Area", "District C")
    expect(caption).to_contain_text("Police district · District C · weekly", timeout=30_000)
    wait_rendered(page)
    other_caption = caption.inner_text()
    # Different areas have different totals, and the drawn chart itself changed.
    total = re.compile(r"\(([\d,]+) incidents\)")
    totals = {total.search(c).group(1) for c in (city_caption, district_caption, other_caption)}
    assert len(totals) == 3
    assert _redrawn(chart, city_pixels), "the forecast chart still shows the city"
    assert page.locator('[data-testid="stMetric"]').count() == 3
    assert page.locator(EXCEPTION).count() == 0
    page.screenshot(path=str(output_dir / "dashboard-district.png"))
