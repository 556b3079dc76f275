"""Calendar rules: working hours and weekends in the organisation's time zone, due dates,
follow-ups, snoozing, the next meeting of a series.

All moments are stored in UTC and reasoned about in local time (Europe/Berlin), so a reminder
"at eight in the morning" stays at eight across daylight-saving switches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# follow-up questions about referrals arrive at nine in the morning, local time, on a working day
FOLLOW_UP_TIME = time(9, 0)
# "ask me again later" about a referral
FOLLOW_UP_AGAIN_DAYS = 7
JOUR_FIXE_INTERVAL_DAYS = 14


@dataclass(frozen=True)
class WorkingHours:
    tz: ZoneInfo
    start: time = time(8, 0)
    end: time = time(18, 0)
    workdays: frozenset[int] = frozenset(range(5))  # Monday to Friday

    def local(self, day: date, at: time) -> datetime:
        """That local wall-clock time, as a UTC moment (fold=0 for the hour that repeats)."""
        return datetime.combine(day, at, tzinfo=self.tz).astimezone(UTC)

    def today(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.workdays

    def is_working_time(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz)
        return self.is_working_day(local.date()) and self.start <= local.time() < self.end

    def working_day_from(self, day: date) -> date:
        """`day` if it is a working day, else the next one."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def next_delivery(self, moment: datetime) -> datetime:
        """`moment` if it is working time, else the next working morning."""
        if self.is_working_time(moment):
            return moment
        local = moment.astimezone(self.tz)
        day = local.date() if local.time() < self.start else local.date() + timedelta(days=1)
        return self.local(self.working_day_from(day), self.start)

    def previous_delivery(self, moment: datetime) -> datetime:
        """`moment` if it is working time, else the last working afternoon before it (for "the day
        before a meeting" that falls on a weekend or at night)."""
        if self.is_working_time(moment):
            return moment
        local = moment.astimezone(self.tz)
        day = local.date() if local.time() >= self.end else local.date() - timedelta(days=1)
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return self.local(day, (datetime.combine(day, self.end) - timedelta(hours=2)).time())


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day where it is shorter (31 Jan + 1 = 28/29 Feb)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise ValueError("no such month")


def assessment_due(intake_on: date, days: int) -> date:
    """The first assessment is due `days` after the intake."""
    return intake_on + timedelta(days=days)


def reassessment_due(assessed_on: date, months: int) -> date:
    """The next re-assessment, by the organisation's interval."""
    return add_months(assessed_on, months)


def referral_follow_up(now: datetime, days: int, hours: WorkingHours) -> tuple[date, datetime]:
    """(day, moment) to ask how a referral went, `days` after `now`: on a working day at nine
    (or at the start of work, if that is later), never on a weekend or at night."""
    day = hours.working_day_from(hours.today(now) + timedelta(days=days))
    return day, hours.local(day, max(FOLLOW_UP_TIME, hours.start))


def snooze_until(now: datetime, hours: WorkingHours) -> datetime:
    """A reminder snoozed now comes back at the start of the next working day."""
    tomorrow = hours.today(now) + timedelta(days=1)
    return hours.local(hours.working_day_from(tomorrow), hours.start)


def next_meeting(first_on: date, interval_days: int, today: date) -> date:
    """The next meeting of a series (today, if one is today)."""
    if today <= first_on:
        return first_on
    behind = (today - first_on).days % interval_days
    return today if behind == 0 else today + timedelta(days=interval_days - behind)


def is_meeting_day(first_on: date, interval_days: int, today: date) -> bool:
    return today >= first_on and (today - first_on).days % interval_days == 0
