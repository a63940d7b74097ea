"""Entry point of the ``blotter`` console script: the app plus every command module."""

import orchestration.commands.dashboard  # noqa: F401  (dashboard)
import orchestration.commands.demo_api  # noqa: F401  (demo-api)
import orchestration.commands.forecast  # noqa: F401  (forecast, model)
import orchestration.commands.forecast_file  # noqa: F401  (forecast-file)
import orchestration.commands.ingest  # noqa: F401  (ingest)
import orchestration.commands.run  # noqa: F401  (run, runs)
import orchestration.commands.transform  # noqa: F401  (transform)
from orchestration.app import app

__all__ = ["app"]

if __name__ == "__main__":  # pragma: no cover
    app()
