"""Reports for the state's controlling and the steering group: periods, two-way tables of counts,
and the anonymity rule every figure that leaves the coordinator's chat goes through.

The rule: a count from 1 to MIN_SHOWN - 1 is suppressed (primary suppression), and so is every
further cell needed so that no suppressed value can be worked out from the totals shown
(secondary suppression). "Worked out" is taken strictly: a value is exposed when the table's
sum equations (each row, each column, the grand total) determine it, alone or combined, which
is decided by exact linear algebra over the rationals, not by looking for a row with a single
gap. Pure: the standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction

from domain.eligibility import age_on
from domain.messages import N_

MIN_SHOWN = 5  # counts from 1 to 4 are not shown

# --- periods ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole local days, both ends included (the organisation's time zone turns them into moments)."""

    start: date
    end: date

    @property
    def label(self) -> str:
        if self.start.day == 1 and self.end == _month_end(self.start):
            return f"{self.start:%Y-%m}"
        if self.start.day == 1 and self.start.month in (1, 4, 7, 10) and self.end == _month_end(
                self.start.replace(month=self.start.month + 2)):
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if (self.start.month, self.start.day, self.end.month, self.end.day) == (1, 1, 12, 31) and \
                self.start.year == self.end.year:
            return str(self.start.year)
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def days(self) -> int:
        return (self.end - self.start).days + 1

    @classmethod
    def parse(cls, text: str) -> Period | None:
        """"2026-11" (a month), "2026-Q4" (a quarter), "2026" (a year), "2026-01-15..2026-03-31"."""
        text = text.strip().upper()
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
            year, month = int(m[1]), int(m[2])
            return cls(date(year, month, 1), _month_end(date(year, month, 1))) if 1 <= month <= 12 else None
        if m := re.fullmatch(r"(\d{4})-?Q([1-4])", text):
            first = date(int(m[1]), 3 * int(m[2]) - 2, 1)
            return cls(first, _month_end(first.replace(month=first.month + 2)))
        if re.fullmatch(r"\d{4}", text):
            return cls(date(int(text), 1, 1), date(int(text), 12, 31))
        if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\s*(?:\.\.|/|–|-{2})\s*(\d{4}-\d{2}-\d{2})", text):
            try:
                start, end = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            except ValueError:
                return None
            return cls(start, end) if start <= end else None
        return None

    @classmethod
    def month_of(cls, day: date, *, back: int = 0) -> Period:
        first = day.replace(day=1)
        for _ in range(back):
            first = (first - timedelta(days=1)).replace(day=1)
        return cls(first, _month_end(first))

    @classmethod
    def quarter_of(cls, day: date, *, back: int = 0) -> Period:
        index = day.year * 4 + (day.month - 1) // 3 - back
        first = date(index // 4, 3 * (index % 4) + 1, 1)
        return cls(first, _month_end(first.replace(month=first.month + 2)))

    @classmethod
    def year_of(cls, day: date, *, back: int = 0) -> Period:
        return cls(date(day.year - back, 1, 1), date(day.year - back, 12, 31))


def _month_end(first: date) -> date:
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


# --- age bands -------------------------------------------------------------------------------
# the bands the programmes' age limits draw (JMD up to 27, Teilhabemanagement 18 to 27, MBE from 27)
AGE_BANDS = ((18, 20, "18-20"), (21, 26, "21-26"), (27, 34, "27-34"), (35, 49, "35-49"), (50, 64, "50-64"),
             (65, 200, "65+"))


def age_band(age: int | None) -> str:
    if age is None:
        return "unknown"
    if age < 18:
        return "under-18"
    return next(label for low, high, label in AGE_BANDS if low <= age <= high)


# --- tables and their anonymity ----------------------------------------------------------------


@dataclass
class Grid:
    """Counts by (row, column), with the totals a reader will see. `row_totals` only where the
    columns exclude each other (a case is in one district, but can be new and closed in one
    period: then a row's total would count it twice, and there is none)."""

    rows: list[str]
    columns: list[str]
    cells: dict[tuple[str, str], int]
    row_totals: bool = True

    def value(self, row: str, column: str) -> int:
        return self.cells.get((row, column), 0)

    def row_total(self, row: str) -> int:
        return sum(self.value(row, c) for c in self.columns)

    def column_total(self, column: str) -> int:
        return sum(self.value(r, column) for r in self.rows)

    def grand_total(self) -> int:
        return sum(self.column_total(c) for c in self.columns)


@dataclass
class Shown:
    """A grid as it may leave the house: None where a figure is suppressed."""

    rows: list[str]
    columns: list[str]
    cells: dict[tuple[str, str], int | None]
    row_totals: dict[str, int | None]
    column_totals: dict[str, int | None]
    grand_total: int | None
    suppressed: set = field(default_factory=set)  # the keys suppressed: (row, col), ("row", r), ("col", c), ("all",)


def _small(value: int) -> bool:
    return 0 < value < MIN_SHOWN


def _equations(grid: Grid) -> list[tuple[object, list[object]]]:
    """Each total and the items it sums: (total's key, [the keys it is the sum of])."""
    equations: list[tuple[object, list[object]]] = []
    for c in grid.columns:
        equations.append((("col", c), [(r, c) for r in grid.rows]))
    if grid.row_totals:
        for r in grid.rows:
            equations.append((("row", r), [(r, c) for c in grid.columns]))
        equations.append((("all",), [("row", r) for r in grid.rows]))
    equations.append((("all",), [("col", c) for c in grid.columns]))
    return equations


def _values(grid: Grid) -> dict[object, int]:
    values: dict[object, int] = {(r, c): grid.value(r, c) for r in grid.rows for c in grid.columns}
    values.update({("col", c): grid.column_total(c) for c in grid.columns})
    if grid.row_totals:
        values.update({("row", r): grid.row_total(r) for r in grid.rows})
    values[("all",)] = grid.grand_total()
    return values


def determined(equations: Sequence[tuple[object, Sequence[object]]], values: dict[object, int],
               hidden: Iterable[object]) -> set[object]:
    """The hidden items whose value the equations (total = sum of items) fix, given every item
    not hidden: exact Gaussian elimination over the rationals. An attacker's best linear attack."""
    unknowns = sorted(set(hidden), key=repr)
    if not unknowns:
        return set()
    index = {u: i for i, u in enumerate(unknowns)}
    rows: list[list[Fraction]] = []
    for total, items in equations:
        row = [Fraction(0)] * len(unknowns)
        for item, sign in [(total, -1)] + [(i, 1) for i in items]:
            if item in index:
                row[index[item]] += sign
        if any(row):
            rows.append(row)
    # reduced row echelon form; an unknown is fixed when some row has it as its only entry
    pivot_row = 0
    for col in range(len(unknowns)):
        found = next((r for r in range(pivot_row, len(rows)) if rows[r][col] != 0), None)
        if found is None:
            continue
        rows[pivot_row], rows[found] = rows[found], rows[pivot_row]
        lead = rows[pivot_row][col]
        rows[pivot_row] = [v / lead for v in rows[pivot_row]]
        for r in range(len(rows)):
            if r != pivot_row and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[pivot_row], strict=True)]
        pivot_row += 1
    fixed = set()
    for row in rows:
        nonzero = [i for i, v in enumerate(row) if v != 0]
        if len(nonzero) == 1:
            fixed.add(unknowns[nonzero[0]])
    return fixed


