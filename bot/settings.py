"""Configuration: environment variables (and a `.env` file), validated once at start-up."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.i18n import SUPPORTED_LANGUAGES


def _data_dir() -> Path:
    """Where the bot keeps its data by default: ./var under the directory it runs in (never the
    installed code's directory, which is read-only or shared in a real installation)."""
    return Path.cwd() / "var"


# Telegram tokens look like "123456789:AA...": refuse anything else, including the
# placeholders people copy from documentation, before the bot talks to anybody.
_TOKEN_PATTERN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{30,}$")
_PLACEHOLDER_TOKENS = {"changeme", "your-token", "<token>", "123:abc"}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Settings(BaseSettings):
    """Everything the bot reads from its environment; see the README's configuration table."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    database_url: str = Field(default_factory=lambda: f"sqlite:///{_data_dir() / 'casebot.sqlite3'}")
    master_key_file: Path = Field(default_factory=lambda: _data_dir() / "master.key")
    # the key file's content itself, for operators whose secret store hands out environment
    # variables; a file (MASTER_KEY_FILE, e.g. $CREDENTIALS_DIRECTORY/casebot-master-key from
    # systemd-creds) is preferred: `casebot rotate-key` can only rotate a key held in a file
    master_key: SecretStr | None = None
    default_language: str = "de"
    timezone: str = "Europe/Berlin"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    # /healthz, /readyz and /metrics (bot/ops.py) on this port, in either mode; 0: not served
    health_port: int = Field(default=0, ge=0, le=65535)
    health_listen: str = "127.0.0.1"
    # /readyz turns false when the oldest message due has waited this long (the dispatcher lags)
    ready_lag_seconds: int = Field(default=900, ge=30)
    # Bot API calls per second overall (Telegram allows about 30); 429s are waited out and retried.
    # 0 switches pacing off: only for a Bot API that has no limits (in-process tests, benchmarks).
    telegram_rate_limit: int = Field(default=30, ge=0, le=1000)
    # connections to the Bot API at most; more requests wait for a free one (up to 10 s)
    telegram_connections: int = Field(default=32, ge=1, le=1024)
    assessment_due_days: int = Field(default=14, ge=1, le=365)
    # the organisation's re-assessment interval, and when to ask how a referral went
    reassessment_months: int = Field(default=3, ge=1, le=24)
    referral_follow_up_days: int = Field(default=14, ge=1, le=180)
    # reminders: how many days ahead, after how many days without contact a case counts as silent
    reminder_days_before: int = Field(default=7, ge=0, le=60)
    silent_case_days: int = Field(default=60, ge=7, le=365)
    # working hours (local): reminders outside them wait for the next working morning
    work_start: str = "08:00"
    work_end: str = "18:00"
    work_days: str = "mon,tue,wed,thu,fri"
    # how often each instance looks whether languages changed (uploads, rollbacks, switches)
    locale_refresh_seconds: float = Field(default=5.0, ge=0, le=3600)
    # how often the dispatcher looks for due scheduled messages
    dispatch_interval_seconds: int = Field(default=30, ge=1, le=3600)
    # chat hygiene: a message showing names and details is hidden again after this many seconds
    reveal_seconds: int = Field(default=600, ge=30, le=86400)
    # the PIN on top of Telegram: asked before names, copies and changes after this idle time;
    # PIN_REQUIRED=false only for benchmarks and tests that are about something else
    pin_required: bool = True
    pin_idle_minutes: int = Field(default=30, ge=1, le=1440)
    # worker threads for database work on PostgreSQL (none of it runs on the event loop), and as
    # many connections; SQLite, which has one writer, uses at most four
    database_threads: int = Field(default=16, ge=1, le=256)
    # how long an instance may hold an update it took from the inbox before another instance may
    # take it (an instance that died mid-update: its updates wait this long, then go on elsewhere)
    inbox_lease_seconds: float = Field(default=60.0, ge=1, le=3600)
    log_level: str = "INFO"
    # "json": one JSON object a line (time, level, logger, message) for a log collector; "text": for people
    log_format: str = Field(default="text", pattern="^(text|json)$")
    # the simulator's own database, key and people: never the real ones
    simulator_home: Path = Field(default_factory=lambda: _data_dir() / "simulator")

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        raw = value.get_secret_value().strip()
        if raw.lower() in _PLACEHOLDER_TOKENS or not _TOKEN_PATTERN.match(raw):
            raise ValueError("does not look like a token from @BotFather (digits:letters)")
        return SecretStr(raw)

    @field_validator("telegram_api_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in SUPPORTED_LANGUAGES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LANGUAGES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql")):
            raise ValueError("must start with sqlite:/// or postgresql")
        if value.startswith("postgresql://"):
            # one driver for the whole project: psycopg 3
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value

    @field_validator("work_start", "work_end")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("must be a time like 08:00")
        return value

    @field_validator("work_days")
    @classmethod
    def _days(cls, value: str) -> str:
        days = [d.strip().lower()[:3] for d in value.split(",") if d.strip()]
        if not days or any(d not in WEEKDAYS for d in days):
            raise ValueError("must name days like mon,tue,wed,thu,fri")
        return ",".join(days)

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and not (self.webhook_secret and len(self.webhook_secret.get_secret_value()) >= 16):
            raise ValueError("WEBHOOK_SECRET (at least 16 characters) is required with WEBHOOK_URL")
        if self.webhook_secret and not re.match(r"^[A-Za-z0-9_-]{1,256}$", self.webhook_secret.get_secret_value()):
            raise ValueError("WEBHOOK_SECRET may contain only A-Z, a-z, 0-9, _ and -")
        return self

    @property
    def has_master_key(self) -> bool:
        return self.master_key is not None or self.master_key_file.exists()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def working_hours(self):  # noqa: ANN201
        from datetime import time

        from domain.calendar import WorkingHours

        return WorkingHours(self.tz, time.fromisoformat(self.work_start), time.fromisoformat(self.work_end),
                            frozenset(WEEKDAYS.index(d) for d in self.work_days.split(",")))

    @property
    def token(self) -> str:
        if self.telegram_bot_token is None:
            raise ConfigurationError("TELEGRAM_BOT_TOKEN is not set: get one from @BotFather (see README)")
        return self.telegram_bot_token.get_secret_value()


class ConfigurationError(Exception):
    """A configuration problem, phrased for the operator, never containing a secret."""


def describe_validation_error(error: ValidationError) -> str:
    """One line per problem, naming the variable, never echoing the value (it may be a secret)."""
    parts = []
    for item in error.errors(include_input=False, include_url=False):
        name = "_".join(str(p) for p in item["loc"]).upper() or "configuration"
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{name}: {message}")
    return "; ".join(parts)


def load_settings(**overrides: object) -> Settings:
    """Read the settings or exit with status 2 and a one-line reason."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        print(f"casebot: configuration error: {describe_validation_error(error)}", file=sys.stderr)
        raise SystemExit(2) from None
