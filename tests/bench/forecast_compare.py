"""Two `make bench-forecast` tables compared cell by cell (f38).

Reads the Markdown tables ``forecast_run --results FILE`` writes (several files per side, e.g.
one run per ``--only`` data set, joined with commas) and prints the verdict counts of the
cells both sides have, the geometric mean of Blotter's held-out MAE new / base (cells better
and worse beyond ±0.5 %), and every cell whose verdict moved or whose MAE moved by more than
3 %. Usage: ``python -m tests.bench.forecast_compare BASE.md[,BASE2.md] NEW.md[,NEW2.md]``.
"""

from __future__ import annotations

import argparse
import math
import re
from collections import Counter
from pathlib import Path

# Columns of forecast_run.table: data set, freq, level, bucket, n, served by, Blotter, ...
KEY, N, SERVED, BLOTTER, RATIO, INTERVAL, VERDICT = slice(0, 4), 4, 5, 6, 12, 15, 17


def load(paths: str) -> dict[tuple[str, ...], dict]:
    """Cells of the tables in the comma-separated ``paths`` (a later file's cell wins)."""
    cells: dict[tuple[str, ...], dict] = {}
    for path in paths.split(","):
        for line in Path(path).read_text().splitlines():
            cols = [c.strip() for c in line.strip().strip("|").split("|")]
            if not line.startswith("| ") or len(cols) < VERDICT + 1 or cols[0] == "data set":
                continue
            ratio = re.match(r"[\d.]+", cols[RATIO])
            text = cols[VERDICT]
            verdict = "clear" if "clear" in text else "met" if text == "met" else "undecidable"
            cells[tuple(cols[KEY])] = {
                "n": cols[N],
                "mae": float(cols[BLOTTER].split("/")[0]),
                "cov": cols[BLOTTER].split("/")[2].strip(),
                "ratio": float(ratio.group()) if ratio else math.nan,
                "interval": cols[INTERVAL],
                "verdict": verdict,
            }
    return cells


def compare(base: dict, new: dict) -> list[str]:
    """The summary lines and the moved cells."""
    keys = [k for k in base if k in new]
    counts = [Counter(side[k]["verdict"] for k in keys) for side in (base, new)]
    out = [
        f"{len(keys)} cells; met / clear / undecidable: "
        + " → ".join(f"{c['met']} / {c['clear']} / {c['undecidable']}" for c in counts)
    ]
    pairs = [(base[k]["mae"], new[k]["mae"]) for k in keys if base[k]["mae"] > 0 < new[k]["mae"]]
    if pairs:
        geo = math.exp(sum(math.log(n / b) for b, n in pairs) / len(pairs))
        better = sum(n < 0.995 * b for b, n in pairs)
        worse = sum(n > 1.005 * b for b, n in pairs)
        out.append(
            f"Blotter MAE new / base, geometric mean {geo:.4f} ({better} better / {worse} worse)"
        )
    for k in keys:
        b, n = base[k], new[k]
        moved = b["mae"] > 0 and abs(n["mae"] / b["mae"] - 1) > 0.03
        if b["verdict"] != n["verdict"] or moved:
            out.append(
                f"{' | '.join(k)} (n={b['n']}): MAE {b['mae']:.2f} → {n['mae']:.2f}, ÷ best peer "
                f"{b['ratio']:.2f} → {n['ratio']:.2f} ({n['interval']}), coverage {b['cov']} → "
                f"{n['cov']}, {b['verdict']} → {n['verdict']}"
            )
    return out


def main(argv: list[str] | None = None) -> None:
    """Print the comparison of two sides."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench.forecast_compare")
    parser.add_argument("base")
    parser.add_argument("new")
    args = parser.parse_args(argv)
    print("\n".join(compare(load(args.base), load(args.new))))


if __name__ == "__main__":
    main()
