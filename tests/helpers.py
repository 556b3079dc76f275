"""Looking at what is stored, directly in the database."""

from __future__ import annotations

from sqlalchemy import text

TABLES = ("organisation", "district", "app_user", "invitation", "client_case", "case_key", "case_value",
          "case_sequence", "dialogue", "audit_event")


def row_counts(bot) -> dict[str, int]:  # noqa: ANN001
    with bot.services.store.engine.connect() as connection:
        return {t: connection.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in TABLES}


def rows(bot, sql: str, **params) -> list:  # noqa: ANN001, ANN003
    """The rows a query finds; `bot` is the test's bot, or its services."""
    services = getattr(bot, "services", bot)
    with services.store.engine.connect() as connection:
        return list(connection.execute(text(sql), params))


def stored_text(bot, table: str) -> str:  # noqa: ANN001
    """All of a table as text, to assert that something is not stored in the clear. Timestamps
    are cut to whole seconds: their microseconds are random digits that can spell, say, a year
    of birth (a test once failed on a timestamp's .199559 holding "1995")."""
    from datetime import datetime

    def shown(value: object) -> object:
        return value.isoformat(timespec="seconds") if isinstance(value, datetime) else value

    return str([[shown(v) for v in row] for row in rows(bot, f"SELECT * FROM {table}")])


def holds_number(text: str, number: int) -> bool:
    """Whether `number` stands in `text` as a number of its own, not as digits inside another
    (a timestamp's fraction, a duration) that happen to spell it: a run once failed on a metric's
    ...2799742434e+09 holding the Telegram id 4243."""
    import re

    return re.search(rf"(?<![\d.]){number}(?![\d.])", text) is not None


def said(user, needle: str) -> list[str]:  # noqa: ANN001
    """Every line of the bot's messages to `user` that contains `needle`, as said on its own or
    as one numbered line of a gathered message (the morning's reminders)."""
    import re

    return [re.sub(r"^\d+\. ", "", line) for m in user.messages() if m.from_bot
            for line in m.text.splitlines() if needle in line]


def metric(exposition: str, name: str) -> float:
    """The sum of a metric's samples whose line starts with `name` (labels included in `name`)."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in exposition.splitlines() if line.startswith(name))
