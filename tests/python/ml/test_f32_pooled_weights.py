"""The pooled level's weights do not depend on which way a window's draw went (f32).

``ml.pooled_level`` used to take the recent level's Poisson variance from the level itself:
a window that was high by chance looked more precise and kept more of its own level than one
low by chance by as much, so pooled levels leaned upwards. Its variance now comes from the
share estimate's rate. On the old code the two districts below sum to 2.033, not 2.
"""

from __future__ import annotations

import numpy as np

from ml.config import FREQ_SPECS
from ml.pooled_level import pooled_level


def test_a_high_and_a_low_draw_are_pulled_in_by_the_same_weight() -> None:
    spec = FREQ_SPECS["weekly"]
    periods = 3 * spec.year
    y = np.ones((3, periods))  # three districts of one level, one count a week each
    level = np.ones((3, periods))
    level[0, -1], level[1, -1] = 1.5, 0.5  # the last window: one high draw, one low
    flags = np.zeros((3, periods), dtype=bool)
    pooled, share = pooled_level(y, level, flags, flags, np.zeros(3), spec)
    # Every share estimate is 1 (a third of the level's 3); both move towards it equally.
    assert 0.5 < pooled[1, -1] < 1.0 < pooled[0, -1] < 1.5
    np.testing.assert_allclose(pooled[0, -1] + pooled[1, -1], 2.0, rtol=1e-9)
    np.testing.assert_allclose(share[:, -1], 1 / 3)
