"""Training rows of the global model that a level shift, detected later, makes misleading.

Every gbm target is ``y[origin + h] / level[origin]``. A row whose origin lies before a shift
onset and whose target lies past it teaches the model that a level like the origin's moves by
the shift's size (f37: after a city's drop, "a high level falls" was learnt from such rows
through ``log_level`` and applied to the next high level). The fit leaves those rows out, for
every onset the detector found up to the fit's cutoff, so no row sees past the data its fit may
use (f37's `F37_DROP`, f38's `drop`).

Which detections count (f38, f39):
- only those made on a seasonally adjusted window: before a series has a year and a half of
  history its seasonal index is 1, and the detector reads the season itself as shifts;
- only those whose split lies inside the detector's range (post-shift segment shorter than
  ``shift_max``). At ``shift_max`` the split sits at the window's edge: the level is still
  re-based, but the onset is not located (the true one lies at or before it), and counting it
  moved the onset forward by up to ``shift_max`` periods, leaving out post-shift rows.
"""

from __future__ import annotations

import numpy as np

from ml.config import FreqSpec


class ShiftRows:
    """The located onsets of one panel, and which training rows they leave out."""

    def __init__(self, onset: np.ndarray, spec: FreqSpec) -> None:
        """``onset``: the first post-shift period of the detection made at each period (series
        x period; -1 where none counts)."""
        n, t = onset.shape
        s, at = np.nonzero(onset >= 0)
        located = at - onset[s, at] + 1 < spec.shift_max
        s, at = s[located], at[located]
        # Per series and onset: the first period at which the detector located it (t: never).
        # A re-detection whose onset moved by a period or two counts as its own onset.
        self.found = np.full((n, t), t, dtype=int)
        np.minimum.at(self.found, (s, onset[s, at]), at)

    def cutoff(self, cutoff: int) -> np.ndarray:
        """Onsets found at or before ``cutoff``, counted cumulatively: column k is the number
        of onsets before period k (series x (period + 1))."""
        known = self.found <= cutoff
        zero = np.zeros((known.shape[0], 1), dtype=int)
        return np.concatenate([zero, np.cumsum(known, axis=1)], axis=1)

    def keep(self, counts: np.ndarray, s: np.ndarray, o: np.ndarray, h: int) -> np.ndarray:
        """Whether the rows (series ``s``, origin ``o``, horizon ``h``) stay in a fit whose
        onsets are ``counts`` (``cutoff``): no onset in (o, o + h]."""
        top = counts.shape[1] - 1
        return counts[s, np.minimum(o + h + 1, top)] == counts[s, o + 1]
