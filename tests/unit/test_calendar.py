"""Working hours across weekends, nights and daylight-saving switches (Europe/Berlin)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from domain.calendar import WorkingHours

BERLIN = ZoneInfo("Europe/Berlin")
HOURS = WorkingHours(BERLIN)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def test_working_time_passes_straight_through():
    assert HOURS.next_delivery(local(2026, 11, 24, 10, 30)) == local(2026, 11, 24, 10, 30)


def test_evenings_wait_for_the_next_morning_and_weekends_for_monday():
    assert HOURS.next_delivery(local(2026, 11, 24, 18, 0)) == local(2026, 11, 25, 8, 0)
    assert HOURS.next_delivery(local(2026, 11, 24, 6, 59)) == local(2026, 11, 24, 8, 0)
    assert HOURS.next_delivery(local(2026, 11, 27, 19, 0)) == local(2026, 11, 30, 8, 0)  # Friday evening
    assert HOURS.next_delivery(local(2026, 11, 28, 12, 0)) == local(2026, 11, 30, 8, 0)  # Saturday


def test_eight_oclock_stays_eight_oclock_across_daylight_saving():
    # the night of 28/29 March 2027: clocks go from 02:00 to 03:00 (UTC+1 to UTC+2)
    before = HOURS.next_delivery(local(2027, 3, 26, 20, 0))  # Friday evening, winter time
    assert before == local(2027, 3, 29, 8, 0) and before.astimezone(UTC).hour == 6  # Monday, summer time
    assert local(2027, 3, 26, 8, 0).astimezone(UTC).hour == 7
    # 31 October 2027: back from 03:00 to 02:00
    after = HOURS.next_delivery(local(2027, 10, 30, 12, 0))  # Saturday
    assert after == local(2027, 11, 1, 8, 0) and after.astimezone(UTC).hour == 7


def test_the_day_before_a_monday_meeting_is_friday_afternoon():
    assert HOURS.previous_delivery(local(2026, 11, 29, 10, 0)) == local(2026, 11, 27, 16, 0)  # Sunday -> Friday
    assert HOURS.previous_delivery(local(2026, 11, 25, 7, 0)) == local(2026, 11, 24, 16, 0)  # early -> day before
    assert HOURS.previous_delivery(local(2026, 11, 25, 11, 0)) == local(2026, 11, 25, 11, 0)
