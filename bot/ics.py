"""Calendar files (iCalendar, RFC 5545) for Fallkonferenzen, so they land in Outlook or Thunderbird."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event


def conference_ics(*, uid: str, sequence: int, start: datetime, minutes: int, summary: str, description: str,
                   location: str, stamp: datetime, cancelled: bool = False) -> bytes:
    """One event; a changed conference keeps its UID with a higher SEQUENCE, a cancelled one is
    sent with METHOD:CANCEL, which calendar programs apply to the event they already have."""
    calendar = Calendar()
    calendar.add("prodid", "-//KIM Casebot//Fallkonferenz//DE")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)  # UTC; calendar programs show it in the reader's zone
    event.add("dtend", start + timedelta(minutes=minutes))
    event.add("summary", summary)
    event.add("description", description)
    event.add("location", location)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
