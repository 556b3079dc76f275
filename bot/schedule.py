"""When a message may arrive: working hours and weekends in the organisation's time zone.

All times are stored in UTC and reasoned about in local time (Europe/Berlin), so a reminder
"at eight in the morning" stays at eight across daylight-saving switches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class WorkingHours:
    tz: ZoneInfo
    start: time = time(8, 0)
    end: time = time(18, 0)
    workdays: frozenset[int] = frozenset(range(5))  # Monday to Friday

    def local(self, day: date, at: time) -> datetime:
        """That local wall-clock time, as a UTC moment (fold=0 for the hour that repeats)."""
        return datetime.combine(day, at, tzinfo=self.tz).astimezone(UTC)

    def is_working_time(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz)
        return local.weekday() in self.workdays and self.start <= local.time() < self.end

    def next_delivery(self, moment: datetime) -> datetime:
        """`moment` if it is working time, else the next working morning."""
        if self.is_working_time(moment):
            return moment
        local = moment.astimezone(self.tz)
        day = local.date() if local.time() < self.start else local.date() + timedelta(days=1)
        while day.weekday() not in self.workdays:
            day += timedelta(days=1)
        return self.local(day, self.start)

    def previous_delivery(self, moment: datetime) -> datetime:
        """`moment` if it is working time, else the last working afternoon before it (for "the day
        before a meeting" that falls on a weekend or at night)."""
        if self.is_working_time(moment):
            return moment
        local = moment.astimezone(self.tz)
        day = local.date() if local.time() >= self.end else local.date() - timedelta(days=1)
        while day.weekday() not in self.workdays:
            day -= timedelta(days=1)
        return self.local(day, (datetime.combine(day, self.end) - timedelta(hours=2)).time())
