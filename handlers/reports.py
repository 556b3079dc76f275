"""/report: the report for a period (a month, a quarter, a year, or from..to) as an XLSX workbook,
as CSV files and as a PDF, every figure anonymised; the caseload per case manager only in the chat."""

from __future__ import annotations

import asyncio
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update

from bot import reports
from bot.buttons import REPORT
from bot.i18n import N_
from bot.routes import StaleButton, command, press
from bot.services import BotContext
from domain import roles
from domain.reports import Period


def _choices(today) -> list[tuple[str, Period]]:  # noqa: ANN001
    # Translators: periods a report can be made for (buttons)
    return [(N_("This month"), Period.month_of(today)), (N_("Last month"), Period.month_of(today, back=1)),
            (N_("This quarter"), Period.quarter_of(today)), (N_("Last quarter"), Period.quarter_of(today, back=1)),
            (N_("This year"), Period.year_of(today)), (N_("Last year"), Period.year_of(today, back=1))]


async def report_command(update: Update, context: BotContext) -> None:
    """/report alone offers periods; /report 2026-Q3 (or 2026-11, 2026, 2026-01-01..2026-03-31) makes it."""
    t, services = context.t, context.services
    if not context.staff.may(roles.reads_digest):
        await update.effective_message.reply_text(t.gettext(N_("Reports are for coordinators.")))
        return
    if context.args:
        period = Period.parse(" ".join(context.args))
        if period is None:
            await update.effective_message.reply_text(t.gettext(N_(
                "Please name a period: a month (2026-11), a quarter (2026-Q3), a year (2026), or from..to "
                "(2026-01-15..2026-03-31).")))
            return
        await send_report(update, context, period)
        return
    today = services.local_now().date()
    buttons = [InlineKeyboardButton(t.plain(name), callback_data=REPORT.data(period.label)) for name, period in _choices(today)]
    await update.effective_message.reply_text(
        t.gettext(N_("Which period? Or send /report with one, for example /report 2026-Q3.")),
        reply_markup=InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)]))


async def on_period(update: Update, context: BotContext, label: str) -> None:
    period = Period.parse(label)
    if period is None or not context.staff.may(roles.reads_digest):
        raise StaleButton
    await update.callback_query.answer()
    await send_report(update, context, period)


async def send_report(update: Update, context: BotContext, period: Period) -> None:
    t, services, staff = context.t, context.services, context.staff
    # reading, decrypting the profiles and counting: in a worker thread, never on the event loop
    results = await services.store.run(lambda: reports.build(services.store.reports.facts(staff.org_id, period),
                                                             internal=True))
    shared = [r for r in results if not r.table.internal]
    notes = await services.store.aio.reports.gap_notes(staff.org_id, period)
    organisation = (await services.store.aio.staff.organisation(staff.org_id)).name
    made_on = services.local_now().date()
    figures = reports.headline(results)
    caseload = next(r.grid for r in results if r.table.key == "caseload")
    goals = next(r.grid for r in results if r.table.key == "goals")
    lines = [t.gettext(N_("<b>Report {period}</b>"), period=t.isolate(period.label)),
             t.gettext(N_("Cases: {new} new, {closed} closed, {open} open at the end."),
                       new=figures["new"], closed=figures["closed"], open=figures["open-end"]),
             t.gettext(N_("Goals achieved, of those settled in the period")) + ": "
             + reports.achieved_share({c: goals.column_total(c) for c in goals.columns})]
    if caseload.rows:
        lines.append(t.gettext(N_("Open cases per case manager (only here, not in the files):")))
        lines += [f"· {t.isolate(escape(manager))}: {caseload.row_total(manager)}" for manager in caseload.rows]
    lines.append(t.gettext(N_("The files below are anonymised: counts from 1 to 4 are hidden (*), and so is what "
                              "would give them away.")))
    await update.effective_chat.send_message("\n".join(lines))
    name = f"kim-report-{period.label.replace('..', '_')}"
    arguments = {"organisation": organisation, "period": period, "made_on": made_on, "notes": notes}
    workbook = await asyncio.to_thread(reports.workbook, t, shared, **arguments)
    archive = await asyncio.to_thread(reports.csv_zip, t, shared, **arguments)
    document = await asyncio.to_thread(reports.pdf, services.pdf, t, shared, **arguments)
    await update.effective_chat.send_document(InputFile(workbook, filename=f"{name}.xlsx"))
    await update.effective_chat.send_document(InputFile(archive, filename=f"{name}-csv.zip"))
    await update.effective_chat.send_document(InputFile(document, filename=f"{name}.pdf"))


ROUTES = (command("report", report_command), press(REPORT, on_period))
