"""Entry point of the ``blotter`` console script: the app plus every command module."""

from orchestration.app import app
from orchestration.commands import ingest  # noqa: F401  (registers commands)

__all__ = ["app"]

if __name__ == "__main__":  # pragma: no cover
    app()
