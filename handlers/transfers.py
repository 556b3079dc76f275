"""A client moves to another municipality on this installation: their case goes there with its
history, with their consent, once the receiving coordinator accepts (storage/transfers.py)."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.buttons import TRANSFER
from bot.i18n import N_
from bot.routes import StaleButton, press, reply
from bot.services import BotContext
from storage.types import CaseClosed, CaseUnreadable, DuplicatePerson, NotAllowed


async def on_press(update: Update, context: BotContext, subject: str | int, action: str, arg: str) -> None:
    query, t, services, staff = update.callback_query, context.t, context.services, context.staff
    transfers = services.store.aio.transfers
    try:
        if action == "menu" and isinstance(subject, str):
            await services.store.aio.casework.subject_of(staff, subject)  # theirs to see
            places = await transfers.destinations(staff)
            if not places:
                raise StaleButton
            await query.answer()
            await update.effective_chat.send_message(
                t.gettext(N_("{code}: to which municipality did the client move?"), code=t.isolate(subject)),
                reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(name[:60], callback_data=TRANSFER.data(subject, "to", org))]
                                                   for org, name in places]))
        elif action == "to" and isinstance(subject, str) and arg.isdigit():
            name = dict(await transfers.destinations(staff)).get(int(arg))
            if name is None:
                raise StaleButton
            await query.answer()
            await query.edit_message_text(
                t.gettext(N_("Hand {code} over to {place}? Only with the client's consent: the case file goes there with "
                             "its history; here the case is closed as moved away, and only its figures and the audit "
                             "trail stay."), code=t.isolate(subject), place=t.isolate(escape(name))),
                reply_markup=InlineKeyboardMarkup([
                    [InlineKeyboardButton(t.plain(N_("✔ The client agrees: hand it over")),
                                          callback_data=TRANSFER.data(subject, "ok", arg))],
                    [InlineKeyboardButton(t.plain(N_("✖ Cancel")), callback_data=TRANSFER.data(subject, "no", arg))]]))
        elif action == "ok" and isinstance(subject, str) and arg.isdigit():
            await transfers.request(staff, subject, to_org=int(arg))
            services.dispatcher.kick()  # the receiving coordinators are told
            await query.answer()
            await query.edit_message_text(t.gettext(N_("Asked. Its coordination decides; until then {code} stays with "
                                                       "you."), code=t.isolate(subject)))
        elif action == "no":
            await query.answer()
            await query.edit_message_text(t.gettext(N_("Nothing was handed over.")))
        elif action in ("accept", "decline") and isinstance(subject, int):
            info = await transfers.decide(staff, subject, accept=action == "accept")
            services.dispatcher.kick()  # whom asked is told
            await query.answer()
            await query.edit_message_text(
                t.gettext(N_("Received as case {code}. It waits on /waiting for a case manager."),
                          code=t.isolate(info.new_code)) if action == "accept" else
                t.gettext(N_("Declined; the case stays with {place}."), place=t.isolate(escape(info.from_org))))
        else:
            raise StaleButton
    except DuplicatePerson as known:
        await reply(update, t.plain(N_("This person is already a case here: {code}. Nothing was handed over."),
                                    code=known.code))
    except CaseClosed:
        await reply(update, t.plain(N_("The case was closed meanwhile. Nothing was handed over.")))
    except CaseUnreadable:
        await reply(update, t.plain(N_("The details of this case cannot be read: they were erased or damaged.")
                                    ) + " " + t.plain(N_("Nothing was handed over.")))
    except NotAllowed:
        raise StaleButton from None


ROUTES = (press(TRANSFER, on_press),)
