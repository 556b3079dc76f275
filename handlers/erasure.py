"""The data subject's rights in the chat: access (a copy of everything stored), erasure with four
eyes, and legal holds (coordinators; an admin may be the second person of an erasure)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update

from bot.buttons import CASE_CODE, ERASE, ERASURE, typed_code
from bot.choices import label_of
from bot.export import as_json, readable
from bot.i18n import N_
from bot.routes import StaleButton, command, press, reply
from bot.services import BotContext
from domain.reminders import ReminderKind
from domain.retention import ErasureReason
from domain.roles import Role
from handlers.dialogue import begin
from storage.types import NotAllowed


async def ask_reason(update: Update, context: BotContext, code: str) -> None:
    """🗑 in the case view: why is the case to be erased?"""
    t = context.t
    if context.staff.role is not Role.COORDINATOR or not await context.services.store.aio.cases.may_see(context.staff, code):
        raise NotAllowed()
    rows = [[InlineKeyboardButton(t.plain(reason.label), callback_data=ERASE.data(code, reason.value))]
            for reason in (ErasureReason.REQUEST, ErasureReason.CONSENT_WITHDRAWN)]
    if update.callback_query:
        await update.callback_query.answer()
    await update.effective_chat.send_message(
        t.gettext(N_("Erase {code}? Everything personal of the case will be destroyed, for good, once a second "
                     "person confirms. Why?"), code=t.isolate(code)), reply_markup=InlineKeyboardMarkup(rows))


async def on_request(update: Update, context: BotContext, code: str, reason: str) -> None:
    t, services = context.t, context.services
    try:
        info = await services.store.aio.erasure.request(context.staff, code, reason)
    except NotAllowed:
        raise StaleButton from None
    services.dispatcher.kick()
    await update.callback_query.answer()
    await update.callback_query.edit_message_text(t.gettext(
        N_("Erasure of {code} asked for ({reason}). It is carried out when another coordinator or an admin "
           "confirms."), code=t.isolate(info.code), reason=t.plain(label_of(ErasureReason, info.reason))))


async def on_decision(update: Update, context: BotContext, request_id: int, decision: str) -> None:
    """The second person: confirm (erased now) or decline. The one who asked cannot confirm."""
    t, store = context.t, context.services.store
    try:
        info = await store.aio.erasure.decide(context.staff, request_id, confirm=decision == "y")
    except NotAllowed:
        await reply(update, t.plain(N_("This erasure is no longer open, or it needs a second person.")))
        return
    await update.callback_query.answer()
    if info.state == "scheduled":  # consent withdrawn where a law keeps the file a while
        text = t.gettext(N_("{code} is closed: nothing more is documented. It is erased after {days} days, as the "
                            "law requires."), code=t.isolate(info.code),
                         days=(await store.aio.erasure.rules(context.staff.org_id)).withdrawal_days)
    elif decision == "y":
        text = t.gettext(N_("{code} is erased. Kept, without anything personal: the code, the district, the dates of "
                            "opening and closure, and the kinds and dates of the case file's entries."),
                         code=t.isolate(info.code))
    else:
        text = t.gettext(N_("Erasure of {code} declined; nothing was changed."), code=t.isolate(info.code))
    await update.callback_query.edit_message_text(text)
    if decision == "y":
        context.services.dispatcher.kick()  # what still shows the case in chats goes now


async def legal_hold(update: Update, context: BotContext, code: str, *, place: bool) -> None:
    t, store = context.t, context.services.store
    if context.staff.role is not Role.COORDINATOR or not await store.aio.cases.may_see(context.staff, code):
        raise NotAllowed()
    if place:
        if update.callback_query:
            await update.callback_query.answer()
        await begin(update, context, "legal_hold", case=code)
        return
    await store.aio.erasure.release(context.staff, code)
    await reply(update, t.plain(N_("Legal hold on {code} released."), code=code))


async def export_case(update: Update, context: BotContext, code: str) -> None:
    """📦 Art. 15: everything stored about the client, as JSON and as a readable document in German
    and in the client's language (where one is shipped). The files leave the chat again after
    REVEAL_SECONDS, like names shown on request."""
    t, services, staff = context.t, context.services, context.staff
    data = await services.store.aio.export.export(staff, code)
    ctx = await services.store.run(services.form_context, staff)
    today = services.local_now().date().isoformat()
    spoken = [lang for lang in (data["intake"].get("languages") or []) if lang in services.catalogs.offered(staff.org_id)]
    languages = ["de", *[lang for lang in spoken if lang != "de"][:1]]
    if update.callback_query:
        await update.callback_query.answer()
    chat = update.effective_chat
    sent = [await chat.send_document(InputFile(as_json(data), filename=f"{data['case']['code']}-art15.json"),
                                     caption=t.gettext(N_("Everything stored about {code} (Art. 15 GDPR). Hand it to "
                                                          "the client; it leaves this chat again in a few minutes."),
                                                       code=t.isolate(data["case"]["code"])))]
    for language in languages:
        document = readable(services.renderer, services.catalogs.get(language, staff.org_id), ctx, data, today)
        sent.append(await chat.send_document(InputFile(document, filename=f"{data['case']['code']}-art15-{language}.html")))
    due = services.store.clock.now() + timedelta(seconds=services.settings.reveal_seconds)
    for message in sent:
        # the code in the key: an erasure of the case deletes the copy at once (storage/erasure.py)
        await services.store.aio.outbox.schedule_for(org_id=staff.org_id, user_id=staff.id,
                                                     kind=ReminderKind.DELETE_MESSAGE, ref_id=message.message_id,
                                                     due_at=due, key=f"{ReminderKind.DELETE_MESSAGE}:{message.message_id}:"
                                                                     f"{data['case']['code']}:{secrets.token_hex(4)}")




async def audit_trail(update: Update, context: BotContext) -> None:
    """/audit CODE (coordinators): the case's audit trail as a file (who looked, changed, copied,
    erased; case codes and staff names, never client data). `casebot audit export` does the same
    for one member of staff and a period."""
    import json

    t, store, staff = context.t, context.services.store, context.staff
    code = typed_code(context.args[0]) if context.args else ""
    if staff.role is not Role.COORDINATOR or not CASE_CODE.match(code) or not await store.aio.cases.may_see(staff, code):
        await update.effective_message.reply_text(t.gettext(N_("Coordinators: /audit and a case code, e.g. /audit LEV-2026-0001.")))
        return
    entries = await store.aio.audit.export(staff.org_id, case_code=code)
    body = json.dumps(entries, ensure_ascii=False, indent=1).encode("utf-8")
    await update.effective_chat.send_document(InputFile(body, filename=f"{code}-audit.json"),
                                              caption=t.gettext(N_("Audit trail of {code}: {count} entries."),
                                                                code=t.isolate(code), count=len(entries)))


ROUTES = (
    press(ERASE, on_request),
    press(ERASURE, on_decision),
    command("audit", audit_trail),
)
