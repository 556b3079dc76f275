"""What a scheduled message says, by its kind: in the recipient's language, cases by code.

Each builder looks again at what the message is about and returns None when it no longer
holds (the assessment was done, the case changed hands, the conference was cancelled).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import pack
from bot.domains import LIFE_DOMAINS, REFERRAL_STATUSES, label_of
from bot.i18n import N_, Translator
from storage.models import Outbox
from storage.types import Role, StaffUser

FOLLOW_UP_ANSWERS = ("accepted", "completed", "declined", "no-show", "no-offer", "waiting-list")


@dataclass(frozen=True)
class Notice:
    text: str
    keyboard: InlineKeyboardMarkup | None = None
    document: tuple[bytes, str] | None = None  # (content, file name), e.g. a calendar file
    photo: bytes | None = None  # a chart


def _button(t: Translator, label: str, *parts: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(t.plain(label), callback_data=pack(*parts))


def _reminder_keyboard(t: Translator, row: Outbox, code: str, action: tuple[str, str]) -> InlineKeyboardMarkup:
    """Every reminder can be acted on: open the case, do the thing, snooze, or mark it done."""
    return InlineKeyboardMarkup([
        [_button(t, N_("📂 Open case"), "c", "o", code), _button(t, action[0], "k", action[1], code)],
        [_button(t, N_("⏰ Tomorrow"), "o", row.id, "z"), _button(t, N_("✔ Done"), "o", row.id, "d")],
    ])


def case_reminder(services, row: Outbox, user: StaffUser, t: Translator) -> Notice | None:  # noqa: ANN001
    subject = services.store.casework.reminder_subject(row.kind, row.ref_id, user.id, row.dedupe_key)
    if subject is None:
        return None
    code, when = t.isolate(subject["code"]), t.date(subject["date"])
    texts = {
        "reassess-soon": (N_("Re-assessment of {code} is due on {date}."), (N_("📝 Assessment"), "assess")),
        "reassess-overdue": (N_("Re-assessment of {code} is overdue since {date}."), (N_("📝 Assessment"), "assess")),
        "goal-due": (N_("A goal of {code} ({domain}) is due on {date}."), (N_("🎯 Goals"), "goals")),
        "goal-overdue": (N_("A goal of {code} ({domain}) is overdue since {date}."), (N_("🎯 Goals"), "goals")),
        "silent-case": (N_("No contact with {code} since {date}. Nobody should fall through the net."),
                        (N_("☎ Contact"), "note")),
    }
    message, action = texts[row.kind]
    domain = t.plain(label_of(LIFE_DOMAINS, subject.get("domain", "")))
    return Notice(t.gettext(message, code=code, date=when, domain=domain),
                  _reminder_keyboard(t, row, subject["code"], action))


def referral_follow_up(services, row: Outbox, user: StaffUser, t: Translator) -> Notice | None:  # noqa: ANN001
    subject = services.store.referrals.follow_up_subject(row.ref_id)
    if subject is None:
        return None
    code, referral = subject
    labels = {c.value: t.plain(c.label) for c in REFERRAL_STATUSES}
    buttons = [InlineKeyboardButton(labels[s], callback_data=pack("r", referral.id, s)) for s in FOLLOW_UP_ANSWERS]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([_button(t, N_("⏰ Ask again in 7 days"), "r", referral.id, "later")])
    return Notice(t.gettext(N_("How did the referral of {code} to {service} go? The result is recorded in the case."),
                            code=t.isolate(code), service=referral.service_name), InlineKeyboardMarkup(rows))


def handover_request(services, row: Outbox, user: StaffUser, t: Translator) -> Notice | None:  # noqa: ANN001
    subject = services.store.referrals.handover_subject(row.ref_id)
    if subject is None:
        return None
    code, note, _, _ = subject
    return Notice(t.gettext(N_("Case {code} is to be handed over to you. Note from the previous case manager:\n{note}"),
                            code=t.isolate(code), note=note),
                  InlineKeyboardMarkup([[_button(t, N_("✔ Accept"), "h", row.ref_id, "a"),
                                         _button(t, N_("✖ Decline"), "h", row.ref_id, "d")]]))


def delivery_failed(services, row: Outbox, user: StaffUser, t: Translator) -> Notice | None:  # noqa: ANN001
    """To the coordinators: a colleague blocked the bot and misses their reminders."""
    failed = services.store.staff.user_by_id(row.ref_id) if row.ref_id else None
    if failed is None:
        return None
    return Notice(t.gettext(N_("A reminder to {name} (district {district}) could not be delivered: they "
                               "have blocked the bot. Please make sure their cases are looked after."),
                            name=failed.label, district=failed.district_code or "–"))


def conference(services, row: Outbox, user: StaffUser, t: Translator) -> Notice | None:  # noqa: ANN001
    """Invitation, change, cancellation (with a calendar file), reminders, and the outcome question."""
    from bot.ics import conference_ics

    info = services.store.conferences.info(row.ref_id, for_user=user.id)
    cancelled = row.kind == "conference-cancel"
    if info is None or (info.status != "scheduled" and not cancelled):
        return None
    staff = {u.id: u.label for role in Role for u in services.store.staff.members(user.org_id, role)}
    details = t.gettext(N_("{when} · {minutes} min\nPlace: {place}\nParticipants: {people}\nAgencies: {agencies}\n"
                           "Agenda: {agenda}"),
                        when=t.datetime(info.starts_at), minutes=info.minutes, place=info.place,
                        people=", ".join(staff.get(i, f"#{i}") for i in info.participant_ids),
                        agencies=", ".join(info.services) or "–", agenda=info.agenda)
    headline = {
        "conference-invite": N_("Invitation: Fallkonferenz on {code}"),
        "conference-update": N_("Changed: Fallkonferenz on {code}"),
        "conference-cancel": N_("Cancelled: Fallkonferenz on {code}"),
        "conference-reminder-day": N_("Tomorrow: Fallkonferenz on {code}"),
        "conference-reminder-hour": N_("In an hour: Fallkonferenz on {code}"),
        "conference-outcome": N_("How did the Fallkonferenz on {code} go? Please record who came and what was decided."),
    }[row.kind]
    text = t.gettext(headline, code=t.isolate(info.code))
    if row.kind == "conference-outcome":
        return Notice(text, InlineKeyboardMarkup([[_button(t, N_("📝 Record outcome"), "v", info.id, "o")]]))
    if row.kind in ("conference-invite", "conference-update", "conference-cancel"):
        ics = conference_ics(uid=f"conference-{info.id}@kim-casebot", sequence=info.sequence, start=info.starts_at,
                             minutes=info.minutes, summary=t.plain(N_("Fallkonferenz {code}"), code=info.code),
                             description=info.agenda, location=info.place, stamp=services.store.clock.now(),
                             cancelled=cancelled)
        return Notice(f"<b>{text}</b>\n{details}", document=(ics, f"fallkonferenz-{info.code}.ics"))
    return Notice(f"<b>{text}</b>\n{details}")


def jourfixe_agenda(services, row: Outbox, user: StaffUser, t: Translator) -> Notice | None:  # noqa: ANN001
    series = services.store.jourfixe.series(user.org_id)
    if series is None:
        return None
    today = services.local_now().date()
    items = services.store.jourfixe.items(user.org_id, today)
    lines = [t.gettext(N_("<b>Jour fixe today at {time}</b> · {place}"), time=t.isolate(series.at), place=series.place)]
    lines += [f"{n}. {escape(item.text)}" for n, item in enumerate(items, start=1)] or [
        t.gettext(N_("No agenda items this time."))]
    return Notice("\n".join(lines))


def scheduled_digest(services, row: Outbox, user: StaffUser, t: Translator) -> Notice | None:  # noqa: ANN001
    from bot import digest

    frequency, _ = services.store.staff.digest_preferences(user.id)
    if frequency == "off" or user.role is not Role.COORDINATOR:
        return None
    result = digest.build(services, user.org_id, t, days=1 if frequency == "daily" else 7)
    return Notice(result.text, photo=result.chart)


BUILDERS: dict[str, Callable[..., Notice | None]] = {
    "reassess-soon": case_reminder, "reassess-overdue": case_reminder, "goal-due": case_reminder,
    "goal-overdue": case_reminder, "silent-case": case_reminder, "referral-follow-up": referral_follow_up,
    "handover-request": handover_request, "delivery-failed": delivery_failed,
    **{kind: conference for kind in ("conference-invite", "conference-update", "conference-cancel",
                                     "conference-reminder-day", "conference-reminder-hour", "conference-outcome")},
    "jourfixe-agenda": jourfixe_agenda, "digest": scheduled_digest,
}


def compose(services, row: Outbox, user: StaffUser) -> Notice | None:  # noqa: ANN001
    builder = BUILDERS.get(row.kind)
    if builder is None:
        return None
    t = services.catalogs.get(user.language or services.settings.default_language)
    return builder(services, row, user, t)
