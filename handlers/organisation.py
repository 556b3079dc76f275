"""The organisation's structure and its waiting list: /districts (admins) shows each district
with its quarters, border quarters and case managers' room, and edits one in a dialogue;
/waiting (coordinators) lists the cases nobody had room for, each a press from being assigned."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.buttons import CASE_ACTION, DISTRICT
from bot.confirm.common import button
from bot.i18n import N_
from bot.routes import StaleButton, command, press, send_pages
from bot.services import BotContext
from domain import roles
from handlers.dialogue import begin


def _overview(services, org_id: int) -> list[tuple[dict, int, int, int | None]]:  # noqa: ANN001 - in a worker thread
    """Each district with its case managers: (district, how many, open cases, room left or None: unlimited)."""
    candidates = services.store.staff.candidates(org_id)
    shown = []
    for district in services.store.staff.districts(org_id):
        there = [c for c in candidates if c.district_id == district.id]
        room = None if any(c.capacity is None for c in there) else sum(max(c.capacity - c.open_cases, 0) for c in there)
        shown.append((services.district_overview(org_id, district.code), len(there), sum(c.open_cases for c in there), room))
    return shown


async def districts(update: Update, context: BotContext) -> None:
    t, services, staff = context.t, context.services, context.staff
    if not staff.may(roles.manages_users):
        await update.effective_message.reply_text(t.gettext(N_("Only admins keep the districts.")))
        return
    lines, rows = [t.gettext(N_("<b>Districts</b> · a press changes one"))], []
    for district, managers, open_cases, room in await services.store.run(_overview, services, staff.org_id):
        lines.append("")
        named = district["name"] != district["code"]
        lines.append(f"<b>{t.isolate(district['code'])}</b>" + (f" · {t.isolate(district['name'])}" if named else ""))
        lines.append(t.gettext(N_("Quarters: {quarters}"), quarters=t.join(map(t.isolate, district["quarters"])) or "–"))
        if district["border"]:
            lines.append(t.gettext(N_("Border quarters: {quarters} → {districts}"),
                                   quarters=t.join(map(t.isolate, district["border"])),
                                   districts=t.join(map(t.isolate, district["neighbours"])) or "–"))
        lines.append(t.gettext(N_("Case managers: {count} · {open} open · room for {room}"), count=managers,
                               open=open_cases, room="∞" if room is None else room))
        rows.append([InlineKeyboardButton((f"✏️ {district['code']} · {district['name']}" if named else f"✏️ {district['code']}")[:60],
                                          callback_data=DISTRICT.data(district["code"]))])
    rows.append([InlineKeyboardButton(t.plain(N_("➕ New district")), callback_data=DISTRICT.data("+"))])
    await send_pages(update, lines, InlineKeyboardMarkup(rows))


async def on_district(update: Update, context: BotContext, code: str) -> None:
    """Change a district (or add one): its name, quarters and borders, question by question."""
    if not context.staff.may(roles.manages_users):
        raise StaleButton
    if code != "+" and await context.services.store.aio.staff.district_by_code(context.staff.org_id, code) is None:
        raise StaleButton
    await update.callback_query.answer()
    await begin(update, context, "district", district="" if code == "+" else code)


async def waiting(update: Update, context: BotContext) -> None:
    """The waiting list: cases every case manager who could take them was too full for."""
    t, services, staff = context.t, context.services, context.staff
    if not staff.may(roles.reassigns_cases):
        await update.effective_message.reply_text(t.gettext(N_("Only coordinators assign waiting cases.")))
        return
    cases = await services.store.aio.cases.waiting(staff)
    if not cases:
        await update.effective_message.reply_text(t.gettext(N_("No case is waiting for a case manager.")))
        return
    lines = [t.gettext(N_("<b>Waiting list</b> · {count} · oldest first"), count=len(cases))]
    lines += [t.gettext(N_("{code} · district {district} · waiting since {date}"), code=t.isolate(code),
                        district=t.isolate(district), date=t.date(since.astimezone(services.settings.tz)))
              for code, district, since in cases]
    rows = [[button(t.plain(N_("👤 Assign {code}"), code=code), CASE_ACTION.data("reassign", code))]
            for code, _, _ in cases[:20]]
    await send_pages(update, lines, InlineKeyboardMarkup(rows))


ROUTES = (command("districts", districts), command("waiting", waiting), press(DISTRICT, on_district))
