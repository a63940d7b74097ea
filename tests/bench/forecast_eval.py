"""Year-ahead hold-out evaluation: Blotter vs statsforecast peers per level x freq x bucket.

For each origin, Blotter (``ml.engine.forecast_panel``, default configuration, horizon one
year) and each peer forecast the next year at once from the same history; the peers see
the same training window Blotter's models use. Errors are pooled per data set x freq x level
x horizon bucket: MAE, MASE (scaled by each series' in-sample seasonal-naive MAE up to the
origin), 80 % interval coverage, and fit seconds. A series with no count in the training
window at an origin (not yet begun) is not scored at that origin. Nothing here is tuned to the
hold-out.
"""

from __future__ import annotations

import logging
import pickle
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from ml.backtest import mase_scale
from ml.config import FREQ_SPECS, ForecastConfig, buckets_of
from ml.engine import forecast_panel
from ml.panel import Panel, build_panel
from ml.peers import PEERS, _model, peer_rows
from tests.bench.forecast_data import ALL, PEER_LEVELS, YEAR, Case
from tests.bench.forecast_uncertainty import blocks_of

METHODS = ("blotter", *PEERS)


def peer_fit(name: str, y: np.ndarray, horizon: int, season: int) -> tuple[np.ndarray, ...]:
    """Mean, lower and upper 80 % of one peer on one series (NaN when it cannot fit)."""
    nan = np.full(horizon, np.nan)
    y = y[np.isfinite(y)]
    if len(y) == 0:
        return nan, nan, nan
    if len(y) < 8:  # too short for any peer (a new geography): its mean, Poisson interval
        mean = np.full(horizon, float(np.mean(y)))
        half = 1.2816 * np.sqrt(mean)
        return mean, np.clip(mean - half, 0, None), mean + half
    m = season if len(y) >= 2 * season + 1 else 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            logging.disable(logging.WARNING)
            out = _model(name, m).forecast(y=y.astype(float), h=horizon, level=[80])
    except Exception:  # noqa: BLE001  (reported as a missing value)
        return nan, nan, nan
    finally:
        logging.disable(logging.NOTSET)
    mean = np.clip(np.asarray(out["mean"], float), 0, None)
    return mean, np.clip(np.asarray(out["lo-80"], float), 0, None), np.asarray(out["hi-80"], float)


def _levels(case: Case, freq: str, peer: str, levels: list[str]) -> list[str]:
    chosen = case.peer_levels.get(freq, {}).get(peer, PEER_LEVELS[peer])
    return list(levels) if chosen == ALL else [lvl for lvl in levels if lvl in chosen]


def _peer_columns(
    case: Case, freq: str, hist: Panel, idx: int, h_obs: int
) -> tuple[dict[str, np.ndarray], dict[str, dict[str, float]]]:
    """Every peer's mean / lo / hi (series x h) from the history up to ``idx``, fit seconds."""
    spec, horizon, n = FREQ_SPECS[freq], YEAR[freq], hist.n_series
    levels = hist.keys["geo_level"].to_numpy()
    start = max(0, idx + 1 - spec.train_window)
    columns, seconds = {}, {}
    for peer in PEERS:
        out = {k: np.full((n, h_obs), np.nan) for k in ("mean", "lo", "hi")}
        seconds[peer] = {}
        for level in _levels(case, freq, peer, list(dict.fromkeys(levels))):
            began = time.perf_counter()
            for s in np.flatnonzero(levels == level):
                fitted = peer_fit(peer, hist.y[s, start:], horizon, spec.season)
                for key, values in zip(("mean", "lo", "hi"), fitted, strict=True):
                    out[key][s] = values[:h_obs]
            seconds[peer][level] = time.perf_counter() - began
        for key, values in out.items():
            columns[f"{peer}_{key}"] = values.reshape(-1)
    return columns, seconds


# Origins whose peers came from the cache / were computed by this process (the entry says so).
PEER_ORIGINS = {"reused": 0, "computed": 0}


def _cached_peers(cache: Path | None, key: str, compute: Callable[[], tuple]) -> tuple:
    """The peers' columns from ``cache`` (a directory) when there, else computed and stored.

    Peers do not depend on Blotter, so iterating on the engine can reuse them
    (``--peer-cache``); the key names the data set, freq and origin.
    """
    if cache is None:
        PEER_ORIGINS["computed"] += 1
        return compute()
    path = cache / (key.replace(" ", "_").replace("/", "_").replace("%", "pct") + ".pkl")
    if path.exists():
        PEER_ORIGINS["reused"] += 1
        return pickle.loads(path.read_bytes())  # noqa: S301  (our own cache file)
    PEER_ORIGINS["computed"] += 1
    value = compute()
    cache.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(value))
    return value


