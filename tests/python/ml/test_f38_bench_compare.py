"""f38: two forecast bench tables compared cell by cell (tests.bench.forecast_compare)."""

from __future__ import annotations

from tests.bench.forecast_compare import compare, load

HEADER = "| data set | freq | level | bucket | n | served by | Blotter |"


def _row(bucket: str, mae: float, ratio: str, verdict: str) -> str:
    cells = ["replay city", "weekly", "city", bucket, "9", "gbm", f"{mae} / 0.8 / 81% / 1.0s"]
    cells += ["1 / 1 / 80% / 1s"] * 5 + [ratio, "✅", "3", "0.8–1.1", "70%–90%", verdict]
    return "| " + " | ".join(cells) + " |"


def test_moved_verdicts_and_the_geometric_mean(tmp_path):
    base, new = tmp_path / "base.md", tmp_path / "new.md"
    base.write_text("\n".join([HEADER, _row("1-7d", 2.0, "0.9 (AutoETS)", "met"),
                               _row("2-4w", 4.0, "1.1 (Prophet)", "miss clear: MAE")]))  # fmt: skip
    new.write_text("\n".join([HEADER, _row("1-7d", 2.0, "0.9 (AutoETS)", "met"),
                              _row("2-4w", 1.0, "0.4 (Prophet)", "met")]))  # fmt: skip
    lines = compare(load(str(base)), load(str(new)))
    assert lines[0] == "2 cells; met / clear / undecidable: 1 / 1 / 0 → 2 / 0 / 0"
    assert lines[1].startswith("Blotter MAE new / base, geometric mean 0.5000 (1 better / 0 worse)")
    assert len(lines) == 3 and "2-4w" in lines[2] and "clear → met" in lines[2]
