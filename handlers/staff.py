"""/staff (admins): colleagues who leave, come back, or change role; a leaver's caseload is
handed on in the same step."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.buttons import STAFF
from bot.i18n import N_, Translator
from bot.routes import StaleButton, command, press
from bot.services import BotContext
from domain import roles
from domain.messages import NC_
from domain.roles import Role
from storage.types import Member, NotAllowed

ACTIVE, INACTIVE = NC_("staff member", "active"), NC_("staff member", "deactivated")


def _line(t: Translator, m: Member) -> str:
    return t.plain(N_("{name} · {role} · district {district} · {count} open · {state}"), name=m.label,
                   role=t.plain(m.role.label), district=m.district_code or "–", count=m.open_cases,
                   state=t.plain(ACTIVE if m.active else INACTIVE))


async def list_staff(update: Update, context: BotContext) -> None:
    """Everyone of the organisation, active first; a press opens one."""
    t = context.t
    if not context.staff.may(roles.manages_users):
        await update.effective_message.reply_text(t.gettext(N_("Only admins manage staff.")))
        return
    members = await context.services.store.aio.lifecycle.members(context.staff)
    text = t.gettext(N_("<b>Staff</b> · {count}"), count=len(members)) + "\n\n" + "\n".join(
        f"{n}. " + t.isolate(_line(t, m)) for n, m in enumerate(members, 1))
    rows = [[InlineKeyboardButton(f"{n}. {m.label}", callback_data=STAFF.data(m.id, "menu", ""))]
            for n, m in enumerate(members, 1) if m.id != context.staff.id]
    await _show(update, text, InlineKeyboardMarkup(rows))


async def _show(update: Update, text: str, markup: InlineKeyboardMarkup) -> None:
    if update.callback_query:
        await update.callback_query.answer()
        await update.callback_query.edit_message_text(text, reply_markup=markup)
    else:
        await update.effective_message.reply_text(text, reply_markup=markup)


async def on_press(update: Update, context: BotContext, user_id: int, action: str, arg: str) -> None:
    """A member's menu, deactivation (with whom the caseload goes to), reactivation, a role."""
    t, lifecycle, admin = context.t, context.services.store.aio.lifecycle, context.staff
    if not admin.may(roles.manages_users):
        raise StaleButton
    if action == "list":
        await list_staff(update, context)
        return
    try:
        member = await lifecycle.member(admin, user_id)
        if action == "menu":
            await _menu(update, context, member)
        elif action == "off" and member.open_cases:
            await _receivers(update, context, member)
        elif action in ("off", "to"):
            receiver = None
            if action == "to":
                receiver = next((m for m in await lifecycle.members(admin) if str(m.id) == arg), None)
            moved = await lifecycle.deactivate(admin, member.id, hand_to=receiver.id if receiver else None)
            await _done(update, t.gettext(N_("{name} is deactivated. Open cases handed on to {receiver}: {count}."),
                                          name=member.label, count=moved, receiver=receiver.label if receiver else "–"))
        elif action == "pin":
            await context.services.store.aio.pin.lift(admin, member.id)
            await _done(update, t.gettext(N_("The PIN lock of {name} is lifted."), name=member.label))
        elif action == "on":
            await lifecycle.reactivate(admin, member.id)
            await _done(update, t.gettext(N_("{name} is active again."), name=member.label))
        elif action == "emp":
            await _employer(update, context, member, arg)
        elif action == "cap":
            await _capacity(update, context, member, arg)
        elif action == "role" and (role := _role(arg)) is not None:
            await lifecycle.change_role(admin, member.id, role)
            await _done(update, t.gettext(N_("{name} is now {role}."), name=member.label, role=t.plain(role.label)))
        else:
            raise StaleButton
    except NotAllowed:
        await update.callback_query.answer(t.plain(N_(
            "Not possible: they still hold open cases (deactivating hands them on), or a case manager needs a "
            "district.")), show_alert=True)


def _role(value: str) -> Role | None:
    try:
        return Role(value)
    except ValueError:
        return None


