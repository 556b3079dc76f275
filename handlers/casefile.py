"""The case file: the timeline of a case (newest first, paged, filtered by kind or life domain)
and each entry opened in full. Rights are checked in storage on every press."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.buttons import ATTACHMENT, CASES, ENTRY, TIMELINE, TIMELINE_FILTER
from bot.choices import label_of
from bot.dialogue_view import display_value
from bot.forms.engine import FormContext
from bot.forms.registry import FORMS
from bot.hygiene import show_about
from bot.i18n import N_, UNREADABLE, Translator
from bot.routes import StaleButton, press
from bot.services import BotContext
from domain.documents import DOCUMENT_LABELS
from domain.roles import Role
from domain.vocabulary import (
    ENTRY_GROUPS,
    ChangeNature,
    CloseReason,
    ContactKind,
    EntryKind,
    GoalStatus,
    LifeDomain,
    NeedLevel,
    ReferralStatus,
    Responsible,
)
from storage.types import EntryDetail, EntryLine, NotAllowed

# the timeline's filters by kind (ENTRY_GROUPS), with their labels
GROUP_LABELS = {
    "contacts": N_("Contacts"), "plans": N_("Assessments and goals"), "referrals": N_("Referrals"),
    "conferences": N_("Fallkonferenzen"), "changes": N_("Intake and changes"), "corrections": N_("Corrections"),
}
# shown only when asked for: names and date of birth stay behind "Show names and details"
IDENTITY = ("given_name", "family_name", "birth_date")
STATUS_LABELS = {"given": N_("consent given"), "withdrawn": N_("consent withdrawn")}


def _filter(token: str) -> tuple[str | None, str | None]:
    """(kind group, life domain) of a filter token: "all", "g.contacts", "d.housing"."""
    kind, _, value = token.partition(".")
    if kind == "g" and value in ENTRY_GROUPS:
        return value, None
    if kind == "d" and LifeDomain.parse(value) is not None:
        return None, value
    return None, None


def _role(t: Translator, role: str) -> str:
    try:
        return t.plain(Role(role).label)
    except ValueError:
        return ""


def _what(t: Translator, line: EntryLine) -> str:
    """The kind of an entry and its gist: "Contact (phone call)", "Update: Phone"."""
    kind = t.plain(label_of(EntryKind, line.kind))
    gist = line.gist
    parts: list[str] = []
    if line.kind == EntryKind.CONTACT and gist.get("contact_kind"):
        parts.append(t.plain(label_of(ContactKind, gist["contact_kind"])))
    elif gist.get("service"):
        parts.append(gist["service"])
    elif gist.get("field"):
        fld = FORMS["intake"].fields
        parts.append(next((t.plain(f.label) for f in fld if f.name == gist["field"]), gist["field"]))
    elif line.kind == EntryKind.HANDOVER and gist.get("district"):
        parts.append("→ " + t.isolate(gist["district"]))
    elif line.kind in (EntryKind.CONFERENCE, EntryKind.CONFERENCE_OUTCOME) and gist.get("starts_at"):
        parts.append(t.datetime(gist["starts_at"]))
    elif gist.get("document") in DOCUMENT_LABELS:
        parts.append(t.plain(DOCUMENT_LABELS[gist["document"]]))
    elif line.kind == EntryKind.ASSESSMENT and line.ref_id:
        parts.append(t.isolate(line.ref_id))
    if gist.get("status"):
        status = gist["status"]
        parts.append(t.plain(STATUS_LABELS[status]) if status in STATUS_LABELS else
                     t.plain(label_of(GoalStatus if line.kind == EntryKind.GOAL_STATUS else ReferralStatus, status)))
    if gist.get("reason"):
        parts.append(t.plain(label_of(CloseReason, gist["reason"])))
    if line.domain and line.kind not in (EntryKind.UPDATE, EntryKind.CORRECTION, EntryKind.STATUS):
        parts.append(t.plain(label_of(LifeDomain, line.domain)))
    return kind + (": " + " · ".join(parts) if parts else "")


async def show_timeline(update: Update, context: BotContext, code: str, token: str = "all", cursor: str = "") -> None:
    services, t = context.services, context.t
    group, domain = _filter(token)
    if group is None and domain is None:
        token = "all"  # an unknown (old or forged) filter: all entries
    try:
        page = await services.store.aio.timeline.page(context.staff, code, group=group, domain=domain,
                                                      cursor=cursor)
    except NotAllowed:
        raise StaleButton from None
    showing = (t.plain(GROUP_LABELS[group]) if group else t.plain(label_of(LifeDomain, domain)) if domain
               else t.plain(N_("All entries")))
    lines = [(n, t.date(e.happened_on), _what(t, e), _role(t, e.author_role)) for n, e in enumerate(page.entries, 1)]
    text = services.renderer.render("timeline.j2", t, code=page.code, showing=showing, total=page.total, lines=lines)
    numbers = [InlineKeyboardButton(str(n), callback_data=ENTRY.data(e.id)) for n, e in enumerate(page.entries, 1)]
    rows = [numbers[i : i + 4] for i in range(0, len(numbers), 4)]
    paging = []
    if page.has_newer:
        first = page.entries[0]
        paging.append(InlineKeyboardButton(t.plain(N_("« Newer")), callback_data=TIMELINE.data(
            page.code, token, f"n{first.happened_on.isoformat()}.{first.id}")))
    if page.has_older:
        last = page.entries[-1]
        paging.append(InlineKeyboardButton(t.plain(N_("Older »")), callback_data=TIMELINE.data(
            page.code, token, f"o{last.happened_on.isoformat()}.{last.id}")))
    if paging:
        rows.append(paging)
    rows.append([InlineKeyboardButton(t.plain(N_("🔎 Filter")), callback_data=TIMELINE_FILTER.data(page.code)),
                 InlineKeyboardButton(t.plain(N_("📂 Case")), callback_data=CASES.data("o", page.code))])
    await show_about(update, context, page.code, text, InlineKeyboardMarkup(rows), edit=bool(cursor) or token != "all")


async def on_timeline(update: Update, context: BotContext, code: str, token: str, cursor: str) -> None:
    """A page or a filter of the timeline."""
    await show_timeline(update, context, code, token, cursor)


async def on_filter(update: Update, context: BotContext, code: str) -> None:
    """The filters: by kind of entry, and by life domain."""
    t = context.t
    if not await context.services.store.aio.cases.may_see(context.staff, code):
        raise StaleButton
    kinds = [InlineKeyboardButton(t.plain(label), callback_data=TIMELINE.data(code, f"g.{group}", ""))
             for group, label in GROUP_LABELS.items()]
    domains = [InlineKeyboardButton(t.plain(d.label), callback_data=TIMELINE.data(code, f"d.{d.value}", ""))
               for d in LifeDomain]
    rows = [[InlineKeyboardButton(t.plain(N_("All entries")), callback_data=TIMELINE.data(code, "all", "-"))]]
    rows += [kinds[i : i + 2] for i in range(0, len(kinds), 2)]
    rows += [domains[i : i + 2] for i in range(0, len(domains), 2)]
    await update.callback_query.answer()
    await update.callback_query.edit_message_reply_markup(reply_markup=InlineKeyboardMarkup(rows))


async def on_entry(update: Update, context: BotContext, entry_id: int) -> None:
    """One entry, in full."""
    services, t = context.services, context.t
    try:
        detail = await services.store.aio.timeline.entry(context.staff, entry_id)
    except NotAllowed:
        raise StaleButton from None
    ctx = await services.store.run(services.form_context, context.staff)
    rows, texts, history = _entry_view(t, ctx, detail)
    text = services.renderer.render("entry.j2", t, kind=t.plain(label_of(EntryKind, detail.line.kind)),
                                    code=detail.code, day=t.date(detail.line.happened_on),
                                    role=_role(t, detail.line.author_role), rows=rows, texts=texts, history=history)
    buttons = [InlineKeyboardButton(t.plain(N_("🕓 Case file")), callback_data=TIMELINE.data(detail.code, "all", ""))]
    if detail.line.kind == EntryKind.SIGNED and detail.line.ref_id:  # the signed scan itself, on a press
        buttons.insert(0, InlineKeyboardButton(t.plain(N_("📎 Get the scan")), callback_data=ATTACHMENT.data(detail.line.ref_id)))
    await show_about(update, context, detail.code, text, InlineKeyboardMarkup([buttons]), edit=False)


def _text(t: Translator, value: Any) -> str:
    return t.plain(UNREADABLE) if value is None else str(value)


def _intake_value(t: Translator, ctx: FormContext, name: str, value: Any) -> tuple[str, str]:
    fld = next((f for f in FORMS["intake"].fields if f.name == name), None)
    if fld is None:
        return name, t.isolate(value)
    return t.plain(fld.label), display_value(t, fld, value, ctx) if value is not None else "–"


def _entry_view(t: Translator, ctx: FormContext, detail: EntryDetail) -> tuple[list, list, list]:
    """(label, value) rows, longer texts, and a history, for one entry by its kind."""
    kind, d = detail.line.kind, detail.data
    rows: list[tuple[str, str]] = []
    texts: list[tuple[str, str]] = []
    history: list[str] = []
    if kind == EntryKind.SIGNED and d.get("document") in DOCUMENT_LABELS:
        rows.append((t.plain(N_("Document")), t.plain(DOCUMENT_LABELS[d["document"]])))
    if kind == EntryKind.INTAKE:
        values = d.get("values", {})
        for f in FORMS["intake"].fields:
            if f.name in values and f.name not in IDENTITY and f.name not in ("consent", "note"):
                rows.append(_intake_value(t, ctx, f.name, values[f.name]))
        if values.get("note"):
            texts.append((t.plain(N_("Note")), _text(t, values["note"])))
        for change in d.get("changes", []):
            field = change.get("field")
            if field is None:  # its details are unreadable
                history.append(t.date(change["happened_on"]) + " · " + t.plain(UNREADABLE))
                continue
            label, old = _intake_value(t, ctx, field, change["old"].get(field))
            new = _intake_value(t, ctx, field, change["new"].get(field))[1]
            history.append(t.plain(N_("{date} · {kind} · {field}: {old} → {new} ({role})"), date=t.date(change["happened_on"]),
                                   kind=t.plain(label_of(EntryKind, change["kind"])), field=label, old=old, new=new,
                                   role=_role(t, change["role"])))
    elif kind == EntryKind.ASSESSMENT:
        values = d.get("values", {})
        for domain in LifeDomain:
            level = values.get(f"need_{domain.value}")
            if level is not None:
                rows.append((t.plain(domain.label), t.plain(label_of(NeedLevel, level))))
            if values.get(f"note_{domain.value}"):
                texts.append((t.plain(domain.label), _text(t, values[f"note_{domain.value}"])))
        for name, label in (("priorities", N_("Client's priorities")), ("strengths", N_("Strengths"))):
            if values.get(name):
                rows.append((t.plain(label), ", ".join(t.plain(label_of(LifeDomain, v)) for v in values[name])))
        for domain in LifeDomain:
            if values.get(f"strength_{domain.value}"):
                texts.append((t.plain(N_("Strengths")) + " · " + t.plain(domain.label),
                              _text(t, values[f"strength_{domain.value}"])))
    elif kind in (EntryKind.GOAL, EntryKind.GOAL_STATUS):
        rows += [(t.plain(N_("Life domain")), t.plain(label_of(LifeDomain, detail.line.domain))),
                 (t.plain(N_("Responsible")), t.plain(label_of(Responsible, d.get("responsible")))),
                 (t.plain(N_("Due")), t.date(d.get("due_on"))),
                 (t.plain(N_("Status")), t.plain(label_of(GoalStatus, d.get("goal_status"))))]
        texts.append((t.plain(N_("Goal")), _text(t, d.get("wording"))))
    elif kind in (EntryKind.REFERRAL, EntryKind.REFERRAL_STATUS, EntryKind.REFERRAL_RESULT, EntryKind.CONSENT):
        consent = (t.plain(N_("consent withdrawn")) if d.get("withdrawn_at") else
                   t.plain(N_("consent given")) if d.get("consent_at") else t.plain(N_("no consent")))
        rows += [(t.plain(N_("Service")), d.get("service", "")),
                 (t.plain(N_("Life domain")), t.plain(label_of(LifeDomain, detail.line.domain))),
                 (t.plain(N_("Status")), t.plain(label_of(ReferralStatus, d.get("referral_status")))),
                 (t.plain(N_("Consent to share data")), consent)]
        if d.get("shared_domains"):
            rows.append((t.plain(N_("Shared life domains")),
                         ", ".join(t.plain(label_of(LifeDomain, v)) for v in d["shared_domains"])))
        if "purpose" in d:
            texts.append((t.plain(N_("Purpose")), _text(t, d.get("purpose"))))
        if d.get("result") is not None or kind == EntryKind.REFERRAL_RESULT:
            texts.append((t.plain(N_("Result reported back")), _text(t, d.get("result"))))
        if d.get("gap") is not None:
            texts.append((t.plain(N_("Gap in the system")), _text(t, d.get("gap"))))
        for day, step, status, role in d.get("history", []):
            what = (t.plain(label_of(ReferralStatus, status)) if step == EntryKind.REFERRAL_STATUS and status else
                    t.plain(STATUS_LABELS[status]) if status in STATUS_LABELS else t.plain(label_of(EntryKind, step)))
            history.append(f"{t.date(day)} · {what}" + (f" ({_role(t, role)})" if role else ""))
    elif kind == EntryKind.CONTACT:
        rows += [(t.plain(N_("Date")), t.date(d.get("happened_on"))),
                 (t.plain(N_("Kind")), t.plain(label_of(ContactKind, d.get("contact_kind"))))]
        texts.append((t.plain(N_("Note")), _text(t, d.get("note"))))
    elif kind in (EntryKind.CONFERENCE, EntryKind.CONFERENCE_OUTCOME):
        if d.get("starts_at"):
            rows += [(t.plain(N_("When")), t.datetime(d["starts_at"])), (t.plain(N_("Place")), _text(t, d.get("place")))]
            if d.get("agencies"):
                rows.append((t.plain(N_("Agencies")), ", ".join(d["agencies"])))
            if d.get("consent_now"):
                rows.append((t.plain(N_("Consent to share recorded for")), ", ".join(d["consent_now"])))
            texts.append((t.plain(N_("Agenda")), _text(t, d.get("agenda"))))
        if "decisions" in d and d["decisions"] is not None or kind == EntryKind.CONFERENCE_OUTCOME:
            texts.append((t.plain(N_("Decisions and tasks")), _text(t, d.get("decisions"))))
    elif kind == EntryKind.HANDOVER:
        rows.append((t.plain(N_("New district")), t.isolate(d.get("district", ""))))
        texts.append((t.plain(N_("Handover note")), _text(t, d.get("note"))))
    elif kind in (EntryKind.UPDATE, EntryKind.CORRECTION, EntryKind.STATUS):
        field = d.get("field")
        if field is None:
            texts.append(("", t.plain(UNREADABLE)))
        else:
            for name, new in d["new"].items():
                label, old = _intake_value(t, ctx, name, d["old"].get(name))
                rows.append((label, f"{old} → {_intake_value(t, ctx, name, new)[1]}"))
            rows.append((t.plain(N_("Kind of change")), t.plain(label_of(ChangeNature, d.get("nature")))))
    elif kind == EntryKind.CLOSURE:
        rows.append((t.plain(N_("Reason")), t.plain(label_of(CloseReason, d.get("reason")))))
    return rows, texts, history


ROUTES = (
    press(TIMELINE, on_timeline),
    press(TIMELINE_FILTER, on_filter),
    press(ENTRY, on_entry),
)
