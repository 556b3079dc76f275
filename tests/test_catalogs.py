"""The gettext workflow: the template is current, every shipped language complete, every
message and template renders in every language with the placeholders of its source."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from bot.digest import suppressed
from bot.i18n import LOCALES_DIR, SUPPORTED_LANGUAGES, Catalogs
from bot.render import Renderer
from handlers.cases import _glance_view
from storage.digest import DigestFigures
from storage.types import CaseGlance, CaseSummary, GoalInfo, ReferralInfo

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)[sd]")
TAG = re.compile(r"</?[a-z-]+>")


def _ids(path: Path) -> set:
    with path.open("rb") as handle:
        return {m.id for m in read_po(handle) if m.id}


def test_messages_pot_is_up_to_date(tmp_path):
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "locales/babel.cfg",
         "-k", "N_", "-k", "NC_:1c,2", "-k", "plain", "-k", "Invalid", "-k", "Stopped", "--no-location", "-o", str(fresh), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    committed = _ids(LOCALES_DIR / "messages.pot")
    extracted = _ids(fresh)
    assert extracted - committed == set(), "new strings: run `make strings` and translate them"
    assert committed - extracted == set(), "strings no longer used: run `make strings`"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_shipped_language_is_complete_with_matching_placeholders(language):
    template_ids = _ids(LOCALES_DIR / "messages.pot")
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    translated = {m.id: m for m in catalog if m.id}
    assert template_ids - set(translated) == set(), "missing from the catalog: run `make strings`"
    for msgid, message in translated.items():
        if msgid not in template_ids:
            continue
        assert not message.fuzzy, msgid
        sources = msgid if isinstance(msgid, tuple) else (msgid,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"untranslated: {msgid!r}"
        expected = set().union(*(PLACEHOLDER.findall(source) for source in sources))
        for string in strings:
            found = set(PLACEHOLDER.findall(string))
            # a plural form may leave out the number ("des letzten Tages"), but invent nothing
            assert found <= expected if len(sources) > 1 else found == expected, msgid
            assert TAG.findall(string) == TAG.findall(sources[-1]), msgid


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_template_renders_in_every_language(language):
    catalogs = Catalogs(ZoneInfo("Europe/Berlin"))
    t = catalogs.get(language)
    renderer = Renderer()
    when = datetime(2026, 11, 24, 9, tzinfo=UTC)
    case = CaseSummary(id=1, code="LEV-2026-0001", status="open", phase="intake", district_code="I", assigned_to=1,
                       next_due_on=date(2026, 12, 8), created_at=when, consent_at=when, consent_version="2026-01")
    glance = CaseGlance(
        summary=case, age=30, residence_status="duldung", needs={"housing": "high", "health": "none"},
        goals=[GoalInfo(1, "work", "client", date(2026, 12, 1), "open")],
        referrals=[ReferralInfo(1, 1, "Jobcenter", "work", "sent", True, False, ("work",), None)],
        last_contact_on=date(2026, 11, 1), assessments=1, closed=True, close_reason="moved-away", pending_handover=True)
    contexts = {
        "question.j2": dict(title="T", number=1, total=2, prompt="P?", notices=["n"], error="e", current="c",
                            confirmation=[("l", "v"), ("l2", "v2")],
                            buttons=True, optional=False),
        "summary.j2": dict(title="T", rows=[("a", "<b>")], notices=[], error=None),
        "help.j2": dict(role_label="Case Manager", case_worker=True, commands=[("new", "record")]),
        "case.j2": dict(**_glance_view(t, glance, date(2026, 12, 20)), rows=[("a", "b")]),
        "cases.j2": dict(cases=[(case, [("goal", date(2026, 12, 1)), ("silent", date(2026, 10, 1))])], total=1,
                         statuses={"open": "o"}, today=date(2026, 12, 20), reason_labels={"goal": "g", "silent": "s"}),
        "digest.j2": dict(days=7, figures=DigestFigures(since=when, new_cases=3, caseload=[("Ana", 12)],
                                                        referral_ages={"<14": 2}), n=suppressed,
                          new_by_district=[("I", 3)], open_by_district=[("I", 12)],
                          overdue_reassessments={"shown": ["LEV-2026-0001"], "more": 2, "count": 3},
                          overdue_goals={"shown": [], "more": 0, "count": 0}, silent={"shown": [], "more": 0, "count": 0},
                          outcomes=[("x", 1)], gaps=[("Wohnen", "Wohnungsamt", 6)], needs=[("Wohnen", 7)],
                          conferences=[("LEV-2026-0001", "1.12.26")], erasure_due=["LEV-2023-0001"]),
        "timeline.j2": dict(code="LEV-2026-0001", showing="All", total=2, lines=[(1, "24.11.2026", "<b>", "cm")]),
        "export.html.j2": dict(title="T", sections=[("S", [[("a", "<b>")]]), ("E", [])], today="2026-11-24",
                               language=t.language, rtl=t.rtl),
        "entry.j2": dict(kind="K", code="LEV-2026-0001", day="24.11.2026", role="cm", rows=[("a", "b")],
                         texts=[("t", "x")], history=["h"]),
        "documents.j2": dict(code="LEV-2026-0001", signed_on=date(2026, 11, 24), referrals=2, lettered=1),
        "attachments.j2": dict(code="LEV-2026-0001", lines=[(1, "Consent", "Jobcenter", "24.11.2026", "ar", "PDF", "1 MB")]),
    }
    assert set(contexts) == {p.name for p in (LOCALES_DIR / "templates").glob("*.j2")}
    for name, context in contexts.items():
        assert renderer.render(name, t, **context).strip(), name
    assert "&lt;b&gt;" in renderer.render("summary.j2", t, **contexts["summary.j2"])
