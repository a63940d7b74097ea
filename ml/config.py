"""Configuration of the forecaster: one frozen dataclass, so train/backtest/predict are pure.

No environment variables are read here (orchestration passes values down).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

FREQS = ("daily", "weekly", "monthly")
MODEL_NAME = "hgb-poisson-ratio"

# Horizon buckets (issue 14): a forecast h periods ahead reaches h * PERIOD_DAYS days out and
# falls in the first bucket whose limit (days) it does not pass. Weekly h=1 is "1-7d", h=2..4
# "2-4w"; monthly h=1..3 "1-3m"; daily h=93.. "3-12m".
HORIZON_BUCKETS: tuple[tuple[str, float], ...] = (
    ("1-7d", 7),
    ("2-4w", 28),
    ("1-3m", 92),
    ("3-12m", 366),
)
PERIOD_DAYS = {"daily": 1.0, "weekly": 7.0, "monthly": 30.44}

# Largest horizon per frequency (issue 4: up to 366 days / 53 weeks / 12 months).
MAX_HORIZON = {"daily": 366, "weekly": 53, "monthly": 12}
DEFAULT_HORIZON = {"daily": 28, "weekly": 12, "monthly": 6}


@dataclass(frozen=True)
class FreqSpec:
    """Per-frequency constants of the feature builder.

    Attributes:
        season: Seasonal period of the seasonal-naive baseline and of MASE (7 / 52 / 12).
        year: Periods in a year, for year-ago features (364 keeps the weekday for daily data).
        level_window: Trailing periods averaged into the level that targets are scaled by.
        short_window: Trailing periods of the "recent momentum" feature.
        shift_min: Shortest post-shift segment the level-shift detector accepts.
        shift_max: Longest post-shift segment it considers.
        shift_step: Step between candidate segments (7 for daily keeps whole weeks).
        shift_pre: Periods before the candidate change point used as the old level.
        train_window: Origins older than this many periods are not used for training.
        halflife: Half-life (periods) of the recency weight of training rows.
        min_ml_history: Fewer complete periods than this -> simple methods only.
    """

    season: int
    year: int
    level_window: int
    short_window: int
    shift_min: int
    shift_max: int
    shift_step: int
    shift_pre: int
    train_window: int
    halflife: float
    min_ml_history: int


FREQ_SPECS: dict[str, FreqSpec] = {
    "daily": FreqSpec(7, 364, 28, 7, 7, 56, 7, 56, 3 * 364, 365.0, 140),
    "weekly": FreqSpec(52, 52, 8, 3, 2, 12, 1, 16, 5 * 52, 104.0, 60),
    "monthly": FreqSpec(12, 12, 12, 3, 2, 12, 1, 12, 10 * 12, 36.0, 36),
}


@dataclass(frozen=True)
class ForecastConfig:
    """Everything that determines a forecast, hashed into the model version.

    Attributes:
        horizons: Periods ahead per frequency.
        backtest_origins: Rolling origins of the backtest (spaced one horizon apart).
        short_origins: Extra backtest origins that forecast only the buckets before the
            horizon's last one (``ml.backtest.short_origins``), so short buckets of a long
            request are selected and calibrated on enough points.
        random_state: Seed of the gradient-boosting model.
        max_iter: Boosting iterations. 50 at learning rate 0.2 instead of 100 at 0.1 halves
            each fit (the trees are most of a forecast's cost); on Blotter's own backtests of
            the bench histories (``python -m tests.bench.forecast_cost_study``, 150 level x
            bucket cells) the gbm's MAE rose 0.5 % (geometric mean) and the served forecast's
            0.1 % (better in 52 cells, worse in 59). Fewer training rows or trees cost more.
        learning_rate: Boosting learning rate.
        max_leaf_nodes: Tree size.
        min_samples_leaf: Minimum rows per leaf.
        l2_regularization: L2 penalty of the leaves.
        max_train_rows: Cap on training rows per fit; origins are thinned to respect it
            (60k rows scored as well as 200k on replay-like data at a third of the time).
        n_threads: OpenMP threads of the model. 1 by default: on a shared 2-core box the
            OpenMP spin-wait made 2 threads up to 3x slower than 1 under contention.
        shift_z: z-score a level change must exceed to re-base the level.
        shift_min_rel: Relative change a level shift must exceed (0.15 = 15 %).
        holiday_country: Country of the holiday calendar.
        holiday_subdiv: Subdivision of the holiday calendar.
        promotion_tolerance: A challenger is promoted when its score is at most
            champion_score * (1 + tolerance) (score = mean MASE over frequencies).
        required_mase_below_one: Frequencies whose MASE must be < 1 for promotion.
        reconcile: Scale lower geography levels so they sum to the city forecast.
        geo_feature: Give the model each series' identity as a categorical feature.
        peers: statsforecast models per frequency used as candidates of the per-bucket
            selection. Daily has none by default: AutoETS takes ~1-2 s per daily series and
            origin here, and at short horizons the global model ties the peers (issue 14's
            7-day measurement). Weekly has AutoTheta only: statsforecast's ETS has no
            seasonality beyond 24 periods, so a weekly AutoETS is a flat line.
        peer_max_series: Peers are fitted on whole geography levels in level order (city
            first) up to this many series per frequency (statsforecast fits one series at a
            time); the other levels choose among Blotter's own methods.
        level_memory: Half-life (years) of the recent level's gap to the trailing year's in
            the season-trend path (``ml.anchor``); 0 carries the recent level flat (before
            f21). Chosen on Blotter's own backtests of the bench histories (data before each
            bench origin, ``python -m tests.bench.forecast_cost_study``) among 1, 0.5, 0.25,
            0.125 and 0.0625: season_trend's MAE 0.992 / 0.987 / 0.984 / 0.981 / 0.978x
            (geometric mean over 150 cells), the served forecast's best at 0.125.
        weekday_weeks: Weeks whose weekday shares give the daily weekday factors
            (``ml.weekday``); 8 before f21. 52 cut season_trend's daily MAE in 12 of 12
            changed cells (26: 11), the served forecast's daily 3-12 m by 1-5 %.
    """

    horizons: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_HORIZON))
    backtest_origins: int = 3
    short_origins: int = 12
    random_state: int = 0
    max_iter: int = 50
    learning_rate: float = 0.2
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 40
    l2_regularization: float = 1.0
    max_train_rows: int = 60_000
    n_threads: int = 1
    shift_z: float = 4.5
    shift_min_rel: float = 0.15
    holiday_country: str = "US"
    holiday_subdiv: str = "NY"
    promotion_tolerance: float = 0.02
    required_mase_below_one: tuple[str, ...] = ("daily", "weekly")
    reconcile: bool = True
    geo_feature: bool = True
    peers: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {"weekly": ("auto_theta",), "monthly": ("auto_ets", "auto_theta")}
    )
    peer_max_series: int = 8
    level_memory: float = 0.125
    weekday_weeks: int = 52

    def __post_init__(self) -> None:
        for freq, horizon in self.horizons.items():
            if freq not in MAX_HORIZON:
                raise ValueError(f"unknown frequency {freq!r}; expected one of {FREQS}")
            if not 1 <= int(horizon) <= MAX_HORIZON[freq]:
                raise ValueError(
                    f"{freq} horizon must be between 1 and {MAX_HORIZON[freq]}, got {horizon}"
                )

    def to_params(self) -> dict[str, object]:
        """The config as JSON-ready params (stored in ml.model_runs)."""
        params = asdict(self)
        params["required_mase_below_one"] = list(self.required_mase_below_one)
        params["peers"] = {f: list(names) for f, names in self.peers.items()}
        return params

    @classmethod
    def from_params(cls, params: dict[str, object]) -> ForecastConfig:
        """Rebuild a config from ``to_params`` output (ignores unknown keys)."""
        known = {k: v for k, v in params.items() if k in cls.__dataclass_fields__}
        if "required_mase_below_one" in known:
            known["required_mase_below_one"] = tuple(known["required_mase_below_one"])  # type: ignore[arg-type]
        if isinstance(peers := known.get("peers"), dict):
            known["peers"] = {f: tuple(v) for f, v in peers.items()}
        return cls(**known)  # type: ignore[arg-type]

    @property
    def model_version(self) -> str:
        """Version id: model name plus a hash of the params and of the forecasting code (not
        of the data). Code changes that keep the params (new features, a new candidate) must
        not share a version with the code before them."""
        blob = json.dumps(self.to_params(), sort_keys=True).encode() + code_digest().encode()
        return f"{MODEL_NAME}-{hashlib.sha256(blob).hexdigest()[:10]}"

    def peers_of(self, freq: str) -> tuple[str, ...]:
        """The peers that are candidates at ``freq``."""
        return tuple(self.peers.get(freq, ()))

    def horizon(self, freq: str) -> int:
        """Horizon of ``freq`` (the default when not configured)."""
        return int(self.horizons.get(freq, DEFAULT_HORIZON[freq]))


def code_digest(package: Path | None = None) -> str:
    """A digest of the forecasting code: every ``*.py`` file of the ``ml`` package (or
    ``package``), by name and contents. The package's own is read once per process."""
    if package is None:
        return _own_digest()
    h = hashlib.sha256()
    for path in sorted(package.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


@lru_cache(maxsize=1)
def _own_digest() -> str:
    return code_digest(Path(__file__).resolve().parent)


def bucket_of(freq: str, h: int) -> str:
    """Horizon bucket of ``h`` periods ahead at ``freq`` (see HORIZON_BUCKETS)."""
    days = h * PERIOD_DAYS[freq]
    for name, limit in HORIZON_BUCKETS:
        if days <= limit + 1e-9:
            return name
    return HORIZON_BUCKETS[-1][0]


def buckets_of(freq: str, horizon: int) -> list[str]:
    """Bucket of every h in 1..horizon."""
    return [bucket_of(freq, h) for h in range(1, horizon + 1)]
