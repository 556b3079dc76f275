"""The coordinators' digest: a message (cases by code, small counts suppressed in the anonymous
parts) and a chart of caseload and needs by life domain."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

from bot.choices import label_of
from bot.i18n import Translator
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
    )
    return Digest(text, chart(figures, t, domains))


def chart(figures: DigestFigures, t: Translator, domains: dict[str, str]) -> bytes:
    """Two bar charts in one PNG: open cases per case manager, and needs by life domain
    (bars under five are drawn empty and labelled "<5", like the text)."""
    import matplotlib

    matplotlib.use("Agg")  # no screen: draw into memory
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 6.5), dpi=100, layout="constrained")
    load, needs = figure.subplots(2, 1, height_ratios=(1, 1.3))
    names = [name for name, _ in figures.caseload][:12] or ["–"]
    counts = [count for _, count in figures.caseload][:12] or [0]
    # a case manager serves one district: their exact count would undo the district's "<5"
    load.barh(names[::-1], [c if c >= SMALL else 0 for c in counts[::-1]], color="#3390ec")
    load.set_title(t.plain("Open cases per case manager"))
    for y, count in enumerate(counts[::-1]):
        load.text(count if count >= SMALL else 0, y, f" {suppressed(count)}", va="center", fontsize=9)
    labels = list(domains.values())
    values = [figures.needs.get(k, 0) for k in domains]
    drawn = [v if v >= SMALL else 0 for v in values]
    needs.barh(labels[::-1], drawn[::-1], color="#e8a33d")
    needs.set_title(t.plain("Open cases with medium or high need, by life domain"))
    for y, value in enumerate(values[::-1]):
        needs.text(drawn[::-1][y], y, f" {suppressed(value)}", va="center", fontsize=9)
    for axis in (load, needs):
        axis.spines[["top", "right"]].set_visible(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
