"""/services: admins keep the catalogue of services; export as a file, import by sending one back."""

from __future__ import annotations

import io
import json
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import MessageHandler, filters

from bot.buttons import CATALOGUE
from bot.i18n import N_
from bot.routes import NEW_MESSAGES, StaleButton, command, press
from bot.services import BotContext
from domain import roles
from handlers.dialogue import on_other_content
from storage.types import CatalogueProblem

MAX_UPLOAD = 1_000_000
MAX_PROBLEMS_SHOWN = 20


def catalogue_file(rows: list[dict], name: str) -> tuple[io.BytesIO, str]:
    data = json.dumps({"services": rows}, ensure_ascii=False, indent=2).encode("utf-8")
    return io.BytesIO(data), name



def _qualifier(row: dict) -> str:
    """" (JMD)" after a service's name, unless its name says so already."""
    extra = row["programme"] or row["legal_area"]
    return f" ({extra})" if extra and f"({extra})" not in row["name"] else ""

async def show(update: Update, context: BotContext) -> None:
    """The catalogue in short, with its export button; admins only."""
    t = context.t
    if not context.staff.may(roles.manages_catalogue):
        await update.effective_message.reply_text(t.gettext(N_("Only admins keep the catalogue of services.")))
        return
    rows = await context.services.store.aio.catalogue.export(context.staff.org_id)
    active = [r for r in rows if r["active"]]
    lines = [t.gettext(N_("<b>Catalogue of services</b> · {count} active"), count=len(active))]
    lines += ["· " + escape(r["name"] + _qualifier(r))
              for r in active]  # names are the admins' own text: escaped for Telegram HTML
    lines += ["", t.gettext(N_("To change it: export the file, edit it, and send it back to me as a document."))]
    await update.effective_message.reply_text("\n".join(lines), reply_markup=InlineKeyboardMarkup(
        [[InlineKeyboardButton(t.plain("📤 Export as file"), callback_data=CATALOGUE.data("export"))]]))


async def on_button(update: Update, context: BotContext, _action: str) -> None:
    """Export the catalogue as a file."""
    query, t = update.callback_query, context.t
    if not context.staff.may(roles.manages_catalogue):
        raise StaleButton
    await query.answer()
    rows = await context.services.store.aio.catalogue.export(context.staff.org_id)
    content, name = catalogue_file(rows, "services.json")
    await update.effective_chat.send_document(content, filename=name, caption=t.gettext(N_("The catalogue of services.")))


async def on_document(update: Update, context: BotContext) -> None:
    """An admin's document is a catalogue to import; anyone else's is not taken (nor stored)."""
    document, t = update.effective_message.document, context.t
    if not context.staff.may(roles.manages_catalogue):
        await on_other_content(update, context)
        return
    if document.file_size and document.file_size > MAX_UPLOAD:
        await update.effective_message.reply_text(t.gettext(N_("That file is too large for a catalogue (at most 1 MB).")))
        return
    content = bytes(await (await document.get_file()).download_as_bytearray())
    try:
        data = json.loads(content.decode("utf-8"))
        rows = data["services"] if isinstance(data, dict) else data
        if not isinstance(rows, list):
            raise ValueError
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        await update.effective_message.reply_text(t.gettext(
            N_("That is not a catalogue file. Export one with /services, edit it, and send it back.")))
        return
    catalogue = context.services.store.aio.catalogue
    previous = await catalogue.export(context.staff.org_id)
    try:
        count = await catalogue.import_rows(context.staff.org_id, rows, user_id=context.staff.id)
    except CatalogueProblem as refused:
        lines = [t.gettext(N_("Nothing was changed. Please correct:"))]
        lines += [t.gettext(N_("Service {row}: {problem}"), row=row, problem=problem)
                  for row, problem in refused.problems[:MAX_PROBLEMS_SHOWN]]
        await update.effective_message.reply_text("\n".join(lines))
        return
    backup, name = catalogue_file(previous, "services-previous.json")
    await update.effective_chat.send_document(backup, filename=name, caption=t.gettext(
        N_("Catalogue updated: {count} services. Here is the previous version, should you want it back."), count=count))


ROUTES = (command("services", show), press(CATALOGUE, on_button))
# a document that is not a .po file (handlers/locales.py takes those first): a catalogue, or nothing
DOCUMENT_ROUTES = (MessageHandler(NEW_MESSAGES & filters.Document.ALL, on_document),)
