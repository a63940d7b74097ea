"""Structured logging for ``blotter run``: text or JSON lines, always with secrets redacted.

Environment variables read here: none directly. The redactor is given the secret values by the
caller (``orchestration.settings.secret_values()`` reads ``BLOTTER_SOCRATA_APP_TOKEN``,
``BLOTTER_NOTIFY_WEBHOOK`` and ``BLOTTER_PSEUDONYM_KEY``).

Redaction happens in a logging *filter* on the handler, so every record that leaves the process
(message, arguments, exception text and structured ``extra`` fields) has passed through it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, Any

LOGGER_NAME = "blotter"
REDACTED = "***"
LOG_FORMATS = ("text", "json")

# Tokens that travel inside URLs: query parameters such as `$$app_token=...` or `?token=...`,
# and `user:password@` credentials. Matched generically so an unconfigured secret is still hidden.
_URL_SECRET_PARAM = re.compile(
    r"(?P<key>[?&](?:\$\$app_token|app_token|token|access_token|api_key|apikey|key|sig|"
    r"signature|password|secret)=)[^&#\s\"']+",
    re.IGNORECASE,
)
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s:\"']+:[^/@\s\"']+@", re.I)
# Slack-style incoming webhook paths are bearer secrets in themselves.
_WEBHOOK_PATH = re.compile(r"(?P<keep>/services/)[A-Za-z0-9_/-]+")
_HEADER_TOKEN = re.compile(r"(?P<key>X-App-Token['\"]?\s*[:=]\s*['\"]?)[^'\"\s,}]+", re.I)

# Attributes every LogRecord has; anything else came in through `extra=` and is structured data.
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class Redactor:
    """Replaces known secret values and URL-borne tokens with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first so a secret that contains another is removed whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """Return ``text`` with every secret removed."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        text = _URL_SECRET_PARAM.sub(lambda m: m.group("key") + REDACTED, text)
        text = _URL_USERINFO.sub(lambda m: m.group("scheme") + REDACTED + "@", text)
        text = _WEBHOOK_PATH.sub(lambda m: m.group("keep") + REDACTED, text)
        return _HEADER_TOKEN.sub(lambda m: m.group("key") + REDACTED, text)

    def value(self, value: Any) -> Any:
        """Redact strings inside an arbitrary JSON-like value."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value


class RedactingFilter(logging.Filter):
    """Rewrites each record in place so no formatter can see a secret."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact message, args, exception text and ``extra`` fields; never drops a record."""
        record.msg = self.redactor(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self.redactor(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        for key, val in list(vars(record).items()):
            if key not in _STANDARD_ATTRS:
                setattr(record, key, self.redactor.value(val))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, plus every ``extra`` field."""

    def format(self, record: logging.LogRecord) -> str:
        """Serialise ``record`` (already redacted by the filter)."""
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        doc.update({k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS})
        if record.exc_text:
            doc["exc"] = record.exc_text
        return json.dumps(doc, default=str)


class TextFormatter(logging.Formatter):
    """``HH:MM:SS level message key=value ...`` for people."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` with its ``extra`` fields appended."""
        ts = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        extras = " ".join(f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD_ATTRS)
        line = f"{ts} {record.levelname.lower():7} {record.getMessage()}"
        line = f"{line} {extras}" if extras else line
        return f"{line}\n{record.exc_text}" if record.exc_text else line


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at emit time (test runners swap it per command)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # not setStream(): that flushes the old, maybe closed, stream
        super().emit(record)


def configure_logging(
    log_format: str = "text",
    secrets: Iterable[str] = (),
    stream: IO[str] | None = None,
    level: int = logging.INFO,
) -> logging.Logger:
    """Configure the ``blotter`` logger and return it.

    Args:
        log_format: ``text`` or ``json``.
        secrets: values to redact wherever they appear.
        stream: where lines go (default stderr, so ``--json`` stdout stays clean).
        level: minimum level.

    Raises:
        ValueError: on an unknown format.
    """
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format {log_format!r} is not one of {', '.join(LOG_FORMATS)}")
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.addFilter(RedactingFilter(Redactor(secrets)))
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logger = logging.getLogger(LOGGER_NAME)
    for old in list(logger.handlers):
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return logger


def get_logger(name: str = "") -> logging.Logger:
    """Child of the ``blotter`` logger (``blotter.run``, ``blotter.publish``...)."""
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)
