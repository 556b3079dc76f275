"""Fallkonferenzen (/conference <code>, /conferences) and the Jour fixe (/jourfixe)."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.buttons import CONFERENCE, JOUR_FIXE
from bot.i18n import N_, UNREADABLE
from bot.routes import StaleButton, command, press, reply
from bot.services import BotContext
from domain import roles
from domain.calendar import next_meeting
from domain.vocabulary import ConferenceStatus
from handlers.dialogue import begin
from storage.types import NotAllowed


async def conferences(update: Update, context: BotContext) -> None:
    """/conferences: the user's coming Fallkonferenzen, each with its buttons."""
    t, store = context.t, context.services.store
    upcoming = await store.aio.conferences.upcoming(context.staff)
    if not upcoming:
        await update.effective_message.reply_text(t.gettext(N_("No Fallkonferenz coming up.")))
        return
    for info in upcoming:
        rows = [[InlineKeyboardButton(t.plain("🗓 Move"), callback_data=CONFERENCE.data(info.id, "r")),
                 InlineKeyboardButton(t.plain("✖ Cancel it"), callback_data=CONFERENCE.data(info.id, "x")),
                 InlineKeyboardButton(t.plain("📝 Record outcome"), callback_data=CONFERENCE.data(info.id, "o"))]]
        await update.effective_message.reply_text(
            t.gettext(N_("Fallkonferenz on {code}: {when}"), code=t.isolate(info.code), when=t.datetime(info.starts_at)),
            reply_markup=InlineKeyboardMarkup(rows))


async def on_button(update: Update, context: BotContext, conference_id: int, action: str) -> None:
    """Move, cancel (asked twice), or record the outcome; only for participants with the right."""
    query, t, services = update.callback_query, context.t, context.services
    info = await services.store.aio.conferences.info(conference_id, for_user=context.staff.id)
    if info is None or info.status != ConferenceStatus.SCHEDULED:
        raise StaleButton
    try:
        await services.store.aio.casework.subject_of(context.staff, info.code)  # may they change the case?
    except NotAllowed:
        if context.staff.id != info.organiser_id:
            await reply(update, t.plain(N_("Only the organiser, the case manager or a coordinator can change this.")))
            return
    if action == "x":
        await query.answer()
        await query.edit_message_reply_markup(InlineKeyboardMarkup([[InlineKeyboardButton(
            t.plain("✖ Yes, cancel the Fallkonferenz"), callback_data=CONFERENCE.data(info.id, "X"))]]))
        return
    if action == "X":
        await services.store.aio.conferences.cancel(context.staff, info.id, hours=services.working_hours)
        services.dispatcher.kick()
        await query.answer(t.plain(N_("Cancelled. Everyone is told, with a calendar cancellation.")), show_alert=True)
        await query.edit_message_reply_markup(reply_markup=None)
        return
    await query.answer()
    form = "reschedule" if action == "r" else "outcome"
    await begin(update, context, form, case=info.code, conference=info.id)


async def jour_fixe(update: Update, context: BotContext) -> None:
    """/jourfixe: the next meeting and its agenda; add an item until the day before."""
    t, services, staff = context.t, context.services, context.staff
    series = await services.store.aio.jourfixe.series(staff.org_id)
    if series is None:
        if staff.may(roles.runs_jour_fixe):
            await begin(update, context, "jour-fixe")
        else:
            await update.effective_message.reply_text(t.gettext(N_("No Jour fixe is set up yet; a coordinator can do it.")))
        return
    today = services.local_now().date()
    meeting = next_meeting(series.first_on, series.interval_days, today)
    items = await services.store.aio.jourfixe.items(staff.org_id, meeting)
    lines = [t.gettext(N_("<b>Next Jour fixe: {date}, {time}</b> · {place}"), date=t.date(meeting),
                       time=t.isolate(series.at), place=series.place)]
    lines += [f"{n}. {escape(item.text if item.text is not None else t.plain(UNREADABLE))}"
                 for n, item in enumerate(items, start=1)]
    markup = None
    if meeting > today:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(t.plain("➕ Add an item"),
                                                             callback_data=JOUR_FIXE.data(meeting.isoformat()))]])
    else:
        lines.append(t.gettext(N_("The agenda closed yesterday; it went out this morning.")))
    await update.effective_message.reply_text("\n".join(lines), reply_markup=markup)


async def on_jour_fixe(update: Update, context: BotContext, meeting_on: str) -> None:
    """Add an item to the agenda of the next Jour fixe."""
    query, t, services = update.callback_query, context.t, context.services
    series = await services.store.aio.jourfixe.series(context.staff.org_id)
    today = services.local_now().date()
    if series is None or not context.staff.may(roles.takes_part_in_jour_fixe):
        raise StaleButton
    meeting = next_meeting(series.first_on, series.interval_days, today)
    if meeting_on != meeting.isoformat() or meeting <= today:
        await reply(update, t.plain(N_("Items can be added until the day before the meeting.")))
        return
    await query.answer()
    await begin(update, context, "agenda-item", meeting=meeting.isoformat())


ROUTES = (
    command("conferences", conferences),
    command("jourfixe", jour_fixe),
    press(CONFERENCE, on_button),
    press(JOUR_FIXE, on_jour_fixe),
)
