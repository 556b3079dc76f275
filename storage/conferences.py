"""Fallkonferenzen: scheduled on a case, with registered participants and external services.

Invitations, reminders (a day and an hour before) and the question for the outcome are outbox
rows keyed by the conference's iCalendar SEQUENCE: a reschedule cancels the rows of the old
sequence and plans the new ones; a cancellation notifies everyone once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlmodel import select

from domain.calendar import WorkingHours
from domain.reminders import ReminderKind
from domain.vocabulary import ConferenceStatus, EntryKind, OutboxState
from storage.casework import row_aad
from storage.crypto import readable
from storage.models import ClientCase, Conference, ConferenceParticipant, Outbox, Service
from storage.types import NewEntry, NotAllowed, StaffUser

if TYPE_CHECKING:
    from storage.store import Store


@dataclass(frozen=True)
class ConferenceInfo:
    id: int
    code: str
    organiser_id: int
    starts_at: datetime
    minutes: int
    place: str | None  # None: cannot be read (damaged, or erased)
    agenda: str | None
    participant_ids: tuple[int, ...]
    services: tuple[str, ...]
    status: str
    sequence: int
    attended: tuple[int, ...] = ()


class ConferenceRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def schedule(self, user: StaffUser, code: str, *, starts_at: datetime, minutes: int, place: str, agenda: str,
                 participant_ids: list[int], service_ids: list[int], hours: WorkingHours,
                 consent_now: list[int] = ()) -> int:
        """`consent_now`: agencies the client consented, at this scheduling, to share data with
        (recorded with the conference's entry in the case file, and audited)."""
        now = self._store.clock.now()
        with self._store.transaction() as s:
            case, key = self._store.casework.case_for_change(s, user, code)
            conference = Conference(org_id=case.org_id, case_id=case.id, organiser_id=user.id, starts_at=starts_at,
                                    minutes=minutes, place_enc=b"", agenda_enc=b"", created_at=now, updated_at=now,
                                    external_services=",".join(str(i) for i in service_ids))
            s.add(conference)
            s.flush()
            conference.place_enc = key.encrypt(place, aad=row_aad(case.id, "conference", conference.id, "place"))
            conference.agenda_enc = key.encrypt(agenda, aad=row_aad(case.id, "conference", conference.id, "agenda"))
            people = sorted({user.id, *participant_ids})
            for person in people:
                s.add(ConferenceParticipant(conference_id=conference.id, user_id=person))
            self._plan(s, conference, people, kind=ReminderKind.CONFERENCE_INVITE, hours=hours)
            names = dict(s.exec(select(Service.id, Service.name).where(Service.id.in_(service_ids))).all()) if service_ids else {}
            self._store.casework.touch(
                s, case, user, "conference.schedule",
                f"conference={conference.id};participants={len(people)};consent_now={len(consent_now)}",
                entry=NewEntry(EntryKind.CONFERENCE, ref_id=conference.id,
                               payload={"agencies": [names.get(i, "–") for i in service_ids],
                                        "consent_now": [names.get(i, "–") for i in consent_now]}))
            return conference.id

    def _plan(self, s, conference: Conference, people: list[int], *, kind: str, hours: WorkingHours) -> None:  # noqa: ANN001
        """The notice to everyone now, the two reminders, and the outcome question afterwards."""
        now, seq, cid = self._store.clock.now(), conference.sequence, conference.id

        def row(user_id: int, what: str, due: datetime) -> Outbox:
            return Outbox(org_id=conference.org_id, user_id=user_id, kind=what, ref_id=cid, due_at=due,
                          dedupe_key=f"{what}:{cid}:{seq}:{user_id}")

        for person in people:
            s.add(row(person, kind, now))
            if kind == ReminderKind.CONFERENCE_CANCEL:
                continue
            day_before = hours.previous_delivery(conference.starts_at - timedelta(days=1))
            if day_before > now:
                s.add(row(person, ReminderKind.CONFERENCE_REMINDER_DAY, day_before))
            if conference.starts_at - timedelta(hours=1) > now:
                s.add(row(person, ReminderKind.CONFERENCE_REMINDER_HOUR, conference.starts_at - timedelta(hours=1)))
        if kind != ReminderKind.CONFERENCE_CANCEL:
            end = conference.starts_at + timedelta(minutes=conference.minutes)
            s.add(row(conference.organiser_id, ReminderKind.CONFERENCE_OUTCOME, hours.next_delivery(end)))

    def _for_change(self, s, user: StaffUser, conference_id: int) -> tuple[Conference, ClientCase]:  # noqa: ANN001
        """The organiser, the case's manager and coordinators may change a conference."""
        conference = s.get(Conference, conference_id)
        case = s.get(ClientCase, conference.case_id) if conference else None
        if conference is None or conference.org_id != user.org_id or conference.status != ConferenceStatus.SCHEDULED:
            raise NotAllowed()
        if user.id != conference.organiser_id:
            self._store.casework.case_for_change(s, user, case.code)  # raises NotAllowed
        return conference, case

    def _cancel_rows(self, s, conference_id: int) -> None:  # noqa: ANN001
        s.exec(update(Outbox).where(Outbox.kind.like("conference-%"), Outbox.ref_id == conference_id,
                                    Outbox.state == OutboxState.DUE).values(state=OutboxState.CANCELLED))

    def reschedule(self, user: StaffUser, conference_id: int, *, starts_at: datetime, hours: WorkingHours) -> None:
        with self._store.transaction() as s:
            conference, case = self._for_change(s, user, conference_id)
            self._cancel_rows(s, conference.id)
            conference.starts_at, conference.sequence = starts_at, conference.sequence + 1
            conference.updated_at = self._store.clock.now()
            s.add(conference)
            s.flush()
            self._plan(s, conference, self._people(s, conference.id), kind=ReminderKind.CONFERENCE_UPDATE, hours=hours)
            self._store.casework.touch(s, case, user, "conference.reschedule", f"conference={conference.id}")

    def cancel(self, user: StaffUser, conference_id: int, *, hours: WorkingHours) -> None:
        with self._store.transaction() as s:
            conference, case = self._for_change(s, user, conference_id)
            self._cancel_rows(s, conference.id)
            conference.status, conference.sequence = ConferenceStatus.CANCELLED, conference.sequence + 1
            s.add(conference)
            s.flush()
            self._plan(s, conference, self._people(s, conference.id), kind=ReminderKind.CONFERENCE_CANCEL, hours=hours)
            self._store.casework.touch(s, case, user, "conference.cancel", f"conference={conference.id}")

    def record_outcome(self, user: StaffUser, conference_id: int, *, attended: list[int], decisions: str) -> str:
        """Who came and what was decided; returns the case code (follow-up tasks become goals)."""
        with self._store.transaction() as s:
            conference, case = self._for_change(s, user, conference_id)
            key = self._store.cases.data_key(s, case.id)
            conference.outcome_enc = key.encrypt(decisions, aad=row_aad(case.id, "conference", conference.id, "outcome"))
            conference.status = ConferenceStatus.HELD
            s.add(conference)
            for participant in s.exec(select(ConferenceParticipant).where(
                    ConferenceParticipant.conference_id == conference.id)).all():
                participant.attended = participant.user_id in attended
                s.add(participant)
            self._cancel_rows(s, conference.id)
            self._store.casework.touch(s, case, user, "conference.outcome",
                                       f"conference={conference.id};attended={len(attended)}",
                                       entry=NewEntry(EntryKind.CONFERENCE_OUTCOME, ref_id=conference.id,
                                                      happened_on=conference.starts_at.astimezone(self._store.tz).date()))
            return case.code

    def _people(self, s, conference_id: int) -> list[int]:  # noqa: ANN001
        return list(s.exec(select(ConferenceParticipant.user_id)
                           .where(ConferenceParticipant.conference_id == conference_id)).all())

    def info(self, conference_id: int, *, for_user: int | None = None) -> ConferenceInfo | None:
        """A conference as its participants see it (place and agenda decrypted); None for anyone else."""
        with self._store.transaction() as s:
            conference = s.get(Conference, conference_id)
            if conference is None:
                return None
            people = self._people(s, conference.id)
            if for_user is not None and for_user not in people:
                return None
            case = s.get(ClientCase, conference.case_id)
            key = self._store.cases.data_key_or_none(s, case.id)  # unreadable parts stay None, the rest shows
            ids = [int(i) for i in conference.external_services.split(",") if i]
            services = s.exec(select(Service.name).where(Service.id.in_(ids))).all() if ids else []
            attended = s.exec(select(ConferenceParticipant.user_id).where(
                ConferenceParticipant.conference_id == conference.id, ConferenceParticipant.attended == True)).all()  # noqa: E712
            return ConferenceInfo(
                id=conference.id, code=case.code, organiser_id=conference.organiser_id, starts_at=conference.starts_at,
                minutes=conference.minutes,
                place=readable(key, conference.place_enc, aad=row_aad(case.id, "conference", conference.id, "place")),
                agenda=readable(key, conference.agenda_enc, aad=row_aad(case.id, "conference", conference.id, "agenda")),
                participant_ids=tuple(people), services=tuple(services), status=conference.status,
                sequence=conference.sequence, attended=tuple(attended),
            )

    def upcoming(self, user: StaffUser, *, days: int = 60) -> list[ConferenceInfo]:
        now = self._store.clock.now()
        with self._store.transaction() as s:
            ids = s.exec(select(Conference.id).join(ConferenceParticipant, ConferenceParticipant.conference_id == Conference.id)
                         .where(ConferenceParticipant.user_id == user.id, Conference.status == ConferenceStatus.SCHEDULED,
                                Conference.starts_at >= now - timedelta(hours=12),
                                Conference.starts_at <= now + timedelta(days=days))
                         .order_by(Conference.starts_at)).all()
        return [info for i in ids if (info := self.info(i)) is not None]
