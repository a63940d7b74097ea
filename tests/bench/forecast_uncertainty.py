"""How sure each cell of ``make bench-forecast`` is (issue 14): which misses are real.

A cell pools the errors of a few series at one or two origins. Points of one series from one
origin share that forecast's level error and are autocorrelated, so they are not independent:
the unit here is a *block*, one series at one origin (all its points in the cell's bucket).

- Blotter ÷ best peer: a paired bootstrap over blocks. Each replicate draws the cell's blocks
  with replacement, sums every method's absolute errors over the drawn blocks and takes
  Blotter's sum over the smallest peer's sum (the best peer is chosen again in each replicate:
  the statistic the table reports). The interval is the replicates' 5th-95th percentile.
- 80 % coverage: a Wilson 90 % interval on an effective n, the points divided by the design
  effect that the spread of coverage between blocks shows (cluster variance of a ratio
  estimate); with every block fully in or fully out the effective n is the number of blocks.
- With fewer than ``MIN_BLOCKS`` blocks no interval is given: a bootstrap over a handful of
  blocks is far too narrow (two blocks that agree would look certain).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_BLOCKS = 10
REPLICATES = 2000
Z90 = 1.6448536269514722  # two-sided 90 %
COVERAGE = (0.70, 0.90)


@dataclass
class Blocks:
    """Per block (series x origin) of one cell: points, and each method's error sum / hits."""

    n: np.ndarray
    err: dict[str, np.ndarray]
    inside: dict[str, np.ndarray]

    @property
    def count(self) -> int:
        return len(self.n)


def blocks_of(cell: pd.DataFrame, methods: list[str]) -> Blocks:
    """Blocks of a cell's long rows (columns series, origin, y, <m>_mean, <m>_lo, <m>_hi)."""
    keys = [cell["series"].to_numpy(), cell["origin"].to_numpy()]
    groups = pd.MultiIndex.from_arrays(keys).factorize()[0]
    k = int(groups.max()) + 1 if len(groups) else 0
    y = cell["y"].to_numpy(float)
    err, inside = {}, {}
    for m in methods:
        err[m] = np.bincount(groups, np.abs(y - cell[f"{m}_mean"].to_numpy(float)), k)
        hit = (y >= cell[f"{m}_lo"].to_numpy(float)) & (y <= cell[f"{m}_hi"].to_numpy(float))
        inside[m] = np.bincount(groups, hit.astype(float), k)
    return Blocks(np.bincount(groups, minlength=k).astype(float), err, inside)


def _ratio(mine: np.ndarray, best: np.ndarray) -> np.ndarray:
    """mine / best, inf where only the peer is perfect, 1 where both are."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(best > 0, mine / np.where(best > 0, best, 1.0), np.inf)
    return np.where((best == 0) & (mine == 0), 1.0, out)


def ratio_interval(
    blocks: Blocks, mine: str, peers: list[str], seed: int = 0
) -> tuple[float, float] | None:
    """90 % interval of ``mine``'s MAE over the best of ``peers``' (None: too few blocks)."""
    if blocks.count < MIN_BLOCKS or not peers:
        return None
    rng = np.random.default_rng(seed)
    k = blocks.count
    weights = rng.multinomial(k, np.full(k, 1.0 / k), size=REPLICATES).astype(float)
    best = np.min([weights @ blocks.err[p] for p in peers], axis=0)
    ratios = _ratio(weights @ blocks.err[mine], best)
    lo, hi = np.quantile(ratios, [0.05, 0.95])
    return float(lo), float(hi)


def effective_n(n: np.ndarray, inside: np.ndarray) -> float:
    """Points over the design effect of their blocks (the blocks' count when p is 0 or 1).

    The design effect is the cluster variance of the ratio estimate sum(inside) / sum(n) over
    the binomial one; blocks that are each fully in or out give about their own count.
    """
    total = float(n.sum())
    k = len(n)
    p = float(inside.sum()) / total
    var = k / (k - 1) * float(((inside - p * n) ** 2).sum()) / total**2 if k > 1 else 0.0
    if p in (0.0, 1.0):  # no spread to measure: count each block once
        return float(min(k, total))
    if var <= 0:  # every block covers the same share: no design effect
        return total
    return float(min(total, max(1.0, p * (1 - p) / var)))


def wilson(p: float, n: float, z: float = Z90) -> tuple[float, float]:
    """Wilson score interval of a proportion ``p`` seen on ``n`` (possibly fractional) trials."""
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def coverage_interval(blocks: Blocks, mine: str) -> tuple[float, float, float] | None:
    """(low, high, effective n) of ``mine``'s 80 % coverage (None: too few blocks)."""
    if blocks.count < MIN_BLOCKS:
        return None
    n_eff = effective_n(blocks.n, blocks.inside[mine])
    lo, hi = wilson(float(blocks.inside[mine].sum() / blocks.n.sum()), n_eff)
    return lo, hi, n_eff


def judge(
    ratio: float,
    ratio_ci: tuple[float, float] | None,
    cov: float,
    cov_ci: tuple[float, float, float] | None,
    judge_coverage: bool,
    limit: float = 1.0,
) -> str:
    """``met``, ``miss clear: <what>`` or ``undecidable``, for the targets the table judges.

    A target missed at the point estimate is a clear miss only when its whole interval lies
    on the wrong side (MAE ratio above ``limit``: 1, or 0.9 where Blotter ranks the peers
    itself; coverage outside 70-90 %).
    """
    missed, clear = [], []
    if ratio > limit + 1e-9:
        missed.append("MAE")
        if ratio_ci is not None and ratio_ci[0] > limit + 1e-9:
            clear.append("MAE")
    if judge_coverage and not COVERAGE[0] <= cov <= COVERAGE[1]:
        missed.append("coverage")
        if cov_ci is not None and (cov_ci[1] < COVERAGE[0] or cov_ci[0] > COVERAGE[1]):
            clear.append("coverage")
    if not missed:
        return "met"
    return "miss clear: " + ", ".join(clear) if clear else "undecidable"
