"""Meldebögen: a referrer sends one (/meldebogen) and sees what became of it (/sent); the
coordinator reads each in the inbox (/inbox) and assigns it to a case manager, declines it with
a reason, or puts it on the waiting list; the case manager starts the intake from it."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.buttons import REQUEST
from bot.choices import label_of
from bot.confirm.requests import request_code
from bot.hygiene import hide_later
from bot.i18n import N_, Translator
from bot.routes import StaleButton, command, press, send_pages
from bot.services import BotContext
from domain import roles
from domain.vocabulary import RequestStatus, Source
from handlers.dialogue import begin
from storage.types import NotAllowed


def _line(t: Translator, line, tz) -> str:  # noqa: ANN001
    return t.gettext(N_("{code} · {source} · {date} · {status}"), code=t.isolate(request_code(line.id)),
                     source=t.plain(label_of(Source, line.source)), date=t.date(line.created_at.astimezone(tz)),
                     status=t.plain(line.status.label))


async def meldebogen(update: Update, context: BotContext) -> None:
    if not context.staff.may(roles.sends_meldebogen):
        await update.effective_message.reply_text(context.t.gettext(N_(
            "A Meldebogen is sent by referrers (FB 50, FB 33, the KI, a Träger). Case managers record a client with /new.")))
        return
    await begin(update, context, "meldebogen")


async def sent(update: Update, context: BotContext) -> None:
    """The referrer's Meldebögen and what became of each: never more than that."""
    t, services = context.t, context.services
    if not context.staff.may(roles.sends_meldebogen):
        await update.effective_message.reply_text(t.gettext(N_("Only referrers send Meldebögen.")))
        return
    lines = await services.store.aio.requests.sent(context.staff)
    if not lines:
        await update.effective_message.reply_text(t.gettext(N_("You have not sent a Meldebogen yet: /meldebogen")))
        return
    text = [t.gettext(N_("<b>Your Meldebögen</b> · newest first"))]
    for line, reason in lines:
        text.append(_line(t, line, services.settings.tz))
        if line.status is RequestStatus.DECLINED and reason:
            text.append("   " + t.gettext(N_("Reason: {reason}"), reason=t.isolate(escape(reason))))
    await send_pages(update, text)


async def inbox(update: Update, context: BotContext) -> None:
    """The coordinator's inbox: every Meldebogen not decided yet, oldest first."""
    t, services = context.t, context.services
    if not context.staff.may(roles.reviews_meldebogen):
        await update.effective_message.reply_text(t.gettext(N_("Only coordinators read the Meldebögen.")))
        return
    lines = await services.store.aio.requests.inbox(context.staff)
    if not lines:
        await update.effective_message.reply_text(t.gettext(N_("No Meldebogen is waiting for a decision.")))
        return
    rows = [[InlineKeyboardButton(t.plain(N_("📨 {code} · {source}"), code=request_code(line.id),
                                          source=t.plain(label_of(Source, line.source)))[:60],
                                  callback_data=REQUEST.data(line.id, "open", ""))] for line in lines[:20]]
    await send_pages(update, [t.gettext(N_("<b>Inbox</b> · {count} Meldebögen · oldest first"), count=len(lines)),
                              *(_line(t, line, services.settings.tz) for line in lines)], InlineKeyboardMarkup(rows))


async def on_press(update: Update, context: BotContext, number: int, action: str, arg: str) -> None:
    query, t, services, staff = update.callback_query, context.t, context.services, context.staff
    requests = services.store.aio.requests
    try:
        if action == "start":
            await requests.for_intake(staff, number)  # theirs, and not taken on yet
            await query.answer()
            await begin(update, context, "intake", request=number)
            return
        if not staff.may(roles.reviews_meldebogen):
            raise StaleButton
        if action == "open":
            await _open(update, context, number)
        elif action == "assign":
            await _assign_menu(update, context, number)
        elif action == "to" and arg.isdigit():
            await requests.decide(staff, number, status=RequestStatus.ASSIGNED, to_user=int(arg))
            services.dispatcher.kick()  # the case manager is told
            await query.answer()
            await query.edit_message_text(t.gettext(N_("Meldebogen {code} is assigned; the case manager starts the "
                                                       "intake from it."), code=t.isolate(request_code(number))))
        elif action == "wait":
            await requests.decide(staff, number, status=RequestStatus.WAITING)
            await query.answer()
            await query.edit_message_text(t.gettext(N_("Meldebogen {code} is on the waiting list: it stays in /inbox."),
                                                    code=t.isolate(request_code(number))))
        elif action == "decline":
            await query.answer()
            await begin(update, context, "decline-request", request=number)
        else:
            raise StaleButton
    except NotAllowed:
        raise StaleButton from None


async def _open(update: Update, context: BotContext, number: int) -> None:
    """The Meldebogen's details (names shown: hidden again after a while, like a case's)."""
    t, services, staff = context.t, context.services, context.staff
    view = await services.store.aio.requests.view(staff, number)
    body = view.body
    shown = [f"<b>{t.gettext(N_('Meldebogen'))} {t.isolate(request_code(number))}</b>",
             _line(t, view.line, services.settings.tz), t.gettext(N_("Sent by {name}"), name=t.isolate(escape(view.line.sender)))]
    if not body:
        shown.append(t.gettext(N_("The details cannot be read.")))
    for key, label in (("given_name", N_("Given name(s)")), ("family_name", N_("Family name")),
                       ("birth_date", N_("Date of birth")), ("phone", N_("Phone")), ("reach", N_("How to reach them")),
                       ("reason", N_("Why"))):
        if body.get(key):
            value = t.date(body[key]) if key == "birth_date" else t.isolate_ltr(body[key]) if key == "phone" else \
                t.isolate(escape(str(body[key])))
            shown.append(f"{t.plain(label)}: {value}")
    rows = []
    if view.line.status in (RequestStatus.RECEIVED, RequestStatus.WAITING):
        rows = [[InlineKeyboardButton(t.plain(N_("👤 Assign")), callback_data=REQUEST.data(number, "assign", "")),
                 InlineKeyboardButton(t.plain(N_("✖ Decline")), callback_data=REQUEST.data(number, "decline", ""))]]
        if view.line.status is RequestStatus.RECEIVED:
            rows.append([InlineKeyboardButton(t.plain(N_("⏳ Waiting list")), callback_data=REQUEST.data(number, "wait", ""))])
    if update.callback_query:
        await update.callback_query.answer()
    message = await update.effective_chat.send_message("\n".join(shown), reply_markup=InlineKeyboardMarkup(rows))
    await hide_later(context, message.message_id, request_code(number))


async def _assign_menu(update: Update, context: BotContext, number: int) -> None:
    t, services = context.t, context.services
    managers = await services.store.aio.staff.case_managers(context.staff.org_id)
    rows = [[InlineKeyboardButton(t.plain(N_("{name} · district {district} · {count} open"), name=user.label,
                                          district=user.district_code or "–", count=load)[:60],
                                  callback_data=REQUEST.data(number, "to", user.id))] for user, load in managers]
    await update.callback_query.answer()
    await update.effective_chat.send_message(t.gettext(N_("Assign Meldebogen {code} to:"), code=t.isolate(request_code(number))),
                                             reply_markup=InlineKeyboardMarkup(rows))


ROUTES = (command("meldebogen", meldebogen), command("sent", sent), command("inbox", inbox), press(REQUEST, on_press))
