"""What a scheduled message says, by its kind: in the recipient's language, cases by code.

Each builder looks again at what the message is about and returns None when it no longer
holds (the assessment was done, the case changed hands, the conference was cancelled).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.buttons import CASE_ACTION, CASES, CONFERENCE, ERASURE, HANDOVER, REFERRAL, REMINDER, REQUEST, TRANSFER
from bot.choices import label_of
from bot.dialogue_view import MESSAGE_LIMIT, plain_text, visible_length
from bot.dispatcher import Notice
from bot.i18n import N_, UNREADABLE, Translator
from bot.services import Services
from domain import roles
from domain.reminders import ReminderKind
from domain.roles import Role
from domain.vocabulary import (
    FOLLOW_UP_ANSWERS,
    OPEN_REQUESTS,
    Benefits,
    ConferenceStatus,
    LifeDomain,
    RequestStatus,
    ResidenceStatus,
    Source,
)
from storage.types import ScheduledMessage, StaffUser


def _button(t: Translator, label: str, callback_data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(t.plain(label), callback_data=callback_data)


def _reminder_keyboard(t: Translator, row: ScheduledMessage, code: str, action: tuple[str, str]) -> InlineKeyboardMarkup:
    """Every reminder can be acted on: open the case, do the thing, snooze, or mark it done."""
    return InlineKeyboardMarkup([
        [_button(t, N_("📂 Open case"), CASES.data("o", code)), _button(t, action[0], CASE_ACTION.data(action[1], code))],
        [_button(t, N_("⏰ Tomorrow"), REMINDER.data(row.id, "z")), _button(t, N_("✔ Done"), REMINDER.data(row.id, "d"))],
    ])


def case_reminder(services: Services, row: ScheduledMessage, user: StaffUser, t: Translator) -> Notice | None:
    subject = services.store.casework.reminder_subject(row.kind, row.ref_id, user.id, row.dedupe_key)
    if subject is None:
        return None
    code, when = t.isolate(subject["code"]), t.date(subject["date"])
    texts = {
        ReminderKind.REASSESS_SOON: (N_("Re-assessment of {code} is due on {date}."), (N_("📝 Assessment"), "assess")),
        ReminderKind.REASSESS_OVERDUE: (N_("Re-assessment of {code} is overdue since {date}."), (N_("📝 Assessment"), "assess")),
        ReminderKind.GOAL_DUE: (N_("A goal of {code} ({domain}) is due on {date}."), (N_("🎯 Goals"), "goals")),
        ReminderKind.GOAL_OVERDUE: (N_("A goal of {code} ({domain}) is overdue since {date}."), (N_("🎯 Goals"), "goals")),
        ReminderKind.SILENT_CASE: (N_("No contact with {code} since {date}. Nobody should fall through the net."),
                        (N_("☎ Contact"), "note")),
    }
    message, action = texts[ReminderKind(row.kind)]
    domain = t.plain(label_of(LifeDomain, subject.get("domain")))
    return Notice(t.gettext(message, code=code, date=when, domain=domain),
                  _reminder_keyboard(t, row, subject["code"], action), morning_case=subject["code"])


def status_watch(services: Services, row: ScheduledMessage, user: StaffUser, t: Translator) -> Notice | None:
    """The status watcher: an expiring document, an 18th or 27th birthday, a §25a/§25b point.
    A hint to check, never a legal decision (the wording says so)."""
    subject = services.store.watch.subject(row.kind, row.ref_id, user.id, row.dedupe_key)
    if subject is None:
        return None
    code, when = t.isolate(subject["code"]), t.date(subject["date"])
    texts = {
        ReminderKind.STATUS_EXPIRY: (N_("The residence document of {code} ({status}) is valid until {date}. An extension "
                                        "should be applied for in time."), (N_("✏ Change intake"), "change")),
        ReminderKind.AGE_18: (N_("{code} turns 18 on {date}: youth services end, adult services begin. Please check "
                                 "the referrals."), (N_("↪ Referral"), "refer")),
        ReminderKind.AGE_27: (N_("{code} turns 27 on {date}: JMD, Teilhabemanagement and §25a AufenthG end, the MBE "
                                 "begins. Please check the referrals."), (N_("↪ Referral"), "refer")),
        ReminderKind.CHECK_25A: (N_("{code}: from {date}, a residence permit under §25a AufenthG (young people) may be "
                                    "worth examining. A hint to check with the Ausländerbehörde, not a decision."),
                                 (N_("↪ Referral"), "refer")),
        ReminderKind.CHECK_25B: (N_("{code}: from {date}, a residence permit under §25b AufenthG (sustained integration) "
                                    "may be worth examining. A hint to check with the Ausländerbehörde, not a decision."),
                                 (N_("↪ Referral"), "refer")),
    }
    message, action = texts[ReminderKind(row.kind)]
    status = t.plain(label_of(ResidenceStatus, subject.get("status")))
    return Notice(t.gettext(message, code=code, date=when, status=status), _reminder_keyboard(t, row, subject["code"], action),
                  morning_case=subject["code"])


def rechtskreis(services: Services, row: ScheduledMessage, user: StaffUser, t: Translator) -> Notice | None:
    """A change of benefit system or status was recorded: other services are responsible now."""
    subject = services.store.casefile.rechtskreis_subject(row.ref_id, user.id)
    if subject is None:
        return None
    terms = Benefits if subject["field"] == "benefits" else ResidenceStatus
    return Notice(t.gettext(N_("{code} changed from {old} to {new}: a new Rechtskreis. Please offer the referrals "
                               "that now apply (★ in the referral)."), code=t.isolate(subject["code"]),
                            old=t.plain(label_of(terms, subject["old"])), new=t.plain(label_of(terms, subject["new"]))),
                  _reminder_keyboard(t, row, subject["code"], (N_("↪ Referral"), "refer")), morning_case=subject["code"])


def case_reassigned(services: Services, row: ScheduledMessage, user: StaffUser, t: Translator) -> Notice | None:
    """To the case manager who received a case from a coordinator, and to the one who had it."""
    subject = services.store.referrals.reassignment_subject(row.ref_id, user.id)
    if subject is None:
        return None
    code, holder, mine = subject
    if mine:
        return Notice(t.gettext(N_("A coordinator assigned case {code} to you."), code=t.isolate(code)),
                      InlineKeyboardMarkup([[_button(t, N_("📂 Open case"), CASES.data("o", code))]]))
    return Notice(t.gettext(N_("A coordinator assigned case {code} to {name}; it is no longer in your caseload."),
                            code=t.isolate(code), name=holder))


def reveal_expiry(services: Services, row: ScheduledMessage, user: StaffUser, t: Translator) -> Notice | None:
    """Names and details shown a while ago: the message is replaced by a short note."""
    code = (row.dedupe_key or "").split(":")[2:3]
    if not code:
        return None
    if code[0].startswith("M-") and code[0][2:].isdigit():  # a Meldebogen's details (handlers/requests.py)
        return Notice(t.gettext(N_("The details of Meldebogen {code} are hidden again."), code=t.isolate(code[0])),
                      InlineKeyboardMarkup([[_button(t, N_("📂 Open it again"), REQUEST.data(code[0][2:], "open", ""))]]),
                      replaces=row.ref_id)
    return Notice(t.gettext(N_("Names and details of {code} are hidden again."), code=t.isolate(code[0])),
                  InlineKeyboardMarkup([[_button(t, N_("👁 Show names and details"), CASES.data("r", code[0])),
                                         _button(t, N_("📂 Open case"), CASES.data("o", code[0]))]]),
                  replaces=row.ref_id)


def erasure_request(services: Services, row: ScheduledMessage, user: StaffUser, t: Translator) -> Notice | None:
    """To the other coordinators and the admins: confirm or decline an erasure (four eyes)."""
    from domain.retention import ErasureReason

    info = services.store.erasure.info(row.ref_id)
    if info is None or info.state != "pending":
        return None
    asker = services.store.staff.user_by_id(info.requested_by)
    return Notice(t.gettext(N_("Erasure of {code} asked for by {name}: {reason}. It is carried out when a second "
                               "person confirms. Everything personal of the case is then destroyed."),
                            code=t.isolate(info.code), name=asker.label if asker else "–",
                            reason=t.plain(label_of(ErasureReason, info.reason))),
                  InlineKeyboardMarkup([[_button(t, N_("🗑 Confirm erasure"), ERASURE.data(info.id, "y")),
                                         _button(t, N_("✖ Decline"), ERASURE.data(info.id, "n"))]]))


def delete_message(services: Services, row: ScheduledMessage, user: StaffUser, t: Translator) -> Notice | None:
    """A typed answer whose deletion failed for a passing reason: tried again."""
    return Notice("", replaces=row.ref_id)


def referral_follow_up(services: Services, row: ScheduledMessage, user: StaffUser, t: Translator) -> Notice | None:
    subject = services.store.referrals.follow_up_subject(row.ref_id)
    if subject is None:
        return None
    code, referral = subject
    buttons = [_button(t, s.label, REFERRAL.data(referral.id, s)) for s in FOLLOW_UP_ANSWERS]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([_button(t, N_("⏰ Ask again in 7 days"), REFERRAL.data(referral.id, "later"))])
    return Notice(t.gettext(N_("How did the referral of {code} to {service} go? The result is recorded in the case."),
                            code=t.isolate(code), service=referral.service_name), InlineKeyboardMarkup(rows))


def handover_request(services: Services, row: ScheduledMessage, user: StaffUser, t: Translator) -> Notice | None:
    subject = services.store.referrals.handover_subject(row.ref_id)
    if subject is None:
        return None
    code, note, _, _ = subject
    return Notice(t.gettext(N_("Case {code} is to be handed over to you. Note from the previous case manager:\n{note}"),
                            code=t.isolate(code), note=note),
                  InlineKeyboardMarkup([[_button(t, N_("✔ Accept"), HANDOVER.data(row.ref_id, "a")),
                                         _button(t, N_("✖ Decline"), HANDOVER.data(row.ref_id, "d"))]]))


def meldebogen_received(services: Services, row: ScheduledMessage, user: StaffUser, t: Translator) -> Notice | None:
    """To each coordinator: a Meldebogen came in (nothing about the client in the message)."""
    subject = services.store.requests.subject(row.ref_id)
    if subject is None or subject[0].status not in OPEN_REQUESTS or not user.may(roles.reviews_meldebogen):
        return None
    line = subject[0]
    return Notice(t.gettext(N_("📨 New Meldebogen {code} from {source} ({sender})."), code=t.isolate(f"M-{line.id}"),
                            source=t.plain(label_of(Source, line.source)), sender=escape(line.sender)),
                  InlineKeyboardMarkup([[_button(t, N_("📂 Open"), REQUEST.data(line.id, "open", ""))]]))


def meldebogen_assigned(services: Services, row: ScheduledMessage, user: StaffUser, t: Translator) -> Notice | None:
    """To the case manager a coordinator gave it: start the intake from it."""
    subject = services.store.requests.subject(row.ref_id)
    if subject is None or subject[0].status is not RequestStatus.ASSIGNED or subject[1] != user.id:
        return None
    return Notice(t.gettext(N_("Meldebogen {code} ({source}) is yours: the intake starts from what it says."),
                            code=t.isolate(f"M-{row.ref_id}"), source=t.plain(label_of(Source, subject[0].source))),
                  InlineKeyboardMarkup([[_button(t, N_("▶ Start the intake"), REQUEST.data(row.ref_id, "start", ""))]]))


def transfer_request(services: Services, row: ScheduledMessage, user: StaffUser, t: Translator) -> Notice | None:
    """To the receiving coordinators: a case comes from another municipality (nothing about the client)."""
    info = services.store.transfers.info(row.ref_id)
    if info is None or info.status != "pending" or not user.may(roles.reassigns_cases):
        return None
    return Notice(t.gettext(N_("🏙 {place} hands over a case: the client moved here and agreed that their file comes "
                               "along. Accepted, it waits on /waiting for a case manager."), place=t.isolate(escape(info.from_org))),
                  InlineKeyboardMarkup([[_button(t, N_("✔ Accept"), TRANSFER.data(row.ref_id, "accept", "")),
                                         _button(t, N_("✖ Decline"), TRANSFER.data(row.ref_id, "decline", ""))]]))


def transfer_decided(services: Services, row: ScheduledMessage, user: StaffUser, t: Translator) -> Notice | None:
    """To whom asked: the other municipality received the case, or declined it."""
    info = services.store.transfers.info(row.ref_id)
    if info is None or info.status == "pending":
        return None
    return Notice(t.gettext(
        N_("{place} received case {code}; here it is closed as moved away (its figures and the audit trail stay).")
        if info.status == "accepted" else N_("{place} declined the handover of {code}; the case stays with you."),
        place=t.isolate(escape(info.to_org)), code=t.isolate(info.old_code)))


def delivery_failed(services: Services, row: ScheduledMessage, user: StaffUser, t: Translator) -> Notice | None:
    """To the coordinators: a colleague blocked the bot and misses their reminders."""
    failed = services.store.staff.user_by_id(row.ref_id) if row.ref_id else None
    if failed is None:
        return None
    return Notice(t.gettext(N_("A reminder to {name} (district {district}) could not be delivered: they "
                               "have blocked the bot. Please make sure their cases are looked after."),
                            name=failed.label, district=failed.district_code or "–"))


def conference(services: Services, row: ScheduledMessage, user: StaffUser, t: Translator) -> Notice | None:
    """Invitation, change, cancellation (with a calendar file), reminders, and the outcome question."""
    from bot.ics import conference_ics

    info = services.store.conferences.info(row.ref_id, for_user=user.id)
    kind = ReminderKind(row.kind)
    cancelled = kind is ReminderKind.CONFERENCE_CANCEL
    if info is None or (info.status != ConferenceStatus.SCHEDULED and not cancelled):
        return None
    staff = {u.id: u.label for role in Role for u in services.store.staff.members(user.org_id, role)}
    details = t.gettext(N_("{when} · {minutes} min\nPlace: {place}\nParticipants: {people}\nAgencies: {agencies}\n"
                           "Agenda: {agenda}"),
                        when=t.datetime(info.starts_at), minutes=info.minutes,
                        place=info.place if info.place is not None else t.plain(UNREADABLE),
                        people=", ".join(staff.get(i, f"#{i}") for i in info.participant_ids),
                        agencies=", ".join(info.services) or "–",
                        agenda=info.agenda if info.agenda is not None else t.plain(UNREADABLE))
    headline = {
        ReminderKind.CONFERENCE_INVITE: N_("Invitation: Fallkonferenz on {code}"),
        ReminderKind.CONFERENCE_UPDATE: N_("Changed: Fallkonferenz on {code}"),
        ReminderKind.CONFERENCE_CANCEL: N_("Cancelled: Fallkonferenz on {code}"),
        ReminderKind.CONFERENCE_REMINDER_DAY: N_("Tomorrow: Fallkonferenz on {code}"),
        ReminderKind.CONFERENCE_REMINDER_HOUR: N_("In an hour: Fallkonferenz on {code}"),
        ReminderKind.CONFERENCE_OUTCOME: N_("How did the Fallkonferenz on {code} go? Please record who came and what "
                                            "was decided."),
    }[kind]
    text = t.gettext(headline, code=t.isolate(info.code))
    if kind is ReminderKind.CONFERENCE_OUTCOME:
        return Notice(text, InlineKeyboardMarkup([[_button(t, N_("📝 Record outcome"), CONFERENCE.data(info.id, "o"))]]))
    if kind in (ReminderKind.CONFERENCE_INVITE, ReminderKind.CONFERENCE_UPDATE, ReminderKind.CONFERENCE_CANCEL):
        ics = conference_ics(uid=f"conference-{info.id}@kim-casebot", sequence=info.sequence, start=info.starts_at,
                             minutes=info.minutes, summary=t.plain(N_("Fallkonferenz {code}"), code=info.code),
                             description=info.agenda or "", location=info.place or "", stamp=services.store.clock.now(),
                             organiser=(info.organiser_id, staff.get(info.organiser_id, "–")),
                             attendee=(user.id, user.label), cancelled=cancelled)
        return Notice(f"<b>{text}</b>\n{details}", document=(ics, f"fallkonferenz-{info.code}.ics"))
    return Notice(f"<b>{text}</b>\n{details}")


def jourfixe_agenda(services: Services, row: ScheduledMessage, user: StaffUser, t: Translator) -> Notice | None:
    series = services.store.jourfixe.series(user.org_id)
    if series is None:
        return None
    today = services.local_now().date()
    items = services.store.jourfixe.items(user.org_id, today)
    lines = [t.gettext(N_("<b>Jour fixe today at {time}</b> · {place}"), time=t.isolate(series.at), place=series.place)]
    lines += [f"{n}. {escape(item.text if item.text is not None else t.plain(UNREADABLE))}"
                 for n, item in enumerate(items, start=1)] or [
        t.gettext(N_("No agenda items this time."))]
    return Notice("\n".join(lines))


def scheduled_digest(services: Services, row: ScheduledMessage, user: StaffUser, t: Translator) -> Notice | None:
    from bot import digest

    frequency, _ = services.store.staff.digest_preferences(user.id)
    if frequency == "off" or not user.may(roles.reads_digest):
        return None
    result = digest.build(services, user.org_id, t, days=1 if frequency == "daily" else 7)
    return Notice(result.text, photo=result.chart)


BUILDERS: dict[ReminderKind, Callable[..., Notice | None]] = {
    **{kind: case_reminder for kind in ReminderKind if kind.about_case},
    **{kind: status_watch for kind in ReminderKind if kind.about_watch},
    ReminderKind.RECHTSKREIS: rechtskreis,
    ReminderKind.CASE_REASSIGNED: case_reassigned,
    ReminderKind.REVEAL_EXPIRY: reveal_expiry,
    ReminderKind.DELETE_MESSAGE: delete_message,
    ReminderKind.ERASURE_REQUEST: erasure_request,
    ReminderKind.REFERRAL_FOLLOW_UP: referral_follow_up,
    ReminderKind.HANDOVER_REQUEST: handover_request,
    ReminderKind.DELIVERY_FAILED: delivery_failed,
    ReminderKind.MELDEBOGEN_RECEIVED: meldebogen_received,
    ReminderKind.MELDEBOGEN_ASSIGNED: meldebogen_assigned,
    ReminderKind.TRANSFER_REQUEST: transfer_request,
    ReminderKind.TRANSFER_DECIDED: transfer_decided,
    **{kind: conference for kind in ReminderKind if kind.startswith("conference-")},
    ReminderKind.JOUR_FIXE_AGENDA: jourfixe_agenda,
    ReminderKind.DIGEST: scheduled_digest,
}


def compose(services: Services, row: ScheduledMessage, user: StaffUser) -> Notice | None:
    """What the row says to `user`, in their language; None when it no longer holds."""
    builder = BUILDERS.get(row.kind)  # a kind this version does not know says nothing
    if builder is None:
        return None
    t = services.translator(user)
    return builder(services, row, user, t)


# items of one gathered message that get buttons of their own (Telegram allows 100 a message;
# a phone shows about this many rows without scrolling far)
GATHERED_WITH_BUTTONS = 12


def gather(services: Services, user: StaffUser, many: list[tuple[list[ScheduledMessage], Notice]]) -> Notice:
    """Several messages for one person in one notification: a numbered line each; a reminder
    about a case keeps buttons of its own (open the case, done), and "all tomorrow" snoozes
    them together. The morning's reminders come this way."""
    t = services.translator(user)
    all_morning = all(notice.morning_case for _, notice in many)
    title = N_("<b>Good morning: {count} reminders</b>") if all_morning else N_("<b>More reminders ({count}):</b>")
    lines, keyboard, reminders = [t.gettext(title, count=len(many))], [], []
    for n, (rows, notice) in enumerate(many, start=1):
        first = plain_text(notice.text).split("\n", 1)[0]
        lines.append(f"{t.isolate(n)}. " + escape(first if len(first) <= 200 else first[:199] + "…"))
        if notice.morning_case and len(keyboard) < GATHERED_WITH_BUTTONS:
            code = notice.morning_case
            keyboard.append([InlineKeyboardButton(f"{n} · 📂 {code}", callback_data=CASES.data("o", code)),
                             _button(t, N_("✔ Done"), REMINDER.data(rows[0].id, "d"))])
            reminders.append(rows[0].id)
    if reminders:
        keyboard.append([_button(t, N_("⏰ All tomorrow"), REMINDER.data(reminders[0], "Z"))])
    text = "\n".join(lines)
    while visible_length(text) > MESSAGE_LIMIT and len(lines) > 2:  # never longer than Telegram allows
        lines.pop()
        text = "\n".join([*lines, "· …"])
    return Notice(text, InlineKeyboardMarkup(keyboard) if keyboard else None)
