"""The coordinators' digest: a message (cases by code, small counts suppressed in the anonymous
parts) and a chart of caseload and needs by life domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.chart import draw_in_child
from bot.choices import label_of
from bot.i18n import N_, Translator
from domain.vocabulary import LifeDomain, ReferralStatus
from storage.types import CodeList, DigestFigures

SMALL = 5  # counts from 1 to 4 could point at a person: shown as "<5" in the anonymous parts
MAX_CODES = 15


@dataclass(frozen=True)
class Digest:
    text: str
    chart: bytes


def suppressed(count: int) -> str:
    return f"<{SMALL}" if 0 < count < SMALL else str(count)


def build(services, org_id: int, t: Translator, *, days: int) -> Digest:  # noqa: ANN001
    settings, store = services.settings, services.store
    now = store.clock.now()
    figures = store.digest.figures(org_id=org_id, today=now.astimezone(settings.tz).date(), since=now - timedelta(days=days),
                      silent_days=settings.silent_case_days, shown=MAX_CODES)
    domains = {d.value: t.plain(d.label) for d in LifeDomain}

    def codes(items: CodeList) -> dict:
        return {"shown": [t.isolate(c) for c in items.codes], "more": max(0, items.count - len(items.codes)),
                "count": items.count}

    text = services.renderer.render(
        "digest.j2", t, days=days, figures=figures, n=suppressed,
        new_by_district=sorted(figures.new_by_district.items()), open_by_district=sorted(figures.open_by_district.items()),
        overdue_reassessments=codes(figures.overdue_reassessments), overdue_goals=codes(figures.overdue_goals),
        silent=codes(figures.silent),
        outcomes=[(t.plain(label_of(ReferralStatus, k)), v) for k, v in sorted(figures.outcomes.items())],
        gaps=[(domains.get(d, d), service, count) for (d, service), count in sorted(figures.gaps.items())],
        needs=[(domains[k], figures.needs.get(k, 0)) for k in domains],
        conferences=[(t.isolate(code), t.datetime(when)) for code, when in figures.conferences],
        # closed cases whose retention period ends within a month: a legal hold keeps one
        erasure_due=[t.isolate(code) for code in store.erasure.due(org_id, within_days=30)],
    )
    return Digest(text, chart(figures, t, domains))


def chart(figures: DigestFigures, t: Translator, domains: dict[str, str]) -> bytes:
    """Two bar charts in one PNG: open cases per case manager, and needs by life domain
    (bars under five are drawn empty and labelled "<5", like the text). Drawn by a short-lived
    child process (bot/chart.py): matplotlib would add some 50 MB to every instance for good,
    for a picture a coordinator gets once a day or week."""
    # the longest bar first (ties by name), so the eye finds the largest at the top
    load = sorted(figures.caseload, key=lambda item: (-item[1], item[0]))[:12]
    needs = sorted(((label, figures.needs.get(k, 0)) for k, label in domains.items()), key=lambda item: -item[1])
    spec = {
        "rtl": t.rtl,
        "load_title": t.plain("Open cases per case manager"),
        # a case manager serves one district: their exact count would undo the district's "<5"
        "load": [[name, count if count >= SMALL else 0, suppressed(count)] for name, count in load],
        "needs_title": t.plain("Open cases with medium or high need, by life domain"),
        "needs": [[label, value if value >= SMALL else 0, suppressed(value)] for label, value in needs],
        "empty": t.plain(N_("No open cases yet: nothing to draw.")),
    }
    return draw_in_child(spec)
