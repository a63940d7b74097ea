"""Former single module of the dashboard's reads, now split into ``overview`` (levels, runs,
model), ``area`` (one area's series and forecasts), ``incidents`` (map and types) and
``relations`` (the relations read).

Kept only because tests/python/orchestration/test_units_trust.py imports ``_without_dead_runs``
from here; delete this file once that test imports it from ``dashboard.overview``.
"""

from dashboard.overview import _without_dead_runs

__all__ = ["_without_dead_runs"]
