"""The one way Blotter overrides environment variables for a block, and restores them after.

Some libraries read settings only from the environment: dbt's ``profiles.yml`` (``env_var``),
dlt's dataset naming and google-cloud-bigquery's emulator host. Everything that must set one for
a call uses :func:`scoped_env`::

    with scoped_env({"BLOTTER_TARGET": "prod"}, hide=("BLOTTER_PSEUDONYM_KEY",)):
        run_dbt(...)

Environment variables read here: whichever the caller names (saved, then restored).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager


@contextmanager
def scoped_env(wanted: Mapping[str, str | None], hide: Sequence[str] = ()) -> Iterator[None]:
    """Set ``wanted`` (None values are left alone) and unset ``hide``; restore both after.

    A name in both is hidden: hiding wins, so a secret never reaches the block.
    """
    saved = {name: os.environ.get(name) for name in (*wanted, *hide)}
    for name in hide:
        os.environ.pop(name, None)
    os.environ.update({k: v for k, v in wanted.items() if v is not None and k not in hide})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
