"""Logging set-up: secrets never reach a log line, and HTTP client logs (which would contain
the bot token in every URL) are kept quiet."""

from __future__ import annotations

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


def configure(level: str, secrets: list[str]) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecrets(secrets))
    keep_personal_data_out()
