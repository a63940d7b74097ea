"""Record-level faults of the replay API: which rows of a page are served broken, and how.

Kinds (``Table.malformed``): 1 unparsable ``incident_datetime``, 2 non-numeric ``latitude``,
3 no ``case_number``; kind 4 (``future_dated``) dates the incident ten years ahead, the typo a
year field invites. A deterministic share of rows carries each fault, and the first page of a
run also carries one of each on its first rows, so even a one-page run sees every fault.

Environment variables read here: none.
"""

from __future__ import annotations

import numpy as np

from replay.table import Table

# Record faults by kind (see ``Table.malformed``); kind 4 is a future-dated incident time.
MALFORMED = (
    (1, "incident_datetime", "not-a-date"),
    (2, "latitude", "42.9x"),
    (3, "case_number", None),
)
FUTURE_KIND = 4
FUTURE_SHIFT_MS = 3653 * 86_400_000  # ten years ahead, the typo a year field invites


def fault_kinds(
    table: Table, window: np.ndarray, faults: frozenset[str], first_page: bool
) -> np.ndarray | None:
    """Record fault kind per row of ``window`` (None when no record fault is on).

    A deterministic share of rows carries each fault; the first page of a run also carries
    one of each kind on its first rows, so even a one-page run sees every fault.
    """
    if not faults & {"malformed", "future_dated"}:
        return None
    kinds = np.zeros(len(window), dtype=np.int64)
    forced: list[int] = []
    if "malformed" in faults:
        kinds = table.malformed[window].astype(np.int64)
        forced += [kind for kind, _, _ in MALFORMED]
    if "future_dated" in faults and table.future is not None:
        kinds = np.where((kinds == 0) & table.future[window], FUTURE_KIND, kinds)
        forced.append(FUTURE_KIND)
    if first_page:
        m = min(len(forced), len(window))
        kinds[:m] = forced[:m]
    return kinds


def replace_pieces(part: np.ndarray, hit: np.ndarray, pieces: list[bytes]) -> np.ndarray:
    """Put ``pieces`` (one per row in ``hit``) in place of those rows' pieces."""
    width = max(len(p) for p in pieces)
    if width > part.shape[1]:
        part = np.pad(part, ((0, 0), (0, width - part.shape[1])))
    part[hit] = 0
    for row, piece in zip(hit, pieces, strict=True):
        part[row, : len(piece)] = np.frombuffer(piece, dtype=np.uint8)
    return part
