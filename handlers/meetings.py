"""Fallkonferenzen (/conference <code>, /conferences) and the Jour fixe (/jourfixe)."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.callbacks import pack, unpack
from bot.i18n import N_
from bot.services import BotContext
from handlers.cases import reply
from handlers.dialogue import begin
from storage.types import NotAllowed, Role

INVALID = N_("This button is no longer valid.")


async def conferences(update: Update, context: BotContext) -> None:
    """/conferences: the user's coming Fallkonferenzen, each with its buttons."""
    t, store = context.t, context.services.store
    upcoming = store.conferences.upcoming(context.staff)
    if not upcoming:
        await update.effective_message.reply_text(t.gettext(N_("No Fallkonferenz coming up.")))
        return
    for info in upcoming:
        rows = [[InlineKeyboardButton(t.plain("🗓 Move"), callback_data=pack("v", info.id, "r")),
                 InlineKeyboardButton(t.plain("✖ Cancel it"), callback_data=pack("v", info.id, "x")),
                 InlineKeyboardButton(t.plain("📝 Record outcome"), callback_data=pack("v", info.id, "o"))]]
        await update.effective_message.reply_text(
            t.gettext(N_("Fallkonferenz on {code}: {when}"), code=t.isolate(info.code), when=t.datetime(info.starts_at)),
            reply_markup=InlineKeyboardMarkup(rows))


async def on_button(update: Update, context: BotContext) -> None:
    """Move, cancel (asked twice), or record the outcome; only for participants with the right."""
    query, t, services = update.callback_query, context.t, context.services
    parts = unpack(query.data, "v", 2)
    info = (services.store.conferences.info(int(parts[0]), for_user=context.staff.id)
            if parts and parts[0].isdigit() and parts[1] in ("r", "x", "X", "o") else None)
    if info is None or info.status != "scheduled":
        await reply(update, t.plain(INVALID))
        return
    try:
        services.store.casework.subject_of(context.staff, info.code)  # may they change the case?
    except NotAllowed:
        if context.staff.id != info.organiser_id:
            await reply(update, t.plain(N_("Only the organiser, the case manager or a coordinator can change this.")))
            return
    action = parts[1]
    if action == "x":
        await query.answer()
        await query.edit_message_reply_markup(InlineKeyboardMarkup([[InlineKeyboardButton(
            t.plain("✖ Yes, cancel the Fallkonferenz"), callback_data=pack("v", info.id, "X"))]]))
        return
    if action == "X":
        services.store.conferences.cancel(context.staff, info.id, hours=services.working_hours)
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
    series = services.store.jourfixe.series(staff.org_id)
    if series is None:
        if staff.role is Role.COORDINATOR:
            await begin(update, context, "jour-fixe")
        else:
            await update.effective_message.reply_text(t.gettext(N_("No Jour fixe is set up yet; a coordinator can do it.")))
        return
    today = services.local_now().date()
    meeting = services.store.jourfixe.next_meeting(series, today)
    items = services.store.jourfixe.items(staff.org_id, meeting)
    lines = [t.gettext(N_("<b>Next Jour fixe: {date}, {time}</b> · {place}"), date=t.date(meeting),
                       time=t.isolate(series.at), place=series.place)]
    lines += [f"{n}. {escape(item.text)}" for n, item in enumerate(items, start=1)]
    markup = None
    if meeting > today:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(t.plain("➕ Add an item"),
                                                             callback_data=pack("j", meeting.isoformat()))]])
    else:
        lines.append(t.gettext(N_("The agenda closed yesterday; it went out this morning.")))
    await update.effective_message.reply_text("\n".join(lines), reply_markup=markup)


async def on_jour_fixe(update: Update, context: BotContext) -> None:
    query, t, services = update.callback_query, context.t, context.services
    parts = unpack(query.data, "j", 1)
    series = services.store.jourfixe.series(context.staff.org_id)
    today = services.local_now().date()
    if parts is None or series is None or context.staff.role is Role.ADMIN:
        await reply(update, t.plain(INVALID))
        return
    meeting = services.store.jourfixe.next_meeting(series, today)
    if parts[0] != meeting.isoformat() or meeting <= today:
        await reply(update, t.plain(N_("Items can be added until the day before the meeting.")))
        return
    await query.answer()
    await begin(update, context, "agenda-item", meeting=meeting.isoformat())