async def _menu(update: Update, context: BotContext, member: Member) -> None:
    t = context.t
    rows = [[InlineKeyboardButton(t.plain(N_("🚫 Deactivate")) if member.active else t.plain(N_("✅ Reactivate")),
                                  callback_data=STAFF.data(member.id, "off" if member.active else "on", ""))]]
    if member.pin_locked:
        rows.append([InlineKeyboardButton(t.plain(N_("🔓 Lift the PIN lock")), callback_data=STAFF.data(member.id, "pin", ""))])
    rows += [[InlineKeyboardButton(t.plain(N_("Role: {role}"), role=t.plain(role.label)),
                                   callback_data=STAFF.data(member.id, "role", role.value))]
             for role in Role if role != member.role]
    if member.role in roles.CASE_WORKERS:
        rows.append([InlineKeyboardButton(t.plain(N_("🏢 Träger: {employer}"), employer=member.employer or "–"),
                                          callback_data=STAFF.data(member.id, "emp", ""))])
    if roles.receives_cases(member.role):
        rows.append([InlineKeyboardButton(t.plain(N_("📦 Capacity: {capacity}"), capacity=member.capacity or "–"),
                                          callback_data=STAFF.data(member.id, "cap", ""))])
    rows.append([InlineKeyboardButton(t.plain(N_("« Staff")), callback_data=STAFF.data(0, "list", ""))])
    await _show(update, t.isolate(_line(t, member)), InlineKeyboardMarkup(rows))


async def _employer(update: Update, context: BotContext, member: Member, choice: str) -> None:
    """The member's employer, picked from the organisation's list (`employers.list`): reports
    count cases by it, so it is one of a few names, never typed anew."""
    t, store = context.t, context.services.store
    employers = await store.aio.settings.employers(context.staff.org_id)
    if not employers:
        await update.callback_query.answer(t.plain(N_(
            "No employers are listed yet. In IT: casebot settings set employers.list \"City (KI), Caritas, AWO\".")),
            show_alert=True)
        return
    if choice.isdigit() and int(choice) < len(employers):
        await store.aio.lifecycle.set_employer(context.staff, member.id, employers[int(choice)])
        await _done(update, t.gettext(N_("{name} works for {employer}."), name=member.label, employer=employers[int(choice)]))
        return
    rows = [[InlineKeyboardButton(("• " if name == member.employer else "") + name, callback_data=STAFF.data(member.id, "emp", n))]
            for n, name in enumerate(employers)]
    rows.append([InlineKeyboardButton(t.plain(N_("« Staff")), callback_data=STAFF.data(0, "list", ""))])
    await _show(update, t.gettext(N_("Who does {name} work for?"), name=member.label), InlineKeyboardMarkup(rows))


CAPACITIES = (10, 20, 30, 40, 50, 60, 80, 100)  # open cases; "0": no limit


async def _capacity(update: Update, context: BotContext, member: Member, choice: str) -> None:
    """How many open cases the case manager takes at most: new cases go to colleagues with room."""
    t = context.t
    if choice.isdigit() and (int(choice) in CAPACITIES or choice == "0"):
        capacity = int(choice) or None
        await context.services.store.aio.lifecycle.set_capacity(context.staff, member.id, capacity)
        await _done(update, t.gettext(N_("{name} takes at most {capacity} open cases.") if capacity else
                                      N_("{name} takes new cases without a limit."), name=member.label, capacity=capacity))
        return
    buttons = [InlineKeyboardButton(("• " if n == member.capacity else "") + str(n), callback_data=STAFF.data(member.id, "cap", n))
               for n in CAPACITIES]
    rows = [buttons[i:i + 4] for i in range(0, len(buttons), 4)]
    rows.append([InlineKeyboardButton(("• " if member.capacity is None else "") + t.plain(N_("no limit")),
                                      callback_data=STAFF.data(member.id, "cap", "0"))])
    rows.append([InlineKeyboardButton(t.plain(N_("« Staff")), callback_data=STAFF.data(0, "list", ""))])
    await _show(update, t.gettext(N_("How many open cases does {name} take at most? Now: {count} open."),
                                  name=member.label, count=member.open_cases), InlineKeyboardMarkup(rows))


async def _receivers(update: Update, context: BotContext, member: Member) -> None:
    t = context.t
    others = [m for m in await context.services.store.aio.lifecycle.members(context.staff)
              if m.active and m.id != member.id and m.role in roles.CASE_WORKERS]
    rows = [[InlineKeyboardButton(t.isolate(_line(t, m)), callback_data=STAFF.data(member.id, "to", m.id))]
            for m in others]
    rows.append([InlineKeyboardButton(t.plain(N_("« Staff")), callback_data=STAFF.data(0, "list", ""))])
    await _show(update, t.gettext(N_("Who takes over the open cases of {name} ({count})?"), count=member.open_cases,
                                  name=member.label), InlineKeyboardMarkup(rows))


async def _done(update: Update, text: str) -> None:
    await update.callback_query.answer()
    await update.callback_query.edit_message_text(text)


ROUTES = (
    command("staff", list_staff),
    press(STAFF, on_press),
)
