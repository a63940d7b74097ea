"""Which stress cells of `make bench-forecast` the generator's own expected counts could meet (f40).

A stress case draws its counts around known expected counts (``forecast_data.stress_means``).
Served as a forecast, those expected counts are the best any method can do on average: their
held-out MAE is the noise floor of a cell. This prints, per stress case x freq x level x bucket
(the benchmark's rows and filters: observed periods of series that have begun), the floor's MAE,
the best peer's MAE (peers from ``--peer-cache``, as the benchmark reads them; Blotter is not
run) and their ratio. Where the floor's ratio is above the cell's target (0.9 where Blotter's
selection ranks the peers, else 1), no forecast meets the target in expectation.

Usage: ``python -m tests.bench.forecast_oracle_study --peer-cache DIR``.
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import numpy as np
import pandas as pd

from ml.config import FREQ_SPECS, ForecastConfig, buckets_of
from ml.panel import build_panel
from ml.peers import PEERS, peer_rows
from tests.bench import forecast_data
from tests.bench.forecast_eval import begun
from tests.bench.forecast_loss_study import _truth


def cells(case: forecast_data.Case, freq: str, cache: Path) -> pd.DataFrame:
    """Per level x bucket: n, the floor's MAE, the best peer's, whether peers are ranked."""
    truth = _truth(case, freq)
    full = build_panel(case.counts, freq)
    horizon, spec = forecast_data.YEAR[freq], FREQ_SPECS[freq]
    frames = []
    for origin in case.origins[freq]:
        idx = int(full.periods.get_loc(origin))
        hist = full.truncated(idx)
        actual = full.y[:, idx + 1 : idx + 1 + horizon]
        n, h_obs = full.n_series, actual.shape[1]
        levels = full.keys["geo_level"].to_numpy()
        key = f"{case.name}-{freq}-{origin:%Y-%m-%d}"
        path = cache / (key.replace(" ", "_").replace("/", "_").replace("%", "pct") + ".pkl")
        columns, _ = pickle.loads(path.read_bytes())  # noqa: S301  (the bench's own cache)
        ranked = set(levels[peer_rows(_Ctx(hist), ForecastConfig().peer_max_series)])
        frame = pd.DataFrame(
            {
                "level": np.repeat(levels, h_obs),
                "bucket": np.tile(buckets_of(freq, h_obs), n),
                "y": actual.reshape(-1),
                "floor": truth[:, idx + 1 : idx + 1 + h_obs].reshape(-1),
                "ranked": np.repeat(np.isin(levels, list(ranked)), h_obs),
            }
            | {p: columns[f"{p}_mean"] for p in PEERS}
        )
        known = np.repeat(begun(full.y, idx, spec.train_window), h_obs)
        frames.append(frame[np.isfinite(frame["y"]) & known])
    data = pd.concat(frames, ignore_index=True)
    out = []
    for (level, bucket), cell in data.groupby(["level", "bucket"], sort=False):
        maes = {
            m: float(np.abs(cell["y"] - cell[m]).mean())
            for m in ("floor", *PEERS)
            if np.isfinite(cell[m]).all()
        }
        peers = {m: v for m, v in maes.items() if m != "floor"}
        best = min(peers, key=peers.get)
        target = 0.9 if cell["ranked"].all() else 1.0
        out.append(
            {
                "case": case.name, "freq": freq, "level": level, "bucket": bucket,
                "n": len(cell), "floor": maes["floor"], "best peer": f"{best} {peers[best]:.2f}",
                "floor / best": maes["floor"] / peers[best], "target": target,
            }
        )  # fmt: skip
    return pd.DataFrame(out)


class _Ctx:
    """The panel holder ``peer_rows`` reads."""

    def __init__(self, panel) -> None:  # noqa: ANN001
        self.panel = panel


def main(argv: list[str] | None = None) -> None:
    """Print every stress cell's floor and whether its target is within reach."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench.forecast_oracle_study")
    parser.add_argument("--peer-cache", type=Path, required=True)
    args = parser.parse_args(argv)
    parts = [
        cells(case, freq, args.peer_cache)
        for case in forecast_data.stress_cases()
        for freq in case.origins
    ]
    table = pd.concat(parts, ignore_index=True)
    table["reachable"] = table["floor / best"] <= table["target"]
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(table.round(3).to_string(index=False))
    print(f"{int((~table['reachable']).sum())} of {len(table)} cells out of reach of the floor")


if __name__ == "__main__":
    main()