def one_origin(
    case: Case, freq: str, origin: pd.Timestamp, peer_cache: Path | None = None
) -> tuple[pd.DataFrame, dict]:
    """Long rows (series, level, h, bucket, y, scale, <method>_{mean,lo,hi}) and fit seconds."""
    full = build_panel(case.counts, freq)
    idx = int(full.periods.get_loc(origin))
    hist = full.truncated(idx)
    horizon = YEAR[freq]
    actual = full.y[:, idx + 1 : idx + 1 + horizon]
    h_obs = actual.shape[1]
    n = full.n_series
    levels = full.keys["geo_level"].to_numpy()
    spec = FREQ_SPECS[freq]
    frame = pd.DataFrame(
        {
            "series": np.repeat(np.arange(n), h_obs),
            "level": np.repeat(levels, h_obs),
            "h": np.tile(np.arange(1, h_obs + 1), n),
            "bucket": np.tile(buckets_of(freq, h_obs), n),
            "y": actual.reshape(-1),
            "scale": np.repeat(mase_scale(hist.y, idx, spec.season), h_obs),
        }
    )
    seconds: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    config = ForecastConfig(horizons={freq: horizon})
    result = forecast_panel(hist, config, horizon)
    seconds["blotter"] = {"*": time.perf_counter() - started}
    fc = result.forecasts
    for col, name in (("yhat", "mean"), ("yhat_lower_80", "lo"), ("yhat_upper_80", "hi")):
        frame[f"blotter_{name}"] = fc[col].to_numpy().reshape(n, horizon)[:, :h_obs].reshape(-1)
    served = {(lvl, b): m for lvl, cells in result.served.items() for b, m in cells.items()}
    pairs = zip(frame["level"], frame["bucket"], strict=True)
    frame["served"] = [served.get(pair, "") for pair in pairs]
    # Levels where Blotter's own selection ranks the statsforecast peers (issue 14's 0.9x clause).
    fitted = peer_rows(SimpleNamespace(panel=hist), config.peer_max_series)
    ranked = set(hist.keys["geo_level"].to_numpy()[fitted]) if config.peers_of(freq) else set()
    frame["peers_ranked"] = frame["level"].isin(ranked)
    key = f"{case.name}-{freq}-{origin:%Y-%m-%d}"
    columns, peer_seconds = _cached_peers(
        peer_cache, key, lambda: _peer_columns(case, freq, hist, idx, h_obs)
    )
    frame = frame.assign(**columns)
    seconds |= peer_seconds
    known = np.repeat(begun(full.y, idx, spec.train_window), h_obs)
    frame = frame[np.isfinite(frame["y"]) & known]
    return frame, seconds


def begun(y: np.ndarray, idx: int, window: int) -> np.ndarray:
    """Per series (rows of ``y``): whether it has an observed period in the training window
    ending at ``idx``. One without does not exist yet at that origin (a geography that begins
    later): no method can forecast it, so it is not scored there (a NaN peer would otherwise
    drop that peer from the whole cell)."""
    return np.isfinite(y[:, max(0, idx + 1 - window) : idx + 1]).any(axis=1)


def evaluate(
    case: Case,
    progress: Callable[[str], None],
    freqs: set[str] | None = None,
    peer_cache: Path | None = None,
) -> list[dict]:
    """Table rows of one data set: per freq x level x bucket, every method's scores.

    Args:
        case: The data set.
        progress: Receives one line per origin.
        freqs: Only these frequencies (None = all), for iterating on a subset.
        peer_cache: Directory caching the peers' forecasts (None = always refit).
    """
    rows = []
    for freq, origins in case.origins.items():
        if freqs is not None and freq not in freqs:
            continue
        frames, secs = [], []
        for i, origin in enumerate(origins):
            began = time.perf_counter()
            frame, seconds = one_origin(case, freq, origin, peer_cache)
            frames.append(frame.assign(origin=i))
            secs.append(seconds)
            progress(
                f"{case.name} {freq} origin {origin:%Y-%m-%d}: {time.perf_counter() - began:.0f} s"
            )
        data = pd.concat(frames, ignore_index=True)
        for (level, bucket), cell in data.groupby(["level", "bucket"], sort=False):
            row = {
                "dataset": case.name,
                "freq": freq,
                "level": level,
                "bucket": bucket,
                "n": len(cell),
                "served": "/".join(sorted(set(cell["served"]) - {""})),
                "peers_ranked": bool(cell["peers_ranked"].any()),
            }
            present = [m for m in METHODS if np.isfinite(cell[f"{m}_mean"]).all()]
            row["blocks"] = blocks_of(cell, present)  # (series x origin: the intervals' unit)
            for m in present:
                mean = cell[f"{m}_mean"]
                err = np.abs(cell["y"] - mean)
                inside = (cell["y"] >= cell[f"{m}_lo"]) & (cell["y"] <= cell[f"{m}_hi"])
                scale = cell["scale"].sum()
                fit = sum(s[m].get("*", s[m].get(level, 0.0)) for s in secs)
                row[m] = {
                    "mae": float(err.mean()),
                    "mase": float(err.sum() / scale) if scale > 0 else float("nan"),
                    "cov80": float(inside.mean()),
                    "fit_s": float(fit),
                }
            rows.append(row)
    return rows
