"""Where Blotter's loss at Chicago's weekly districts comes from (f37; issue 14).

The one real-data cell whose whole interval is above the best peer in session 37's base run is
Chicago homicides, weekly, district, 1-3 m (1.05x AutoETS, 1.02-1.09). This study splits it.
Over the bench's four year-ahead origins and the 22 districts it prints, per bucket, the MAE
and the MSE of Blotter's served forecast, of its own candidates and of the peers (from
``--peer-cache``, as the benchmark fits them), and of counterfactuals:

- ``served x0.9`` / ``x0.8``: the served forecast scaled down. A district has ~0.7 homicides a
  week, where the median (what MAE rewards) is below the mean (what Blotter forecasts), so a
  lower forecast wins MAE while it loses MSE.
- ``city x share104``: the served city forecast split by each district's share of the last
  104 weeks' counts (f32: the split of the city is a loss of its own).
- ``<peer> total x served split``: a peer's district sum split as Blotter splits it.

Then per origin the MSE at 2-4 w and 1-3 m (which origin the loss comes from), and the gbm's
city ratio at the 2021 origin, h = 6, against its ``log_level`` feature: the lever behind that
origin's far-lead fall (the gbm keys on the city's absolute level).

Usage: ``python -m tests.bench.forecast_district37_study --peer-cache DIR``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from ml.config import FREQ_SPECS, ForecastConfig, buckets_of
from ml.features import FeatureContext
from ml.models import fit_gbm, forecast_methods, reconcile_groups
from ml.panel import build_panel
from tests.bench import forecast_data
from tests.bench.forecast_eval import begun, one_origin

FREQ, LEVEL = "weekly", "district"
BUCKETS = ("1-7d", "2-4w", "1-3m", "3-12m")
OWN = ("gbm", "season_trend", "ensemble", "level")
PEERS = ("auto_ets", "auto_theta", "prophet")


def _candidates(full, origin: pd.Timestamp, peer_cache: Path) -> dict[str, np.ndarray]:  # noqa: ANN001
    """Series x h forecasts of every candidate and counterfactual from ``origin``."""
    horizon = forecast_data.YEAR[FREQ]
    idx = int(full.periods.get_loc(origin))
    hist = full.truncated(idx)
    config = ForecastConfig(horizons={FREQ: horizon})
    ctx = FeatureContext(hist, config, horizon)
    preds = forecast_methods(ctx, idx, horizon, config, True, reconcile_groups(ctx), None)
    frame, _ = one_origin(forecast_data.chicago(), FREQ, origin, peer_cache)
    h_obs = min(horizon, full.n_periods - 1 - idx)

    def grid(column: str) -> np.ndarray:
        out = np.full((full.n_series, h_obs), np.nan)
        out[frame["series"], frame["h"] - 1] = frame[column]
        return out

    levels = full.keys["geo_level"].to_numpy()
    city, rows = int(np.flatnonzero(levels == "city")[0]), np.flatnonzero(levels == LEVEL)
    served = grid("blotter_mean")
    out = {"served": served} | {m: preds[m][:, :h_obs] for m in OWN}
    out |= {m: grid(f"{m}_mean") for m in PEERS}
    out["served x0.9"], out["served x0.8"] = 0.9 * served, 0.8 * served
    recent = np.nansum(hist.y[rows, idx - 103 : idx + 1], axis=1)
    split = np.full_like(served, np.nan)
    split[rows] = served[city][None, :] * (recent / recent.sum())[:, None]
    out["city x share104"] = split
    share = served[rows] / served[rows].sum(axis=0)
    for m in ("auto_ets", "auto_theta"):
        alt = np.full_like(served, np.nan)
        alt[rows] = out[m][rows].sum(axis=0)[None, :] * share
        out[f"{m} total x served split"] = alt
    return out


def main(argv: list[str] | None = None) -> None:
    """Print the tables (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench.forecast_district37_study")
    parser.add_argument("--peer-cache", type=Path, required=True)
    args = parser.parse_args(argv)
    case = forecast_data.chicago()
    full = build_panel(case.counts, FREQ)
    levels = full.keys["geo_level"].to_numpy()
    err: dict[tuple[str, str, str], list[np.ndarray]] = {}
    for origin in case.origins[FREQ]:
        idx = int(full.periods.get_loc(origin))
        preds = _candidates(full, origin, args.peer_cache)
        h_obs = next(iter(preds.values())).shape[1]
        actual = full.y[:, idx + 1 : idx + 1 + h_obs]
        known = begun(full.y, idx, FREQ_SPECS[FREQ].train_window) & (levels == LEVEL)
        bucket = np.array(buckets_of(FREQ, h_obs))
        for name, pred in preds.items():
            e = (actual - pred)[known]
            for b in BUCKETS:
                err.setdefault((name, b, f"{origin:%Y}"), []).append(e[:, bucket == b].ravel())
    rows = []
    for (name, b, year), parts in err.items():
        e = np.concatenate(parts)
        rows.append({"method": name, "bucket": b, "origin": year, "ae": np.abs(e), "se": e * e})
    table = pd.DataFrame(rows)
    pooled = table.groupby(["method", "bucket"], sort=False).agg(
        mae=("ae", lambda v: np.concatenate(list(v)).mean()),
        mse=("se", lambda v: np.concatenate(list(v)).mean()),
    )
    print(f"Chicago weekly {LEVEL}s, four origins: MAE / MSE per bucket")
    print(pooled.unstack("bucket").round(3).to_string())
    table = table.assign(mse=table["se"].map(np.mean))
    picked = table[table["bucket"].isin(["2-4w", "1-3m"])]
    picked = picked[picked["method"].isin(["served", "city x share104", *PEERS[:2]])]
    print("\nMSE per origin")
    print(picked.pivot_table(index="method", columns=["bucket", "origin"], values="mse").round(3))
    _log_level_lever(full)


def _log_level_lever(full) -> None:  # noqa: ANN001
    """The gbm's city ratio at 2021-06-28, h = 6, as its log_level feature moves."""
    horizon = forecast_data.YEAR[FREQ]
    idx = int(full.periods.get_loc(pd.Timestamp("2021-06-28")))
    config = ForecastConfig(horizons={FREQ: horizon})
    ctx = FeatureContext(full.truncated(idx), config, horizon)
    model = fit_gbm(ctx, idx, horizon, config)
    city = np.flatnonzero(full.keys["geo_level"].to_numpy() == "city")[:1]
    x, level = ctx.rows(city, np.array([idx]), 6)
    column = ctx.feature_names.index("log_level")
    print(f"\ngbm, city, 2021-06-28, h = 6: level {level[0]:.1f}/week, log_level {x[0, column]}")
    for value in (2.0, 2.4, 2.6, 2.8, 3.0, 3.2):
        probe = x.copy()
        probe[0, column] = value
        print(f"  log_level {value}: ratio {model.predict(probe)[0]:.3f}")


if __name__ == "__main__":
    main()
