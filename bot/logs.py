"""Logging set-up: secrets never reach a log line, and HTTP client logs (which would contain
the bot token in every URL) are kept quiet."""

from __future__ import annotations

import json
import logging


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self._secrets):
            for secret in self._secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
        return True


# Loggers that at DEBUG write whole API calls and updates, message texts (client names) included.
PERSONAL_DATA_LOGGERS = ("telegram", "httpx", "httpcore", "tornado.access")


def keep_personal_data_out() -> None:
    """Cap the loggers that would quote messages, whatever level the operator chose."""
    for name in PERSONAL_DATA_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO or logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING if name != "telegram" else logging.INFO)


class JsonLines(logging.Formatter):
    """One JSON object a line, for a log collector (LOG_FORMAT=json). What the message says is
    what every log line of ours says: kinds and counts, never personal data."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = record.exc_info[0].__name__ if record.exc_info[0] else "unknown"
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str, format_: str, secrets: list[str]) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if format_ == "json":
            handler.setFormatter(JsonLines())
        handler.addFilter(RedactSecrets(secrets))
    keep_personal_data_out()