def suppress(grid: Grid) -> Shown:
    """The grid with every count from 1 to 4 hidden, and as many further figures as it takes for
    none of them to be worked out from what is shown. Further figures are chosen smallest first
    (the least information lost), cells before totals."""
    values = _values(grid)
    equations = _equations(grid)
    hidden = {key for key, value in values.items() if _small(value)}
    primary = set(hidden)
    while True:
        exposed = determined(equations, values, hidden) & primary
        if not exposed:
            break
        target = sorted(exposed, key=repr)[0]
        # another figure in an equation with the exposed one; where those are all hidden already
        # (it is fixed through a chain of sums), one in any equation with something hidden, and
        # at last any figure: hiding everything exposes nothing, so this ends
        visible = [k for k in values if k not in hidden]
        candidates = [k for k in visible if any(k in (total, *items) and (target == total or target in items)
                                                for total, items in equations)] or \
            [k for k in visible if any(k in (total, *items) and hidden & {total, *items} for total, items in equations)] or \
            visible
        cell_keys = _cell_keys(grid)
        hidden.add(min(candidates, key=lambda k: (k not in cell_keys, values[k] == 0, values[k], repr(k))))
    cells = {(r, c): (None if (r, c) in hidden else grid.value(r, c)) for r in grid.rows for c in grid.columns}
    return Shown(
        rows=list(grid.rows), columns=list(grid.columns), cells=cells,
        row_totals={r: (None if ("row", r) in hidden else grid.row_total(r)) for r in grid.rows} if grid.row_totals else {},
        column_totals={c: (None if ("col", c) in hidden else grid.column_total(c)) for c in grid.columns},
        grand_total=None if ("all",) in hidden else grid.grand_total(), suppressed=hidden)


