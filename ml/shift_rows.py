"""Training rows of the global model that a level shift, detected later, makes misleading.

Every gbm target is ``y[origin + h] / level[origin]``. A row whose target lies past a shift
onset, with an origin before it, teaches the model that a level like the origin's moves by the
shift's size (f37: after a city's drop, "a high level falls" was learnt from such rows through
``log_level`` and applied to the next high level). So does a row whose origin lies just after
the onset while its level still averages both sides of it (the detector's delay: the level is
not re-based yet). The fit leaves both kinds out, for every onset the detector found up to the
fit's cutoff, so no row sees past the data its fit may use.

Only detections made on a seasonally adjusted window count: before a series has a year and a
half of history its seasonal index is 1, and the detector reads the season itself as shifts
(f38: left out, those rows cost the replay city's daily and monthly cells).
"""

from __future__ import annotations

import numpy as np

from ml.config import FreqSpec


class ShiftRows:
    """The detected onsets of one panel, and which training rows they leave out."""

    def __init__(self, shifted: np.ndarray, onset: np.ndarray, spec: FreqSpec) -> None:
        """``shifted``: the level was re-based (series x period); ``onset``: the first
        post-shift period of the detection made at each period (-1 where none counts)."""
        n, t = onset.shape
        self.shifted = shifted
        self.level_window = spec.level_window
        # Per series and onset: the first period at which the detector saw it (t: never).
        # A re-detection whose onset moved by a period or two counts as its own onset.
        self.found = np.full((n, t), t, dtype=int)
        import os  # F39 scratch switch

        s, at = np.nonzero(onset >= 0)
        if os.environ.get("F39_ONSET", "interior") in ("interior", "first"):
            inside = at - onset[s, at] + 1 < spec.shift_max
            s, at = s[inside], at[inside]
        if os.environ.get("F39_ONSET", "interior") == "first":  # a new episode only
            new = (at == 0) | ~shifted[s, np.maximum(at - 1, 0)]
            s, at = s[new], at[new]
        np.minimum.at(self.found, (s, onset[s, at]), at)

    def cutoff(self, cutoff: int) -> np.ndarray:
        """Onsets found at or before ``cutoff``, counted cumulatively: column k is the number
        of onsets before period k (series x (period + 1))."""
        known = self.found <= cutoff
        self._cut = cutoff
        zero = np.zeros((known.shape[0], 1), dtype=int)
        return np.concatenate([zero, np.cumsum(known, axis=1)], axis=1)

    def keep(self, counts: np.ndarray, s: np.ndarray, o: np.ndarray, h: int) -> np.ndarray:
        """Whether the rows (series ``s``, origin ``o``, horizon ``h``) stay in a fit whose
        onsets are ``counts`` (``cutoff``): no onset in (o, o + h], and none in the origin's
        level window (o - level_window + 1, o] unless the level is re-based there."""
        top = counts.shape[1] - 1
        crossing = counts[s, np.minimum(o + h + 1, top)] > counts[s, o + 1]
        first = np.clip(o - self.level_window + 2, 0, top)
        mixed = (counts[s, o + 1] > counts[s, first]) & ~self.shifted[s, o]
        import os  # F39 scratch switch, removed before merge

        mode = os.environ.get("F39_ROWS", "mixed")
        if mode == "off":
            return np.ones(len(s), dtype=bool)
        if mode == "cross":
            return ~crossing
        if mode == "delay":  # only origins before the onset's detection
            delay = np.zeros(len(s), dtype=bool)
            for k in range(self.level_window - 1):
                t0 = o - k
                ok = t0 >= 0
                f = self.found[s[ok], t0[ok]]
                delay[ok] |= (f <= self._cut) & (f > o[ok])
            return ~(crossing | (delay & ~self.shifted[s, o]))
        return ~(crossing | mixed)
