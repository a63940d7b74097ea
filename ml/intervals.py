"""Prediction intervals: split conformal on backtest residuals, scaled for count data.

Scores are ``(y - yhat) / sqrt(yhat + 1 + phi * yhat**2)``: Poisson noise plus a
negative-binomial-like term for model error that grows with volume (``phi`` fitted by moments
on the backtest), so one calibration serves a neighbourhood with 2 incidents a day and the
city with 100. Lower and
upper quantiles are taken separately (counts are skewed), with the finite-sample conformal
rank. Calibration is per horizon bucket (errors grow with the horizon: one table for 1-7 days
and 3-12 months would be too wide near and too narrow far), and within a bucket per geography
level when it has enough backtest points, otherwise pooled over the bucket; a bucket with too
few points borrows the pooled table of every bucket, and without any a wide Poisson-normal
fallback serves. Each of these tables is split once more by the forecast's volume: below one
expected incident per period (``SPARSE_MEAN``) the count is mostly 0 or 1 and its scores sit in
a narrow band near zero. Pooled with busier rows they set quantiles too narrow for those (a
district at 1-2 a week got a lower bound in (0, 1), which excludes its zeros; a thin city cell
borrowed the pool's width) and too wide for the sparse rows. Coverage is measured honestly by
leave-one-origin-out: each backtest origin is scored with quantiles from the others.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

LEVELS = {"80": 0.80, "95": 0.95}
MIN_GROUP_SCORES = 39  # the 95 % conformal rank exists from 39 scores
MIN_POOLED_SCORES = 20
# Forecasts below one incident per period are calibrated apart from the busier ones (module doc).
SPARSE_MEAN = 1.0
# Fallback (no usable backtest): normal quantiles on the Poisson scale, widened 1.5x for
# overdispersion.
FALLBACK = {"lo80": -1.2816 * 1.5, "hi80": 1.2816 * 1.5, "lo95": -1.96 * 1.5, "hi95": 1.96 * 1.5}

Quantiles = dict[str, float]


def scale(yhat: np.ndarray, phi: float) -> np.ndarray:
    """Noise scale of a count forecast: sqrt(yhat + 1 + phi * yhat^2)."""
    yhat = np.maximum(yhat, 0.0)
    return np.sqrt(yhat + 1.0 + phi * yhat**2)


def overdispersion(y: np.ndarray, yhat: np.ndarray) -> float:
    """Moment estimate of phi in Var(y) = yhat + phi * yhat^2 (0 when none)."""
    yhat = np.maximum(yhat, 0.0)
    denom = float(np.sum(yhat**2))
    if denom <= 0:
        return 0.0
    return max(0.0, float(np.sum((y - yhat) ** 2 - yhat)) / denom)


def scores(y: np.ndarray, yhat: np.ndarray, phi: float = 0.0) -> np.ndarray:
    """Count-scaled residuals."""
    return (y - yhat) / scale(yhat, phi)


def conformal_quantiles(values: np.ndarray) -> Quantiles | None:
    """Finite-sample conformal lower/upper quantiles of ``values`` at 80 and 95 %."""
    v = np.sort(values[np.isfinite(values)])
    n = len(v)
    if n < MIN_POOLED_SCORES:
        return None
    out: Quantiles = {}
    for name, level in LEVELS.items():
        alpha = (1 - level) / 2
        hi_rank = math.ceil((n + 1) * (1 - alpha))
        lo_rank = math.floor((n + 1) * alpha)
        # Ranks beyond the sample: extend the extreme score by half its distance from zero.
        out[f"hi{name}"] = float(v[hi_rank - 1]) if hi_rank <= n else float(v[-1]) * 1.5
        out[f"lo{name}"] = float(v[lo_rank - 1]) if lo_rank >= 1 else float(v[0]) * 1.5
    return out


BANDS = ("sparse", "busy")


def volume_band(yhat: np.ndarray) -> np.ndarray:
    """Index into BANDS: 0 below SPARSE_MEAN expected incidents per period, else 1."""
    return (np.maximum(yhat, 0.0) >= SPARSE_MEAN).astype(np.int8)


def _split(score: np.ndarray, band: np.ndarray, base: Quantiles, key: str) -> dict[str, Quantiles]:
    """``base`` under ``key`` plus each volume band with enough scores under ``key|band``."""
    out = {key: base}
    for code, name in enumerate(BANDS):
        part = score[band == code]
        if len(part) >= MIN_GROUP_SCORES:
            found = conformal_quantiles(part)
            out[f"{key}|{name}"] = found | {"phi": base["phi"]} if found else base
    return out


def calibrate(frame: pd.DataFrame) -> dict[str, Quantiles]:
    """Quantiles per geo_level (key '*' = pooled) and, within each, per volume band
    ('LEVEL|sparse', 'LEVEL|busy') from a frame with geo_level, y and yhat."""
    y, yhat = frame["y"].to_numpy(float), frame["yhat"].to_numpy(float)
    phi = overdispersion(y, yhat)
    score = scores(y, yhat, phi)
    band = volume_band(yhat)
    pooled = (conformal_quantiles(score) or dict(FALLBACK)) | {"phi": phi}
    out = _split(score, band, pooled, "*")
    groups = frame.groupby("geo_level", sort=True).indices
    for level, idx in groups.items():
        if len(idx) >= MIN_GROUP_SCORES:
            found = conformal_quantiles(score[idx])
            out |= _split(score[idx], band[idx], found | {"phi": phi} if found else pooled, level)
    return out


def lookup(table: dict[str, Quantiles], level: str, band: str) -> Quantiles:
    """The most specific quantiles: the level's band, the level, the pooled band, the pool."""
    for key in (f"{level}|{band}", level, f"*|{band}"):
        if key in table:
            return table[key]
    return table["*"]