def _cell_keys(grid: Grid) -> set:
    return {(r, c) for r in grid.rows for c in grid.columns}


# --- the report's declared tables --------------------------------------------------------------


@dataclass(frozen=True)
class ReportTable:
    """One table of a report: what is counted (`subject`: a fact's kind), by which attribute in
    the rows and which in the columns, and whether it may leave the house at all. Adding the
    state's own indicator set is a list of these."""

    key: str
    title: str  # a msgid
    subject: str
    rows: str
    columns: str
    exclusive: bool = True  # whether the columns exclude each other (then rows get totals)
    internal: bool = False  # only in the coordinator's chat, never in an export
    # which facts count: (attribute, the values it may have), all of them ("only Duldung or Gestattung")
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def counts(self, fact: dict[str, str]) -> bool:
        return all(fact.get(attribute) in allowed for attribute, allowed in self.filters)


def crosstabs(tables: Sequence[ReportTable], facts: Iterable[dict[str, str]],
              columns: dict[str, Sequence[str]] | None = None) -> dict[str, Grid]:
    """Every table counted in one pass over the facts (which may be a generator: none is kept),
    by table key; `columns` gives a column dimension's order (and the columns shown when empty)."""
    by_subject: dict[str, list[ReportTable]] = {}
    for table in tables:
        by_subject.setdefault(table.subject, []).append(table)
    counts: dict[str, dict[tuple[str, str], int]] = {table.key: {} for table in tables}
    for fact in facts:
        for table in by_subject.get(fact.get("subject", ""), ()):
            if table.filters and not table.counts(fact):
                continue
            cells = counts[table.key]
            key = (str(fact.get(table.rows, "unknown")), str(fact.get(table.columns, "unknown")))
            cells[key] = cells.get(key, 0) + 1
    grids = {}
    for table in tables:
        cells, order = counts[table.key], tuple((columns or {}).get(table.columns, ()))
        grids[table.key] = Grid(sorted({r for r, _ in cells}), list(order) + sorted({c for _, c in cells} - set(order)),
                                cells, row_totals=table.exclusive)
    return grids


def crosstab(table: ReportTable, facts: Iterable[dict[str, str]], *, rows: Sequence[str] = (),
             columns: Sequence[str] = ()) -> Grid:
    """Count facts of the table's subject into a grid; `rows` and `columns` give the order
    (and the lines shown even when empty), others found in the facts follow sorted."""
    cells: dict[tuple[str, str], int] = {}
    for fact in facts:
        if fact.get("subject") != table.subject or not table.counts(fact):
            continue
        key = (str(fact.get(table.rows, "unknown")), str(fact.get(table.columns, "unknown")))
        cells[key] = cells.get(key, 0) + 1
    seen_rows = sorted({r for r, _ in cells} - set(rows))
    seen_columns = sorted({c for _, c in cells} - set(columns))
    return Grid(list(rows) + seen_rows, list(columns) + seen_columns, cells, row_totals=table.exclusive)


