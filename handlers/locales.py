"""/locales: admins and translators manage languages in the chat, without a developer or a restart.

A table of languages (how complete, on or off, the default), each downloadable as `.po`; an
uploaded `.po` is checked before anything changes, shown as a preview, and live on confirmation
on every running instance; the previous version can be restored."""

from __future__ import annotations

import io
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import MessageHandler, filters

from bot import locale_check
from bot.buttons import LOCALES
from bot.i18n import N_, current_po, load_translations
from bot.routes import NEW_MESSAGES, StaleButton, command, press
from bot.services import BotContext
from domain import roles
from handlers.dialogue import on_other_content

MAX_PO = 2_000_000
MAX_PROBLEMS_SHOWN = 25
PREVIEW_SHOWN = 8  # changed messages shown before making an upload live
PREVIEW = ("Welcome! You are registered as {role}.", "Please use the buttons below.", "Cancelled. Nothing of this dialogue was stored.")


def _overview(locales, org_id: int, languages: tuple[str, ...]) -> dict[str, tuple[int, bool]]:  # noqa: ANN001
    """language -> (per cent translated, has a previous version): parsing and reading, in a thread."""
    def completeness(language: str) -> int:
        po = current_po(locales, org_id, language)
        return locale_check.check(po, language).completeness if po else 0
    return {code: (completeness(code), locales.has_previous(org_id, code)) for code in languages}


async def table(update: Update, context: BotContext) -> None:
    t, services, staff = context.t, context.services, context.staff
    if not staff.may(roles.manages_languages):
        await update.effective_message.reply_text(t.gettext(N_("Only admins and translators manage languages.")))
        return
    catalogs, org = services.catalogs, staff.org_id
    lines = [t.gettext(N_("<b>Languages</b> · send me a .po file to change one or add a new one"))]
    rows = []
    overview = await services.store.run(_overview, services.store.locales, org, catalogs.known(org))
    for code in catalogs.known(org):
        on = code in catalogs.offered(org)
        mark = "★" if code == catalogs.default else ("✓" if on else "✗")
        lines.append(f"{mark} {escape(catalogs.get(code, org).language_name(code) if on else code)} ({code}) · "
                     f"{overview[code][0]} %")
        buttons = [InlineKeyboardButton(f"⬇ {code}", callback_data=LOCALES.data(code, "get"))]
        if code != catalogs.default:
            buttons.append(InlineKeyboardButton(t.plain("switch off") if on else t.plain("switch on"),
                                                callback_data=LOCALES.data(code, "off" if on else "on")))
        if overview[code][1]:
            buttons.append(InlineKeyboardButton(t.plain("↩ previous version"), callback_data=LOCALES.data(code, "back")))
        rows.append(buttons)
    lines.append(t.gettext(N_("★ default · ✓ on · ✗ off")))
    await update.effective_message.reply_text("\n".join(lines), reply_markup=InlineKeyboardMarkup(rows))


async def on_button(update: Update, context: BotContext, subject: str, action: str) -> None:
    """Download, switch on or off, roll back, or make an upload live."""
    query, t, services, org = update.callback_query, context.t, context.services, context.staff.org_id
    if not context.staff.may(roles.manages_languages):
        raise StaleButton
    locales = services.store.aio.locales
    if action == "drop" and subject.isdigit():
        if not await locales.discard_pending(org, int(subject), user_id=context.staff.id):
            raise StaleButton
        await query.answer()
        await query.edit_message_text(t.gettext(N_("The upload was discarded; nothing changed.")))
        return
    if action == "live" and subject.isdigit():
        try:
            language = await locales.make_live(org, int(subject), user_id=context.staff.id)
        except LookupError:
            raise StaleButton from None
        await services.store.run(services.catalogs.reload)
        await query.answer()
        await query.edit_message_reply_markup(reply_markup=None)
        await update.effective_chat.send_message(t.gettext(N_("{language} is live now, on every instance."), language=language))
        return
    if subject not in services.catalogs.known(org):
        raise StaleButton
    if action == "get":
        await query.answer()
        await update.effective_chat.send_document(io.BytesIO(await services.store.run(current_po, services.store.locales, org, subject) or b""),
                                                  filename=f"{subject}.po")
        return
    if action in ("on", "off") and subject != services.catalogs.default:
        await locales.set_enabled(org, subject, action == "on", user_id=context.staff.id)
    elif action == "back":
        await locales.rollback(org, subject, user_id=context.staff.id)
    else:
        raise StaleButton
    await services.store.run(services.catalogs.reload)
    await query.answer(t.plain(N_("Done.")))
    await query.edit_message_reply_markup(reply_markup=None)
    await table(update, context)


async def on_upload(update: Update, context: BotContext) -> None:
    """A .po file: checked whole; problems by line, or a preview with the button to make it live."""
    t, services = context.t, context.services
    if not context.staff.may(roles.manages_languages):
        await on_other_content(update, context)
        return
    document = update.effective_message.document
    language = document.file_name.rsplit(".", 1)[0].split("-")[0]
    if document.file_size and document.file_size > MAX_PO:
        await update.effective_message.reply_text(t.gettext(N_("That file is too large for a catalog.")))
        return
    content = bytes(await (await document.get_file()).download_as_bytearray())
    current = await services.store.run(current_po, services.store.locales, context.staff.org_id, language)
    result = locale_check.check(content, language, current=locale_check.parse(current, language) if current else None)
    if not result.ok:
        lines = [t.gettext(N_("Nothing was changed. Please correct {file}:"), file=document.file_name)]
        lines += [t.gettext(N_("Line {line}: {problem}"), line=problem.line, problem=t.plain(problem.message, **problem.params))
                  for problem in result.problems[:MAX_PROBLEMS_SHOWN]]
        if len(result.problems) > MAX_PROBLEMS_SHOWN:
            lines.append(t.gettext(N_("… and {count} more."), count=len(result.problems) - MAX_PROBLEMS_SHOWN))
        await update.effective_message.reply_text("\n".join(lines))
        return
    catalog_id = await services.store.aio.locales.add_pending(context.staff.org_id, language=language,
                                                              po=content.decode("utf-8"), user_id=context.staff.id)
    changed = locale_check.changed(result.catalog, locale_check.parse(current, language) if current else None)
    if changed:
        heading = t.gettext(N_("{file} is fine: {percent} % translated. {count} messages change, as users will see "
                               "them:"), file=document.file_name, percent=result.completeness, count=len(changed))
        preview = [f"· {escape(text)}" for text in changed[:PREVIEW_SHOWN]]
    else:
        heading = t.gettext(N_("{file} is fine: {percent} % translated, the same as now. A few messages as users "
                               "will see them:"), file=document.file_name, percent=result.completeness)
        translations = load_translations(language, po=content)
        preview = [f"· {escape(translations.gettext(message))}" for message in PREVIEW]
    await update.effective_message.reply_text("\n".join([heading, *preview]), reply_markup=InlineKeyboardMarkup([[
        InlineKeyboardButton(t.plain(N_("✔ Make live")), callback_data=LOCALES.data(catalog_id, "live")),
        InlineKeyboardButton(t.plain(N_("✖ Discard")), callback_data=LOCALES.data(catalog_id, "drop"))]]))


ROUTES = (command("locales", table), press(LOCALES, on_button))
# a .po file sent in: an upload to check (before any other document handler sees it)
DOCUMENT_ROUTES = (MessageHandler(NEW_MESSAGES & filters.Document.FileExtension("po"), on_upload),)
