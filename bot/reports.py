"""A report for a period: the declared tables (domain/reports.py: STATE_REPORT) counted from the
facts storage makes, every table that may leave the house suppressed by the anonymity rule,
and written as an XLSX workbook (one sheet a table, the period and the rule on the first) or as
CSV files in a ZIP. Labels come from the catalogs, in the reader's language."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot.choices import label_of
from bot.i18n import N_, Translator
from domain.reports import COLUMNS, MIN_SHOWN, STATE_REPORT, Grid, Period, ReportTable, Shown, crosstabs, suppress
from domain.vocabulary import (
    Benefits,
    CloseReason,
    ContactKind,
    GoalStatus,
    LifeDomain,
    NeedLevel,
    ReferralStatus,
    ResidenceStatus,
    Source,
)

SUPPRESSED = "*"
# Translators: the anonymity rule, written on the first sheet of every report
RULE = N_("Counts from 1 to {limit_minus_one} are not shown ({mark}), nor is any further figure from which such a "
          "count could be worked out with the totals (secondary suppression). No figure names a client or a case.")
FLOW_LABELS = {
    "new": N_("new"), "open-start": N_("open at the start"), "open-end": N_("open at the end"), "closed": N_("closed"),
    "reopened": N_("reopened"), "handed-over": N_("handed over"), "agreed": N_("agreed"), "overdue": N_("overdue"),
    "held": N_("held"), "scheduled": N_("scheduled"), "cancelled": N_("cancelled"), "unknown": N_("unknown"),
    "inside": N_("in the target group"), "outside": N_("outside the target group"), "yes": N_("Yes"), "no": N_("No"),
    "first": N_("at the first assessment"), "latest": N_("at the latest assessment"), "under-18": N_("under 18"),
    "intake-to-assessment": N_("from the intake to the first assessment"), "case-length": N_("length of closed cases"),
    "erased": N_("erased"),
    "less": N_("less need"), "same": N_("unchanged"), "more": N_("more need"),
}
DIMENSION_LABELS = {
    "district": N_("District"), "reason": N_("Reason"), "domain": N_("Life domain"), "service": N_("Service"),
    "legal_area": N_("Rechtskreis"), "kind": N_("Kind"), "manager": N_("Case manager"), "status": N_("Status"),
    "flow": N_("Cases"), "outcome": N_("Goals"), "days": N_("Days"), "trager": N_("Träger"), "age_band": N_("Age"),
    "residence_status": N_("Residence status"), "benefits": N_("Benefits"), "source": N_("Came through"),
    "target_group": N_("Target group"), "interpreter": N_("Interpreter needed"), "level": N_("Need"),
    "when": N_("Strengths"), "measure": N_("Duration"), "contacts": N_("Contacts"), "span": N_("Days"),
    "change": N_("Change"),
}


@dataclass
class ReportTableResult:
    table: ReportTable
    grid: Grid  # the true counts: for the coordinator's chat only
    shown: Shown  # what may leave the house


def build(facts: Iterable[dict[str, str]], *, internal: bool) -> list[ReportTableResult]:
    """Every declared table counted (one pass over the facts, none kept) and suppressed;
    `internal` adds the tables only for the coordinator's chat."""
    tables = [table for table in STATE_REPORT if internal or not table.internal]
    grids = crosstabs(tables, facts, COLUMNS)
    return [ReportTableResult(table, grids[table.key], _unsuppressed(grids[table.key]) if table.internal
                              else suppress(grids[table.key])) for table in tables]


def _unsuppressed(grid: Grid) -> Shown:
    """Internal tables stay in the coordinator's chat and are shown whole."""
    return Shown(list(grid.rows), list(grid.columns), {(r, c): grid.value(r, c) for r in grid.rows for c in grid.columns},
                 {r: grid.row_total(r) for r in grid.rows} if grid.row_totals else {},
                 {c: grid.column_total(c) for c in grid.columns}, grid.grand_total())


TERMS = {"reason": CloseReason, "domain": LifeDomain, "kind": ContactKind, "residence_status": ResidenceStatus,
         "benefits": Benefits, "source": Source, "level": NeedLevel}


def label(t: Translator, dimension: str, value: str) -> str:
    """A row's or column's value as the reader says it (codes and names as they are)."""
    if value in FLOW_LABELS and dimension not in ("service", "manager", "district"):
        return t.plain(FLOW_LABELS[value])
    if dimension in TERMS:
        return t.plain(label_of(TERMS[dimension], value))
    if dimension == "outcome":
        return t.plain(label_of(GoalStatus, value))
    if dimension == "status":
        return t.plain(label_of(ReferralStatus, value))
    return value


def _rows(t: Translator, result: ReportTableResult) -> list[list[str | int]]:
    """The table as rows of cells: a header, one line per row value, the totals."""
    table, shown = result.table, result.shown
    has_totals = bool(shown.row_totals)
    total = t.plain(N_("Total"))
    header: list[str | int] = [t.plain(DIMENSION_LABELS.get(table.rows, table.rows))]
    header += [label(t, table.columns, c) for c in shown.columns] + ([total] if has_totals else [])

    def cell(value: int | None) -> str | int:
        return SUPPRESSED if value is None else value

    lines = [header]
    for r in shown.rows:
        line: list[str | int] = [label(t, table.rows, r)] + [cell(shown.cells[(r, c)]) for c in shown.columns]
        lines.append(line + ([cell(shown.row_totals[r])] if has_totals else []))
    lines.append([total] + [cell(shown.column_totals[c]) for c in shown.columns]
                 + ([cell(shown.grand_total)] if has_totals else []))
    return lines