# Translators: titles of the report's tables (sheets of the workbook for the state's controlling)
# What the report counts, one fact per thing counted (storage/reports.py makes them), and the
# order its columns are shown in. The tables of the report for the state and the steering group:
# a new indicator is one more line here.
FLOWS = ("new", "open-start", "open-end", "closed", "reopened", "handed-over")
GOAL_OUTCOMES = ("agreed", "achieved", "changed", "dropped", "overdue")
REFERRAL_STEPS = ("sent", "accepted", "completed", "declined", "no-show", "waiting-list", "no-offer")
GAP_STATUSES = ("no-offer", "waiting-list")
DAY_BANDS = ((14, "0-14"), (30, "15-30"), (60, "31-60"), (10**6, "61+"))


DURATION_BANDS = ((30, "0-30"), (90, "31-90"), (180, "91-180"), (365, "181-365"), (10**6, "366+"))
CONTACT_BANDS = ((0, "0"), (2, "1-2"), (5, "3-5"), (10**6, "6+"))


def day_band(days: int, bands: tuple[tuple[int, str], ...] = DAY_BANDS) -> str:
    return next(label for limit, label in bands if days <= limit)


STATE_REPORT = (
    ReportTable("cases", N_("Cases by district"), "case", "district", "flow", exclusive=False),
    ReportTable("cases-trager", N_("Cases by Träger"), "case", "trager", "flow", exclusive=False),
    # the clients served in the period (open at some time in it), by what the intake recorded
    ReportTable("clients-age", N_("Clients by age"), "client", "age_band", "district"),
    ReportTable("clients-status", N_("Clients by residence status"), "client", "residence_status", "district"),
    ReportTable("clients-benefits", N_("Clients by benefit system"), "client", "benefits", "district"),
    ReportTable("clients-source", N_("Clients by how they came"), "client", "source", "district"),
    ReportTable("clients-target-group", N_("Clients in and outside the target group"), "client", "target_group", "district"),
    ReportTable("clients-interpreter", N_("Clients with an interpreter"), "client", "interpreter", "district"),
    # the people Teilhabemanagement is for (18 to 27, Duldung or Gestattung): a filtered table
    ReportTable("clients-tolerated", N_("Clients with Duldung or Gestattung, by age"), "client", "age_band", "district",
                filters=(("residence_status", ("duldung", "gestattung")),)),
    ReportTable("needs-first", N_("Needs at the first assessment"), "need-first", "domain", "level"),
    ReportTable("needs-latest", N_("Needs at the latest assessment"), "need-latest", "domain", "level"),
    ReportTable("needs-change", N_("Change of needs since the first assessment"), "need-change", "domain", "change"),
    ReportTable("strengths", N_("Strengths by life domain"), "strength", "domain", "when", exclusive=False),
    ReportTable("closures", N_("Closures by reason"), "closure", "reason", "district"),
    ReportTable("goals", N_("Goals by life domain"), "goal", "domain", "outcome", exclusive=False),
    ReportTable("referrals", N_("Referrals by service"), "referral", "service", "status", exclusive=False),
    ReportTable("rechtskreise", N_("Referrals by Rechtskreis"), "referral", "legal_area", "status", exclusive=False),
    ReportTable("gaps", N_("Gaps in the system"), "gap", "domain", "service"),
    ReportTable("results", N_("Days from sent to result"), "result", "service", "days"),
    ReportTable("contacts", N_("Contacts"), "contact", "district", "kind"),
    ReportTable("contacts-per-case", N_("Contacts per case"), "contacts-per-case", "district", "contacts"),
    ReportTable("durations", N_("Durations in days"), "duration", "measure", "span"),
    ReportTable("conferences", N_("Fallkonferenzen"), "conference", "district", "status"),
    ReportTable("caseload", N_("Open cases per case manager"), "caseload", "manager", "district", internal=True),
)
# the columns each table shows even when empty, in this order
COLUMNS = {"flow": FLOWS, "outcome": GOAL_OUTCOMES, "status": REFERRAL_STEPS, "days": tuple(label for _, label in DAY_BANDS),
           "level": ("low", "medium", "high"), "when": ("first", "latest"), "change": ("less", "same", "more"),
           "contacts": tuple(label for _, label in CONTACT_BANDS), "span": tuple(label for _, label in DURATION_BANDS)}


