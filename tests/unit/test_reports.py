"""The report's periods and its anonymity rule (domain/reports.py), without a database. The
attack on suppression is written independently of the code under test (numpy's rank)."""

from __future__ import annotations

from datetime import date

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.reports import MIN_SHOWN, Grid, Period, ReportTable, age_band, crosstab, suppress


def test_periods_by_name_and_their_labels():
    assert Period.parse("2026-11") == Period(date(2026, 11, 1), date(2026, 11, 30))
    assert Period.parse("2024-02").end == date(2024, 2, 29)
    assert Period.parse("2026-q4") == Period(date(2026, 10, 1), date(2026, 12, 31))
    assert Period.parse("2026") == Period(date(2026, 1, 1), date(2026, 12, 31))
    assert Period.parse("2026-01-15..2026-03-31") == Period(date(2026, 1, 15), date(2026, 3, 31))
    assert Period.parse("2026-03-31..2026-01-15") is None and Period.parse("2026-13") is None
    assert Period.parse("2026-02-30..2026-03-01") is None and Period.parse("soon") is None
    assert [p.label for p in (Period.parse("2026-11"), Period.parse("2026-Q4"), Period.parse("2026"),
                              Period.parse("2026-01-15..2026-03-31"))] == ["2026-11", "2026-Q4", "2026",
                                                                           "2026-01-15..2026-03-31"]
    today = date(2026, 1, 20)
    assert Period.month_of(today, back=1) == Period(date(2025, 12, 1), date(2025, 12, 31))
    assert Period.quarter_of(today, back=1) == Period(date(2025, 10, 1), date(2025, 12, 31))
    assert Period.year_of(today).label == "2026"


def test_age_bands_follow_the_programmes_limits():
    assert [age_band(a) for a in (None, 17, 18, 20, 21, 26, 27, 64, 65)] == [
        "unknown", "under-18", "18-20", "18-20", "21-26", "21-26", "27-34", "50-64", "65+"]


def exposed(shown) -> set:  # noqa: ANN001
    """What an attacker works out: each hidden figure fixed by the sums shown (rank test)."""
    items = [(r, c) for r in shown.rows for c in shown.columns]
    totals = [("col", c) for c in shown.columns] + ([("row", r) for r in shown.rows] if shown.row_totals else []) + [("all",)]
    hidden = [k for k in items + totals if k in shown.suppressed]
    if not hidden:
        return set()
    position = {k: i for i, k in enumerate(hidden)}
    equations = [(("col", c), [(r, c) for r in shown.rows]) for c in shown.columns]
    if shown.row_totals:
        equations += [(("row", r), [(r, c) for c in shown.columns]) for r in shown.rows]
        equations.append((("all",), [("row", r) for r in shown.rows]))
    equations.append((("all",), [("col", c) for c in shown.columns]))
    matrix = []
    for total, parts in equations:
        row = np.zeros(len(hidden))
        for key, sign in [(total, -1.0)] + [(p, 1.0) for p in parts]:
            if key in position:
                row[position[key]] += sign
        matrix.append(row)
    a = np.array(matrix)
    rank = np.linalg.matrix_rank(a)
    found = set()
    for key, i in position.items():
        unit = np.zeros(len(hidden))
        unit[i] = 1.0
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            found.add(key)
    return found


def grid_of(values: list[list[int]], *, row_totals: bool = True) -> Grid:
    rows, columns = [f"r{i}" for i in range(len(values))], [f"c{j}" for j in range(len(values[0]))]
    return Grid(rows, columns, {(rows[i], columns[j]): v for i, line in enumerate(values) for j, v in enumerate(line)},
                row_totals=row_totals)


def test_one_small_count_takes_a_second_cell_in_its_row_and_column_with_it():
    shown = suppress(grid_of([[3, 10, 12], [8, 9, 20]]))
    assert shown.cells[("r0", "c0")] is None
    assert sum(v is None for v in shown.cells.values()) >= 4  # a rectangle: two in each row and column
    assert exposed(shown) & {("r0", "c0")} == set()
    assert shown.grand_total == 62


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 5).flatmap(lambda n: st.lists(st.lists(st.integers(0, 12), min_size=n, max_size=n),
                                                   min_size=1, max_size=5)),
       st.booleans())
def test_no_suppressed_count_can_be_worked_out_from_what_is_shown(values, row_totals):
    grid = grid_of(values, row_totals=row_totals)
    shown = suppress(grid)
    small = {(r, c) for r in grid.rows for c in grid.columns if 0 < grid.value(r, c) < MIN_SHOWN}
    small |= {("col", c) for c in grid.columns if 0 < grid.column_total(c) < MIN_SHOWN}
    if row_totals:
        small |= {("row", r) for r in grid.rows if 0 < grid.row_total(r) < MIN_SHOWN}
    assert small <= shown.suppressed
    assert not (exposed(shown) & small), (values, row_totals)
    for key, value in shown.cells.items():  # what is shown is true
        assert value is None or value == grid.value(*key)


def test_a_declared_table_counts_its_facts():
    table = ReportTable("cases-by-district", "Cases by district", "case", "district", "flow", exclusive=False)
    facts = [{"subject": "case", "district": "I", "flow": "new"}, {"subject": "case", "district": "I", "flow": "open-end"},
             {"subject": "case", "district": "II", "flow": "new"}, {"subject": "goal", "district": "I", "flow": "new"}]
    grid = crosstab(table, facts, columns=("new", "open-end", "closed"))
    assert grid.columns == ["new", "open-end", "closed"] and grid.rows == ["I", "II"]
    assert (grid.value("I", "new"), grid.value("II", "new"), grid.column_total("closed")) == (1, 1, 0)
    assert grid.row_totals is False


def test_a_declared_table_can_count_only_some_facts():
    from domain.reports import STATE_REPORT, crosstabs

    facts = [{"subject": "client", "district": "I", "age_band": "21-26", "residence_status": "duldung"},
             {"subject": "client", "district": "I", "age_band": "21-26", "residence_status": "aufenthaltserlaubnis"},
             {"subject": "client", "district": "II", "age_band": "35-49", "residence_status": "gestattung"}]
    grids = crosstabs(STATE_REPORT, iter(facts))
    tolerated = grids["clients-tolerated"]
    assert (tolerated.value("21-26", "I"), tolerated.value("35-49", "II"), tolerated.grand_total()) == (1, 1, 2)
    assert grids["clients-age"].grand_total() == 3