def bounds(yhat: np.ndarray, q: Quantiles) -> dict[str, np.ndarray]:
    """Ordered interval bounds: 0 <= lower_95 <= lower_80 <= yhat <= upper_80 <= upper_95."""
    yhat = np.maximum(yhat, 0.0)
    s = scale(yhat, q.get("phi", 0.0))
    lo80 = np.clip(yhat + min(q["lo80"], 0.0) * s, 0.0, yhat)
    hi80 = np.maximum(yhat + max(q["hi80"], 0.0) * s, yhat)
    lo95 = np.clip(yhat + min(q["lo95"], 0.0) * s, 0.0, lo80)
    hi95 = np.maximum(yhat + max(q["hi95"], 0.0) * s, hi80)
    return {
        "yhat": yhat,
        "yhat_lower_80": lo80,
        "yhat_upper_80": hi80,
        "yhat_lower_95": lo95,
        "yhat_upper_95": hi95,
    }


def apply(yhat: np.ndarray, geo_levels: np.ndarray, table: dict[str, Quantiles]) -> pd.DataFrame:
    """Bounds for each forecast from its geo_level's and volume band's quantiles (``lookup``)."""
    cols = ("yhat", "yhat_lower_80", "yhat_upper_80", "yhat_lower_95", "yhat_upper_95")
    values = {c: np.zeros(len(yhat)) for c in cols}
    codes, names = pd.factorize(geo_levels, sort=True, use_na_sentinel=False)
    cell = codes * len(BANDS) + volume_band(yhat)
    for key, idx in pd.Series(np.arange(len(yhat))).groupby(cell).indices.items():
        level, band = names[key // len(BANDS)], BANDS[key % len(BANDS)]
        part = bounds(yhat[idx], lookup(table, str(level), band))
        for c in cols:
            values[c][idx] = part[c]
    return pd.DataFrame(values, index=range(len(yhat)))


Tables = dict[str, dict[str, Quantiles]]  # bucket -> calibrate() output ("*" = all buckets)


def calibrate_buckets(frame: pd.DataFrame) -> Tables:
    """``calibrate`` per horizon bucket, plus key '*' calibrated on every bucket together."""
    tables: Tables = {"*": calibrate(frame)}
    for bucket, group in frame.groupby("bucket", sort=True):
        if len(group) >= MIN_POOLED_SCORES:
            tables[str(bucket)] = calibrate(group)
    return tables


def apply_rows(
    yhat: np.ndarray, geo_levels: np.ndarray, buckets: np.ndarray, tables: Tables
) -> pd.DataFrame:
    """Bounds for each forecast from its bucket's (else every bucket's) table."""
    out = pd.DataFrame(index=range(len(yhat)))
    cols = ("yhat", "yhat_lower_80", "yhat_upper_80", "yhat_lower_95", "yhat_upper_95")
    values = {c: np.zeros(len(yhat)) for c in cols}
    for bucket in np.unique(buckets):
        mask = buckets == bucket
        part = apply(yhat[mask], geo_levels[mask], tables.get(str(bucket), tables["*"]))
        for c in cols:
            values[c][mask] = part[c].to_numpy()
    for c in cols:
        out[c] = values[c]
    return out


def loo_coverage(frame: pd.DataFrame) -> pd.DataFrame:
    """Per backtest row: inside the 80 / 95 % interval calibrated on the other origins.

    Args:
        frame: Columns origin, geo_level, bucket, y, yhat.

    Returns:
        ``frame`` plus boolean columns in_80 and in_95 (in-sample when only one origin).
    """
    origins = frame["origin"].unique()
    pieces = []
    for origin in origins:
        held = frame[frame["origin"] == origin]
        rest = frame[frame["origin"] != origin] if len(origins) > 1 else frame
        b = apply_rows(
            held["yhat"].to_numpy(),
            held["geo_level"].to_numpy(),
            held["bucket"].to_numpy(),
            calibrate_buckets(rest),
        )
        y = held["y"].to_numpy()
        pieces.append(
            held.assign(
                in_80=(y >= b["yhat_lower_80"].to_numpy()) & (y <= b["yhat_upper_80"].to_numpy()),
                in_95=(y >= b["yhat_lower_95"].to_numpy()) & (y <= b["yhat_upper_95"].to_numpy()),
            )
        )
    return pd.concat(pieces) if pieces else frame.assign(in_80=False, in_95=False)
