"""Where the real public samples are: ``BLOTTER_REAL_DATA_DIR``, else ``../shared/real_data``.

They are fixtures, never edited (see real_data/README.md there for provenance). CI clones the
repository next to ``shared/``; from anywhere else, set ``BLOTTER_REAL_DATA_DIR``.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REAL_DATA = Path(os.environ.get("BLOTTER_REAL_DATA_DIR") or REPO.parent / "shared" / "real_data")
CHICAGO_API = REAL_DATA / "chicago_ijzp-q8t2_api_sample_2025-05.csv"
