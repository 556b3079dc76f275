"""The data subject's copy (Art. 15 GDPR) as people read it: one HTML document per language (German,
and the client's language where one is shipped), beside the machine-readable JSON."""

from __future__ import annotations

import json
from typing import Any

from bot.choices import label_of
from bot.dialogue_view import display_value
from bot.forms.engine import FormContext
from bot.forms.registry import FORMS
from bot.i18n import N_, Translator
from bot.render import Renderer
from domain.vocabulary import ContactKind, EntryKind, GoalStatus, LifeDomain, NeedLevel, ReferralStatus, Responsible


def _value(t: Translator, value: Any) -> str:
    if value is None:
        return t.plain(N_("(cannot be read: damaged or erased)"))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def sections(t: Translator, ctx: FormContext, data: dict[str, Any]) -> list[tuple[str, list[list[tuple[str, str]]]]]:
    """(title, items of (label, value)) for the readable document."""
    intake_fields = {f.name: f for f in FORMS["intake"].fields}
    case = data["case"]
    intake = [(t.plain(intake_fields[k].label), display_value(t, intake_fields[k], v, ctx) if v is not None else "–")
              for k, v in data["intake"].items() if k in intake_fields]
    assessments = []
    for a in data["assessments"]:
        item = [(t.plain(N_("Assessment")), str(a["number"]))]
        for d in LifeDomain:
            if a.get(f"need_{d.value}"):
                item.append((t.plain(d.label), t.plain(label_of(NeedLevel, a[f"need_{d.value}"]))
                             + (f": {a[f'note_{d.value}']}" if a.get(f"note_{d.value}") else "")))
            if a.get(f"strength_{d.value}"):
                item.append((t.plain(N_("Strengths")) + " · " + t.plain(d.label), a[f"strength_{d.value}"]))
        assessments.append(item)
    goals = [[(t.plain(N_("Goal")), _value(t, g["goal"])), (t.plain(N_("Life domain")), t.plain(label_of(LifeDomain, g["domain"]))),
              (t.plain(N_("Responsible")), t.plain(label_of(Responsible, g["responsible"]))), (t.plain(N_("Due")), t.date(g["due"])),
              (t.plain(N_("Status")), t.plain(label_of(GoalStatus, g["status"])))] for g in data["goals"]]
    referrals = [[(t.plain(N_("Service")), r["service"] or "–"), (t.plain(N_("Purpose")), _value(t, r["purpose"])),
                  (t.plain(N_("Status")), t.plain(label_of(ReferralStatus, r["status"]))),
                  (t.plain(N_("consent given")), t.date(r["consent_given"]) if r["consent_given"] else "–"),
                  (t.plain(N_("consent withdrawn")), t.date(r["consent_withdrawn"]) if r["consent_withdrawn"] else "–"),
                  (t.plain(N_("Shared life domains")), ", ".join(t.plain(label_of(LifeDomain, d)) for d in r["shared_life_domains"]) or "–")]
                 + ([(t.plain(N_("Result reported back")), r["result_reported_back"])] if r["result_reported_back"] else [])
                 for r in data["referrals"]]
    contacts = [[(t.plain(N_("Date")), t.date(c["date"])), (t.plain(N_("Kind")), t.plain(label_of(ContactKind, c["kind"]))),
                 (t.plain(N_("Note")), _value(t, c["note"]))] for c in data["contacts"]]
    meetings = [[(t.plain(N_("When")), c["when"][:16].replace("T", " ")), (t.plain(N_("Place")), _value(t, c["place"])),
                 (t.plain(N_("Agenda")), _value(t, c["agenda"]))]
                + ([(t.plain(N_("Decisions and tasks")), c["decisions"])] if c["decisions"] else []) for c in data["conferences"]]
    handovers = [[(t.plain(N_("New district")), h["to_district"] or "–"), (t.plain(N_("Handover note")), _value(t, h["note"]))]
                 for h in data["handovers"]]
    timeline = [[(t.date(e["date"]), t.plain(label_of(EntryKind, e["kind"])))] for e in data["case_file"]]
    case_data = [(t.plain(N_("Case code")), t.isolate(case["code"])),
                 (t.plain(N_("Consent to documentation")), t.date(case["consent_to_documentation"]["given"])),
                 (t.plain(N_("District")), case["district"])]
    return [
        (t.plain(N_("Case data")), [case_data]),
        (t.plain(N_("Intake")), [intake]), (t.plain(N_("Assessment")), assessments), (t.plain(N_("Goals")), goals),
        (t.plain(N_("Referrals")), referrals), (t.plain(N_("Contacts")), contacts), (t.plain(N_("Fallkonferenzen")), meetings),
        (t.plain(N_("Handover")), handovers), (t.plain(N_("All entries")), timeline),
    ]


def readable(renderer: Renderer, t: Translator, ctx: FormContext, data: dict[str, Any], today: str) -> bytes:
    title = t.plain("Case file %(code)s") % {"code": data["case"]["code"]}
    return renderer.render("export.html.j2", t, title=title, sections=sections(t, ctx, data), today=today,
                           language=t.language, rtl=t.rtl).encode("utf-8")


def as_json(export: dict[str, Any]) -> bytes:
    """The machine-readable copy (Art. 15 and 20: a structured, common format)."""
    return json.dumps(export, ensure_ascii=False, indent=1, default=str).encode("utf-8")
