"""What a scheduled message says, by its kind: in the recipient's language, cases by code.

Each builder looks again at what the message is about and returns None when it no longer
holds (the assessment was done, the case changed hands, the conference was cancelled).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import pack
from bot.domains import LIFE_DOMAINS, REFERRAL_STATUSES, label_of
from bot.i18n import N_, Translator
from storage.models import Outbox
from storage.types import StaffUser

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
    return Notice(t.gettext(N_("A reminder to case manager #{id} (district {district}) could not be delivered: they "
                               "have blocked the bot. Please make sure their cases are looked after."),
                            id=failed.id, district=failed.district_code or "–"))


BUILDERS: dict[str, Callable[..., Notice | None]] = {
    "reassess-soon": case_reminder, "reassess-overdue": case_reminder, "goal-due": case_reminder,
    "goal-overdue": case_reminder, "silent-case": case_reminder, "referral-follow-up": referral_follow_up,
    "handover-request": handover_request, "delivery-failed": delivery_failed,
}


def compose(services, row: Outbox, user: StaffUser) -> Notice | None:  # noqa: ANN001
    builder = BUILDERS.get(row.kind)
    if builder is None:
        return None
    t = services.catalogs.get(user.language or services.settings.default_language)
    return builder(services, row, user, t)