# --- a client as reports count them --------------------------------------------------------------
PROFILE_FIELDS = ("age_band", "residence_status", "benefits", "source", "target_group", "interpreter")


# the categories that change over a case (updates of the intake): kept with the days they changed
HISTORY_FIELDS = ("residence_status", "benefits")


def coarse_profile(intake: dict, first: dict | None, latest: dict | None, *, opened_on: date,
                   changes: dict[str, list[tuple[date, str | None, str | None]]] | None = None) -> dict:
    """What a report may count about a client: an age band (at the intake), the categories the
    intake recorded (residence status and benefits with the days they changed: `changes` holds
    each update's day, old and new value), the need level per life domain at the first and at
    the latest assessment, and the life domains with strengths. Never a name, a date of birth or
    a note."""
    born = intake.get("birth_date")
    try:
        age = age_on(date.fromisoformat(born), opened_on) if born else None
    except ValueError:
        age = None

    def needs(record: dict | None) -> dict[str, str]:
        return {k.removeprefix("need_"): v for k, v in (record or {}).items() if k.startswith("need_") and v not in (None, "", "none")}

    def strengths(record: dict | None) -> list[str]:
        return sorted({k.removeprefix("strength_") for k, v in (record or {}).items() if k.startswith("strength_") and v}
                      | set((record or {}).get("strengths") or ()))

    return {
        "age_band": age_band(age),
        "residence_status": intake.get("residence_status") or "unknown",
        "benefits": intake.get("benefits") or "unknown",
        "source": intake.get("source") or "unknown",
        # outside the target group, a case is taken on only with a stated reason
        "target_group": "outside" if intake.get("eligibility_reason") else "inside",
        "interpreter": intake.get("interpreter") or "unknown",
        "needs_first": needs(first), "needs_latest": needs(latest if latest is not None else first),
        "strengths_first": strengths(first), "strengths_latest": strengths(latest if latest is not None else first),
        "reassessed": latest is not None,
        "history": {field: [[opened_on.isoformat(), steps[0][1] or "unknown"]]
                    + [[day.isoformat(), new or "unknown"] for day, _, new in steps]
                    for field, steps in (changes or {}).items() if steps},
    }


def as_of(profile: dict, field: str, day: date) -> str:
    """A category of the profile as it stood on `day` (the value now where it never changed)."""
    steps = profile.get("history", {}).get(field)
    if not steps:
        return str(profile.get(field, "unknown"))
    standing = [value for since, value in steps if since <= day.isoformat()]
    return standing[-1] if standing else steps[0][1]


NEED_ORDER = ("none", "low", "medium", "high")


def need_changes(profile: dict) -> list[tuple[str, str]]:
    """(life domain, "less" | "same" | "more") for a client assessed again: how each domain's
    need moved from the first assessment to the latest. Nothing for a client assessed once."""
    if not profile.get("reassessed"):
        return []
    first, latest = profile.get("needs_first", {}), profile.get("needs_latest", {})
    moved = []
    for domain in sorted(set(first) | set(latest)):
        before, after = NEED_ORDER.index(first.get(domain, "none")), NEED_ORDER.index(latest.get(domain, "none"))
        moved.append((domain, "less" if after < before else "more" if after > before else "same"))
    return moved
