"""The trust suite reuses the orchestration tests' helpers (``orch_helpers.schema_digest``).

pytest puts each test folder on ``sys.path`` only while it collects that folder, so the
orchestration folder is added here for a run of this folder alone.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ORCHESTRATION_TESTS = Path(__file__).resolve().parents[1] / "orchestration"
if str(_ORCHESTRATION_TESTS) not in sys.path:
    sys.path.insert(0, str(_ORCHESTRATION_TESTS))

# The scenarios (module-scoped fixtures, one per step of the operator's life) live in
# operator_scenarios.py; importing them here makes them fixtures of the test module.
from operator_scenarios import (  # noqa: E402, F401
    earlier_start,
    first_run,
    full_refreshes,
    future_as_of,
    key_a_kills,
    key_rotation,
    life,
)
