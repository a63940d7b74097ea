"""Issue 16: the run's data cutoff reaches dbt in the environment (``BLOTTER_DBT_DATA_CUTOFF``).

A ``--vars`` value that changes every day makes dbt parse the whole project every day; an
environment variable re-parses only the files that read it. ``--vars`` still wins, so an
analyst's ``dbt build --vars '{"data_cutoff": ...}'`` means what it says, and a malformed value
stops the compile with one line either way.
"""

from __future__ import annotations

import os
from pathlib import Path

from conftest import dbt

from orchestration.dbt_invoke import CUTOFF_ENV

WINDOW = "int_data_window"


def _compiled_cutoff(db: Path, **kwargs: object) -> str:
    result = dbt(db, "compile", select=[WINDOW], **kwargs)  # type: ignore[arg-type]
    assert result.success, result.error
    compiled = next(Path(os.environ["DBT_TARGET_PATH"], "compiled").rglob(f"{WINDOW}.sql"))
    line = next(x for x in compiled.read_text().splitlines() if "as data_cutoff_date" in x)
    return line.strip()


def test_the_cutoff_comes_from_the_environment_and_vars_win(built_copy: Path) -> None:
    from_env = _compiled_cutoff(built_copy, extra_env={CUTOFF_ENV: "2025-06-09"})
    assert from_env == "cast('2025-06-09' as date) as data_cutoff_date"
    both = _compiled_cutoff(
        built_copy, extra_env={CUTOFF_ENV: "2025-06-09"}, vars={"data_cutoff": "2025-06-08"}
    )
    assert both == "cast('2025-06-08' as date) as data_cutoff_date"


def test_a_malformed_cutoff_in_the_environment_is_a_clear_error(built_copy: Path) -> None:
    result = dbt(built_copy, "compile", select=[WINDOW], extra_env={CUTOFF_ENV: "June 9"})
    assert not result.success
    message = (result.error or "") + " ".join(n.message or "" for n in result.nodes)
    assert "data_cutoff must be an ISO date" in message and "June 9" in message
