"""Entry point of the ``blotter`` console script: the app plus every command module."""

import orchestration.commands.forecast  # noqa: F401  (forecast, model)
from orchestration.app import app
from orchestration.commands import ingest  # noqa: F401  (registers commands)
from orchestration.commands import run  # noqa: F401

__all__ = ["app"]

if __name__ == "__main__":  # pragma: no cover
    app()
