"""Calendar files (iCalendar, RFC 5545) for Fallkonferenzen, so they land in Outlook or Thunderbird."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event, vCalAddress, vText

# iTIP wants calendar addresses; the bot sends no mail, so they name people at a domain that
# can never receive any (RFC 2606); what a calendar shows is the CN, the person's name
NO_MAIL = "kim-casebot.invalid"
ALARM_BEFORE = timedelta(minutes=30)


def _person(name: str, who: str, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{who}@{NO_MAIL}")
    address.params["cn"] = vText(name)
    for key, value in params.items():
        address.params[key.replace("_", "-")] = vText(value)
    return address


def conference_ics(*, uid: str, sequence: int, start: datetime, minutes: int, summary: str, description: str,
                   location: str, stamp: datetime, organiser: tuple[int, str], attendee: tuple[int, str],
                   cancelled: bool = False) -> bytes:
    """One event; a changed conference keeps its UID with a higher SEQUENCE, a cancelled one is
    sent with METHOD:CANCEL, which calendar programs apply to the event they already have.
    ORGANIZER and ATTENDEE ((user id, name)) make calendars treat it as an invitation (iTIP,
    RFC 5546, requires both with METHOD:REQUEST); an alarm rings ALARM_BEFORE it begins."""
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
    event.add("organizer", _person(organiser[1], f"staff-{organiser[0]}"))
    event.add("attendee", _person(attendee[1], f"staff-{attendee[0]}", role="REQ-PARTICIPANT",
                                  partstat="NEEDS-ACTION", rsvp="FALSE"))
    if not cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", -ALARM_BEFORE)
        event.add_component(alarm)
    calendar.add_component(event)
    return calendar.to_ical()