def achieved_share(totals: dict[str, int | None]) -> str:
    """The share of goals achieved among those settled in the period (achieved, changed,
    dropped), from the goals table's totals; "*" where a total it needs is hidden."""
    parts = [totals.get(outcome) for outcome in ("achieved", "changed", "dropped")]
    if any(p is None for p in parts):
        return SUPPRESSED
    settled = sum(parts)  # type: ignore[arg-type]
    return f"{round(100 * parts[0] / settled)} %" if settled else "–"  # type: ignore[operator]


def _about(t: Translator, organisation: str, period: Period, made_on: date,
           results: list[ReportTableResult]) -> list[list[str]]:
    goals = next((r.shown for r in results if r.table.key == "goals"), None)
    lines = [[t.plain(N_("Report of the KIM case management"))], [t.plain(N_("Organisation")), organisation],
             [t.plain(N_("Period")), f"{period.start:%d.%m.%Y} – {period.end:%d.%m.%Y} ({period.label})"],
             [t.plain(N_("Made on")), f"{made_on:%d.%m.%Y}"]]
    if goals is not None:
        lines.append([t.plain(N_("Goals achieved, of those settled in the period")), achieved_share(goals.column_totals)])
    return lines + [[t.plain(RULE, limit_minus_one=MIN_SHOWN - 1, mark=SUPPRESSED)]]


Notes = list[tuple[str, str, str]]  # gaps described: (life domain, service, description)


def _notes_rows(t: Translator, notes: Notes) -> list[list[str]]:
    return [[t.plain(N_("Life domain")), t.plain(N_("Service")), t.plain(N_("What is missing"))]] + [
        [t.plain(label_of(LifeDomain, domain)), service, text] for domain, service, text in notes]


def workbook(t: Translator, results: list[ReportTableResult], *, organisation: str, period: Period, made_on: date,
             notes: Notes = ()) -> bytes:
    """The XLSX: the period and the rule on the first sheet, then one sheet a table."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    about = book.active
    about.title = t.plain(N_("About"))[:31]
    for line in _about(t, organisation, period, made_on, results):
        about.append(line)
    about["A1"].font = Font(bold=True, size=13)
    about.column_dimensions["A"].width = 22
    about.column_dimensions["B"].width = 60
    taken = {about.title}
    for result in results:
        name = _sheet_name(t.plain(result.table.title), taken)
        sheet = book.create_sheet(name)
        for line in _rows(t, result):
            sheet.append(line)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 34
        if t.rtl:
            sheet.sheet_view.rightToLeft = True
    if notes:  # the case managers' own words about the gaps, for the steering group
        sheet = book.create_sheet(_sheet_name(t.plain(N_("Gaps described")), taken))
        for line in _notes_rows(t, notes):
            sheet.append(line)
        sheet.column_dimensions["C"].width = 80
    if t.rtl:
        about.sheet_view.rightToLeft = True
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_name(title: str, taken: set[str]) -> str:
    """Excel's limits: 31 characters, none of []:*?/\\, unique."""
    name = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31] or "Sheet"
    base, n = name, 2
    while name in taken:
        name = f"{base[:28]} {n}"
        n += 1
    taken.add(name)
    return name


def csv_zip(t: Translator, results: list[ReportTableResult], *, organisation: str, period: Period, made_on: date,
            notes: Notes = ()) -> bytes:
    """One CSV a table (UTF-8, comma-separated), and the period and the rule in about.csv."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("about.csv", _csv(_about(t, organisation, period, made_on, results)))
        for result in results:
            archive.writestr(f"{result.table.key}.csv", _csv(_rows(t, result)))
        if notes:
            archive.writestr("gaps-described.csv", _csv(_notes_rows(t, notes)))
    return out.getvalue()


def pdf(engine, t: Translator, results: list[ReportTableResult], *, organisation: str, period: Period,  # noqa: ANN001
        made_on: date, notes: Notes = ()) -> bytes:
    """The report for the steering group: each table with a bar chart of its totals (the rows'
    where the columns exclude each other, else the columns'), hidden figures without a bar."""
    tables = []
    for result in results:
        shown, table = result.shown, result.table
        if shown.row_totals:
            bars = [{"label": label(t, table.rows, r), "value": shown.row_totals[r]} for r in shown.rows]
        else:
            bars = [{"label": label(t, table.columns, c), "value": shown.column_totals[c]} for c in shown.columns]
        lines = _rows(t, result)
        tables.append({"title": t.plain(table.title), "header": [str(h) for h in lines[0]],
                       "rows": [[str(v) for v in line] for line in lines[1:]], "bars": bars if shown.rows else []})
    data = {"language": t.language, "direction": "rtl" if t.rtl else "ltr",
            "title": t.plain(N_("Report of the KIM case management")), "organisation": organisation,
            "period": f"{period.start:%d.%m.%Y} – {period.end:%d.%m.%Y} ({period.label})",
            "rule": t.plain(RULE, limit_minus_one=MIN_SHOWN - 1, mark=SUPPRESSED),
            "key_figures": [line for line in _about(t, organisation, period, made_on, results)[4:-1]],
            "footer": f"{t.plain(N_('Made on'))} {made_on:%d.%m.%Y}", "tables": tables,
            "notes_title": t.plain(N_("Gaps described")), "notes": _notes_rows(t, list(notes)) if notes else []}
    return engine.render("report", data)


def _csv(lines: list[list]) -> str:
    text = io.StringIO()
    csv.writer(text).writerows(lines)
    return text.getvalue()


def headline(results: list[ReportTableResult]) -> dict[str, int]:
    """The few figures the coordinator's chat states before the files (true counts: the chat
    does not leave the house): cases new, open at the end, closed."""
    cases = next(r.grid for r in results if r.table.key == "cases")
    return {flow: cases.column_total(flow) for flow in ("new", "open-end", "closed")}
