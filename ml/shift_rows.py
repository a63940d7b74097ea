"""Training rows of the global model whose target lies past a later-detected level shift.

Why (issue 14, f37): a row (series, origin, h) whose origin precedes a level shift and whose
target follows it has the ratio post / pre as its target, a change its origin's features
could not foresee. The tree still explains it with what it has, most often the series'
volume (``log_level``): Chicago's city learnt "a high level falls" from 2020's rows, and after
a stress case's shift the rows crossing it taught a continued fall. Such a row is known to
cross a shift only once the shift is detected, which is after its origin, but before the fit
whose data includes the detection: ``crossed`` reads only detections at or before the fit's
cutoff, so no row sees beyond the data of its fit.
"""

from __future__ import annotations

import numpy as np

from ml.features import FeatureContext


class ShiftCrossings:
    """Per series, the onsets of the shifts detected at or before ``cutoff`` and their size
    (post-shift mean over pre-shift mean, seasonally adjusted; ``ml.features.level_shifts``).

    One detected shift is re-detected at every later period of its post-shift window, with an
    onset that may move by a period or two as the post segment grows: each detection counts,
    so a row crossing any of its onsets crosses the shift, and its size is their mean.
    """

    def __init__(self, ctx: FeatureContext, cutoff: int) -> None:
        n, t = ctx.shift_len.shape
        known = np.zeros((n, t), dtype=bool)
        known[:, : cutoff + 1] = np.isfinite(ctx.shift_len[:, : cutoff + 1])
        s, det = np.nonzero(known)
        onset = det - ctx.shift_len[s, det].astype(int) + 1
        jump = np.nan_to_num(np.clip(ctx.shift_jump[s, det], 0.0, 10.0), nan=1.0)
        hits = np.zeros((n, t + 1))
        size = np.zeros((n, t + 1))
        np.add.at(hits, (s, onset + 1), 1.0)
        np.add.at(size, (s, onset + 1), jump)
        self._hits = np.cumsum(hits, axis=1)  # [:, k]: detections with onset < k
        self._size = np.cumsum(size, axis=1)

    def crossed(self, s: np.ndarray, o: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
        """Whether a detected onset lies in (o, o + h] (rows that cross a shift), and the mean
        size of the shifts crossed (1 where none)."""
        end = np.minimum(o + h, self._hits.shape[1] - 2)
        hits = self._hits[s, end + 1] - self._hits[s, o + 1]
        size = self._size[s, end + 1] - self._size[s, o + 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            return hits > 0, np.where(hits > 0, size / hits, 1.0)
