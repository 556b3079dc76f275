"""Documents on paper: a case's documents menu (/documents and the case view's button), a document
in German and the client's language as a PDF in the chat, the signed scan sent back in reply
to it (kept encrypted with the case, the chat message deleted), the scans listed and fetched,
and /contact, how clients reach a case manager (printed on the documents)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.error import TelegramError
from telegram.ext import MessageHandler

from bot.buttons import ATTACHMENT, CASE_ACTION, CASES, DOCUMENT, HELD_SCAN
from bot.documents.content import document_data
from bot.documents.pdf import RenderFailed
from bot.hygiene import forget_typed, remember, show_about
from bot.i18n import N_
from bot.routes import DOUBLE_TAP, SIGNED_SCAN, StaleButton, command, press, reply
from bot.services import BotContext
from domain import roles
from domain.consent import CONSENT_VERSION
from domain.documents import (
    DOCUMENT_LANGUAGES,
    FIRST_LANGUAGE,
    MAX_ATTACHMENT_BYTES,
    DocumentKind,
    extension_of,
    proposed_language,
    sniff,
)
from handlers.cases import case_from_args
from storage.types import AttachmentInfo, CryptoError, NoConsentToShare, NotAllowed, NotSignable

log = logging.getLogger("casebot.documents")
MAX_CONTACT = 200
SHORT_NAME = 12  # a service name short enough for two buttons in a row at 412 px
UNREADABLE = N_("The details of this case cannot be read: they were erased or damaged.")
# Translators: {what} is a document's name, {languages} e.g. "Deutsch · العربية"
CAPTION_SIGNED = N_("📄 {what} · {code} ({languages}). Print it and have it signed; then reply to this message with "
                    "a photo or scan of the signed form, and it is kept with the case.")
CAPTION = N_("📄 {what} · {code} ({languages}). Print it for the client.")


# the menu ------------------------------------------------------------------------------------
async def documents_command(update: Update, context: BotContext) -> None:
    """/documents <code or number>: what can be printed for the case."""
    code = await case_from_args(update, context, "documents", "documents")
    if code is not None:
        await show_menu(update, context, code)


async def show_menu(update: Update, context: BotContext, code: str, *, edit: bool = False) -> None:
    services, t = context.services, context.t
    try:
        menu = await services.store.aio.documents.menu(context.staff, code)
    except NotAllowed:
        await reply(update, t.plain(N_("No case {code} among the cases you may see."), code=t.isolate(code.upper())))
        return
    except CryptoError:
        await reply(update, t.plain(UNREADABLE))
        return

    def doc(label: str, kind: DocumentKind, ref: int = 0) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=DOCUMENT.data(menu.code, kind.value, ref, ""))

    rows = [[doc(t.plain(N_("✍ {what}"), what=t.plain(DocumentKind.CONSENT.label)), DocumentKind.CONSENT)],
            [doc(t.plain(N_("🎯 {what}"), what=t.plain(DocumentKind.AGREEMENT.label)), DocumentKind.AGREEMENT),
             doc(t.plain(N_("🗓 {what}"), what=t.plain(DocumentKind.HANDOUT.label)), DocumentKind.HANDOUT)]]
    for referral_id, service, consented in menu.referrals[-6:]:  # the latest referrals fit a phone screen
        row = [doc(t.plain(N_("✍ Consent: {service}"), service=service), DocumentKind.SHARE, referral_id)]
        if consented:
            row.append(doc(t.plain(N_("✉ Letter: {service}"), service=service), DocumentKind.LETTER, referral_id))
        # two buttons share a row only while a phone shows both labels whole (about 24 characters each)
        rows += [row] if len(service) <= SHORT_NAME else [[button] for button in row]
    bottom = [InlineKeyboardButton(t.plain(N_("📂 Case")), callback_data=CASES.data("o", menu.code))]
    if menu.attachments:
        bottom.insert(0, InlineKeyboardButton(t.plain(N_("📎 Signed forms ({count})"), count=menu.attachments),
                                              callback_data=ATTACHMENT.data(menu.code)))
    rows.append(bottom)
    text = services.renderer.render("documents.j2", t, code=menu.code, signed_on=menu.consent_signed_on,
                                    referrals=len(menu.referrals), lettered=sum(c for _, _, c in menu.referrals))
    await show_about(update, context, menu.code, text, InlineKeyboardMarkup(rows), edit=edit)


async def on_document(update: Update, context: BotContext, code: str, kind: str, ref: int, language: str) -> None:
    """A document chosen: first the language beside German, then the PDF. Rights are checked in
    storage on every press (buttons can be forged)."""
    try:
        if language == "menu":
            await show_menu(update, context, code, edit=True)
        elif not language:
            await _ask_language(update, context, code, DocumentKind(kind), ref)
        else:
            await _send_document(update, context, code, DocumentKind(kind), ref, language)
    except NotAllowed:
        raise StaleButton from None
    except CryptoError:
        await reply(update, context.t.plain(UNREADABLE))


async def _ask_language(update: Update, context: BotContext, code: str, kind: DocumentKind, ref: int) -> None:
    t = context.t
    code, spoken = await context.services.store.aio.documents.spoken(context.staff, code)  # rights, and the languages
    proposed = proposed_language(spoken)
    others = [proposed] + [c for c in DOCUMENT_LANGUAGES if c not in (proposed, FIRST_LANGUAGE)]
    buttons = [InlineKeyboardButton(("★ " if c == proposed and c != FIRST_LANGUAGE else "") + t.language_name(c),
                                    callback_data=DOCUMENT.data(code, kind.value, ref, c))
               for c in others if c != FIRST_LANGUAGE]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([InlineKeyboardButton(t.plain(N_("German only")), callback_data=DOCUMENT.data(code, kind.value, ref, "de")),
                 InlineKeyboardButton(t.plain(N_("« Back")), callback_data=DOCUMENT.data(code, kind.value, ref, "menu"))])
    text = t.gettext(N_("<b>{what}</b> · {code}\nIn which language besides German? ★ is the client's language from "
                        "the intake."), what=t.plain(kind.label), code=t.isolate(code))
    await show_about(update, context, code, text, InlineKeyboardMarkup(rows), edit=True)


async def _send_document(update: Update, context: BotContext, code: str, kind: DocumentKind, ref: int, language: str) -> None:
    services, t, staff = context.services, context.t, context.staff
    if await services.store.aio.documents.issued_since(staff, code, kind, ref or None, language,
                                                       since=services.store.clock.now() - DOUBLE_TAP):
        raise StaleButton  # sent a moment ago by the first press of a double tap (bot/routes.py says nothing)
    try:
        subject = await services.store.aio.documents.subject(staff, code, kind, ref or None)
    except NoConsentToShare:
        await reply(update, t.plain(N_("The client has not consented to share data with this service (or withdrew "
                                       "the consent). Print the consent form first, and record the consent under "
                                       "↪ Referrals.")))
        return
    languages = [FIRST_LANGUAGE] + ([language] if language != FIRST_LANGUAGE else [])
    data = document_data(subject, [services.catalogs.get(c, staff.org_id) for c in languages], today=services.local_now().date())
    try:
        # Typst works outside the event loop: other people's updates go on meanwhile
        pdf = await asyncio.to_thread(services.pdf.render, kind, data, at=services.store.clock.now())
    except RenderFailed as failure:
        log.error("%s", failure)  # names the template, never the case
        await reply(update, t.plain(N_("The document could not be made; nothing was changed. Please try again later.")))
        return
    if update.callback_query:
        await update.callback_query.answer()
    caption = t.gettext(CAPTION_SIGNED if kind.signed else CAPTION, what=t.plain(kind.label), code=t.isolate(subject.code),
                        languages=" · ".join(t.language_name(c) for c in languages))
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(t.plain(N_("📄 Documents")),
                                                         callback_data=CASE_ACTION.data("documents", subject.code)),
                                    InlineKeyboardButton(t.plain(N_("📂 Case")), callback_data=CASES.data("o", subject.code))]])
    # the code and what it is in the name, never the client's name
    sent = await update.effective_chat.send_document(
        InputFile(pdf, filename=f"{subject.code}-{kind.value}-{'-'.join(languages)}.pdf"), caption=caption,
        reply_markup=markup)
    await services.store.aio.documents.issued(staff, subject.code, kind, ref or None, language=language,
                                              version=CONSENT_VERSION if kind is DocumentKind.CONSENT else "",
                                              message_id=sent.message_id)
    await remember(context, subject.code, sent.message_id)


# signed scans --------------------------------------------------------------------------------
async def on_scan(update: Update, context: BotContext) -> None:
    """A signed form comes back: kept encrypted with the case, marked signed, deleted from the chat."""
    scan = update.effective_message
    document_message_id = scan.reply_to_message.message_id
    kind = await context.services.store.aio.documents.signable(context.staff, document_message_id)
    if kind is None:
        await scan.reply_text(context.t.gettext(N_("This is not a reply to a document I made for you, so nothing "
                                                   "was stored. Reply to the document itself.")))
        return
    await _keep_scan(update, context, scan, document_message_id, kind)


async def on_held_scan(update: Update, context: BotContext, document_message_id: int) -> None:
    """"Keep this scan", pressed once the PIN is confirmed: the scan is the message the bot's
    answer quotes (handlers/access.py), as Telegram hands it back with the press."""
    query = update.callback_query
    answer = query.message if isinstance(query.message, Message) else None  # older than 48 hours: no message
    scan = answer.reply_to_message if answer else None
    if (scan is None or not (scan.photo or scan.document) or scan.from_user is None
            or scan.from_user.id != update.effective_user.id):  # deleted meanwhile, or not a scan of theirs
        raise StaleButton
    kind = await context.services.store.aio.documents.signable(context.staff, document_message_id)
    if kind is None:
        raise StaleButton
    await query.answer()
    if await _keep_scan(update, context, scan, document_message_id, kind):
        with contextlib.suppress(TelegramError):  # the answer asked for the PIN: done with
            await answer.delete()


async def _keep_scan(update: Update, context: BotContext, scan: Message, document_message_id: int,
                     kind: DocumentKind) -> bool:
    """Keep `scan` with the case of the document it answers, delete it from the chat and say
    so; or say why not (nothing stored, the scan stays in the chat). True when kept."""
    services, t, staff, chat = context.services, context.t, context.staff, update.effective_chat
    documents = services.store.aio.documents
    if not kind.signed:
        await chat.send_message(t.gettext(N_("Only consent forms and goal agreements are signed; nothing was stored.")))
        return False
    incoming = scan.photo[-1] if scan.photo else scan.document  # the largest size of a photo
    if (incoming.file_size or 0) > MAX_ATTACHMENT_BYTES:
        await chat.send_message(t.gettext(N_("That file is larger than 20 MB, which Telegram does not let me fetch. "
                                             "Please send a smaller scan or photo.")))
        return False
    try:
        content = bytes(await (await incoming.get_file()).download_as_bytearray())
    except TelegramError as failure:
        log.warning("a signed scan could not be fetched: %s", type(failure).__name__)
        await chat.send_message(t.gettext(N_("The file could not be fetched from Telegram; nothing was stored. "
                                             "Please send it again as a reply to the document.")))
        return False
    sniffed = sniff(content)
    if sniffed is None or len(content) > MAX_ATTACHMENT_BYTES:
        await chat.send_message(t.gettext(N_("Only a photo, or a scan as PDF, JPEG, PNG or WebP of at most 20 MB, "
                                             "can be attached; nothing was stored.")))
        return False
    try:
        attached = await documents.attach(staff, document_message_id, content, sniffed[0])
    except (NotAllowed, NotSignable):
        await chat.send_message(t.gettext(N_("This case is no longer among yours; nothing was stored.")))
        return False
    except CryptoError:
        await chat.send_message(t.gettext(UNREADABLE))
        return False
    deleted = await forget_typed(update, context, scan)
    if attached.again:  # (a double press: its scan is gone already, so not deleting it says nothing)
        text = t.gettext(N_("📎 This scan is already kept with case {code}; it was not stored twice."),
                         code=t.isolate(attached.code))
        text += "\n" + t.gettext(N_("The photo was deleted from this chat.")) if deleted else ""
    else:
        text = t.gettext(N_("📎 Signed {what} kept with case {code}, signed on paper on {date}."),
                         what=t.plain(attached.kind.label), code=t.isolate(attached.code), date=t.date(attached.signed_on))
        text += "\n" + t.gettext(N_("The photo was deleted from this chat.") if deleted else
                                 N_("Please delete the photo from this chat yourself: I could not."))
    await chat.send_message(text, reply_markup=InlineKeyboardMarkup([[
        InlineKeyboardButton(t.plain(N_("📎 Signed forms")), callback_data=ATTACHMENT.data(attached.code)),
        InlineKeyboardButton(t.plain(N_("📂 Case")), callback_data=CASES.data("o", attached.code))]]))
    return True


async def on_attachment(update: Update, context: BotContext, target: str | int) -> None:
    """The signed scans of a case (a code), or one of them sent into the chat (an id)."""
    if isinstance(target, str):
        await _list_attachments(update, context, target)
        return
    services, t = context.services, context.t
    try:
        code, info, number, content = await services.store.aio.documents.attachment(context.staff, target)
    except NotAllowed:
        raise StaleButton from None
    except CryptoError:
        await reply(update, t.plain(UNREADABLE))
        return
    await update.callback_query.answer()
    sent = await update.effective_chat.send_document(
        InputFile(content, filename=attachment_name(code, info, number)),
        caption=t.gettext(N_("📎 {what} · {code}, signed on paper on {date}."), what=t.plain(DocumentKind(info.kind).label),
                          code=t.isolate(code), date=t.date(info.signed_on)))
    await remember(context, code, sent.message_id)


async def _list_attachments(update: Update, context: BotContext, code: str) -> None:
    services, t = context.services, context.t
    try:
        items = await services.store.aio.documents.attachments(context.staff, code)
    except NotAllowed:
        raise StaleButton from None
    lines = [(n, t.plain(DocumentKind(a.kind).label), a.service, t.date(a.signed_on), t.language_name(a.language),
              _kind_of_file(t, a.media_type), _size(a.size)) for n, a in enumerate(items, 1)]
    text = services.renderer.render("attachments.j2", t, code=code.upper(), lines=lines)
    numbers = [InlineKeyboardButton(str(n), callback_data=ATTACHMENT.data(a.id)) for n, a in enumerate(items, 1)]
    rows = [numbers[i : i + 5] for i in range(0, len(numbers), 5)]
    rows.append([InlineKeyboardButton(t.plain(N_("📄 Documents")), callback_data=CASE_ACTION.data("documents", code.upper())),
                 InlineKeyboardButton(t.plain(N_("📂 Case")), callback_data=CASES.data("o", code.upper()))])
    await show_about(update, context, code.upper(), text, InlineKeyboardMarkup(rows), edit=False)


def attachment_name(code: str, info: AttachmentInfo, number: int) -> str:
    """The file name a fetched scan is sent with: the case code and what it is, no name."""
    return f"{code}-{info.kind}-signed-{number}.{extension_of(info.media_type)}"


def _kind_of_file(t, media_type: str) -> str:  # noqa: ANN001
    return "PDF" if media_type == "application/pdf" else t.plain(N_("photo"))


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"


# how clients reach me ------------------------------------------------------------------------
async def contact_command(update: Update, context: BotContext) -> None:
    """/contact: how clients reach you, as printed on their documents; /contact <text> sets it,
    /contact - clears it."""
    t, store = context.t, context.services.store
    if not context.staff.may(roles.sees_case_content):
        await update.effective_message.reply_text(t.gettext(N_("Admins do not see case content.")))
        return
    text = " ".join((update.effective_message.text or "").split(maxsplit=1)[1:]).strip()
    if not text:
        current = await store.aio.documents.contact(context.staff)
        await update.effective_message.reply_text(t.gettext(
            N_("How clients reach you, as printed on their documents: {contact}\nTo change it, send /contact and the "
               "text, for example /contact 0214 406-1234, kim@example.org, Mon–Thu 9–12. /contact - removes it."),
            contact=current or t.plain(N_("(not set)"))))
        return
    if len(text) > MAX_CONTACT:
        await update.effective_message.reply_text(t.gettext(N_("At most {n} characters, please."), n=MAX_CONTACT))
        return
    await store.aio.documents.set_contact(context.staff, "" if text == "-" else text)
    await update.effective_message.reply_text(t.gettext(N_("Saved. Documents now show: {contact}"),
                                                        contact=t.plain(N_("(not set)")) if text == "-" else text))


ROUTES = (
    command("documents", documents_command),
    command("contact", contact_command),
    press(DOCUMENT, on_document),
    press(ATTACHMENT, on_attachment),
    press(HELD_SCAN, on_held_scan),
)
# before the other document routes: a photo or file in reply to one of our PDFs
SCAN_ROUTES = (MessageHandler(SIGNED_SCAN, on_scan),)
