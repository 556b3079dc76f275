"""Reports (issue 14, first part): the figures of a period counted from what case managers did
through the Application, with the period's edges in Europe/Berlin time, a case closed and
reopened and a case handed over within the period; the files open with openpyxl and csv, and no
byte of them names a client or a case."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from bot import reports
from bot.buttons import GOAL
from domain.reports import COLUMNS, STATE_REPORT, Period, crosstab
from domain.roles import Role
from storage.types import StaffUser
from tests.flows import run_intake
from tests.helpers import rows
from tests.test_cycle import assess, steps
from tests.test_reminders import berlin, set_clock

NOVEMBER = Period.parse("2026-11")


def grid(facts, key: str):  # noqa: ANN001, ANN201
    table = next(t for t in STATE_REPORT if t.key == key)
    return crosstab(table, facts, columns=COLUMNS.get(table.columns, ()))


@pytest.fixture
async def month(bot, clock):  # noqa: ANN001, ANN201
    """October: case 1 (district I). November: case 1 closed and reopened, case 2 recorded and
    handed over to district II, case 3 recorded at 23:30 on 30 November (Berlin); case 4 at
    00:15 on 1 December (Berlin), which is still 30 November in UTC."""
    cm = await bot.register(Role.CASE_MANAGER, "I")
    other = await bot.register(Role.CASE_MANAGER, "II")
    set_clock(clock, berlin(2026, 10, 15, 10, 0))
    await run_intake(cm, given_name=("send", "Olena"))
    set_clock(clock, berlin(2026, 11, 10, 9, 0))
    await assess(cm, {"housing": "hoch", "work": "mittel"})  # the first assessment, 26 days after the intake
    set_clock(clock, berlin(2026, 11, 10, 10, 0))
    await cm.send("/close LEV-2026-0001")
    await steps(cm, ">weggezogen", ">✔ Speichern")
    set_clock(clock, berlin(2026, 11, 20, 10, 0))
    await cm.send("/reopen LEV-2026-0001")
    await run_intake(cm, given_name=("send", "Amina"))
    await steps(cm, "/handover LEV-2026-0002", ">II", "Zieht nach Opladen", ">✔ Speichern")
    await bot.services.dispatcher.dispatch_once(bot.app.bot, plan=False)
    await other.press("✔ Annehmen", other.last())
    set_clock(clock, berlin(2026, 11, 30, 23, 30))
    await run_intake(cm, given_name=("send", "Yusuf"))
    set_clock(clock, berlin(2026, 12, 1, 0, 15))
    await run_intake(cm, given_name=("send", "Mariam"))
    coordinator = await bot.register(Role.COORDINATOR, None)
    store = bot.services.store
    admin = StaffUser(id=0, org_id=store.staff.first_organisation_id(), telegram_id=0, role=Role.ADMIN, district_id=None,
                      district_code=None, language=None)
    store.lifecycle.set_employer(admin, store.staff.user_by_telegram_id(cm.id).id, "Caritas Leverkusen")
    return cm, coordinator


async def test_the_months_case_figures_follow_berlin_time_closures_reopenings_and_handovers(bot, month):
    """Each case counts in the district it was in at that moment: recorded in I, open at the end in II."""
    facts = list(bot.services.store.reports.facts(bot.services.store.staff.first_organisation_id(), NOVEMBER))
    cases = grid(facts, "cases")
    assert {(r, c): cases.value(r, c) for r in cases.rows for c in cases.columns if cases.value(r, c)} == {
        ("I", "new"): 2,        # case 2 (recorded in I, handed to II later) and case 3 (23:30 on 30 November);
                                # case 4 belongs to December
        ("I", "open-start"): 1,  # case 1
        ("I", "open-end"): 2, ("II", "open-end"): 1,  # cases 1 and 3; case 2, in district II since its handover
        ("I", "closed"): 1, ("I", "reopened"): 1, ("II", "handed-over"): 1,
    }
    closures = grid(facts, "closures")
    assert closures.value("moved-away", "I") == 1 and closures.grand_total() == 1
    december = list(bot.services.store.reports.facts(bot.services.store.staff.first_organisation_id(), Period.parse("2026-12")))
    assert grid(december, "cases").column_total("new") == 1  # case 4
    assert grid(december, "cases").column_total("open-start") == 3


async def test_the_files_are_anonymised_and_open_with_openpyxl_and_csv(bot, month):
    cm, coordinator = month
    await coordinator.send("/report")
    menu = coordinator.last()  # the clock stands in December: "last month" is November
    assert menu.button_texts() == ["Dieser Monat", "Letzter Monat", "Dieses Quartal", "Letztes Quartal", "Dieses Jahr",
                                   "Letztes Jahr"]
    sent = await coordinator.press("Letzter Monat", menu)
    summary, xlsx, archive, document = sent[-4], sent[-3], sent[-2], sent[-1]
    assert summary.text.startswith("Bericht 2026-11\nFälle: 2 neu, 1 abgeschlossen, 3 offen am Ende.")  # true counts, in the chat
    assert "Offene Fälle je Case Manager:in (nur hier, nicht in den Dateien):" in summary.text
    assert "Erreichte Ziele, von den im Zeitraum abgeschlossenen: –" in summary.text  # none settled
    assert xlsx.document["file_name"] == "kim-report-2026-11.xlsx"
    book = load_workbook(io.BytesIO(xlsx.document["content"]))
    assert book.sheetnames[0] == "Über den Bericht"
    about = [[c.value for c in row] for row in book.worksheets[0].iter_rows()]
    assert ["Zeitraum", "01.11.2026 – 30.11.2026 (2026-11)"] in about
    assert any("Zahlen von 1 bis 4" in str(line[0]) for line in about)
    cases = [[c.value for c in row] for row in book["Fälle nach Bezirk"].iter_rows()]
    assert cases[0][:3] == ["Bezirk", "neu", "offen zu Beginn"]
    assert all(v in (None, "*", 0) or not (0 < int(v) < 5) for line in cases[1:] for v in line[1:])  # nothing small
    assert not [n for n in book.sheetnames if n.startswith("Offene Fälle")]  # internal: only in the chat
    for sheet in book.worksheets[1:]:  # no hidden figure is the one gap in a line that has its total
        lines = [[c.value for c in row][1:] for row in sheet.iter_rows()][1:]
        has_row_totals = sheet.cell(1, sheet.max_column).value == "Summe"
        for line in lines[:-1] if has_row_totals else []:
            assert [v for v in line].count("*") != 1, (sheet.title, line)
        for column in zip(*lines, strict=True):
            assert list(column).count("*") != 1, (sheet.title, column)
    with zipfile.ZipFile(io.BytesIO(archive.document["content"])) as files:
        assert "about.csv" in files.namelist() and "cases.csv" in files.namelist() and "caseload.csv" not in files.namelist()
        table = list(csv.reader(io.StringIO(files.read("cases.csv").decode("utf-8"))))
        assert table[0][0] == "Bezirk" and table[-1][0] == "Summe"
        exported = b"".join(files.read(name) for name in files.namelist())
    with zipfile.ZipFile(io.BytesIO(xlsx.document["content"])) as parts:
        exported += b"".join(parts.read(name) for name in parts.namelist())
    assert document.document["file_name"] == "kim-report-2026-11.pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(document.document["content"])).pages)
    assert "Bericht des KIM-Case-Managements" in text and "Fälle nach Bezirk" in text and "Zahlen von 1 bis 4" in text
    exported += text.encode()
    for secret in (b"LEV-2026", b"Olena", b"Amina", b"Yusuf", b"Haddad", b"Ana"):
        assert secret not in exported, secret


async def test_reports_are_for_coordinators_and_a_typed_period_is_checked(bot, month):
    cm, coordinator = month
    assert (await cm.send("/report"))[-1].text == "Berichte sind für die Koordination."
    refused = (await coordinator.send("/report soon"))[-1]
    assert refused.text.startswith("Bitte einen Zeitraum nennen")
    made = await coordinator.send("/report 2026-10-01..2026-11-30")
    assert made[-3].document["file_name"] == "kim-report-2026-10-01_2026-11-30.xlsx"


async def test_the_cli_writes_the_report(bot, month, tmp_path, monkeypatch):
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", bot.settings.database_url)
    monkeypatch.setenv("MASTER_KEY_FILE", str(bot.settings.master_key_file))
    target = tmp_path / "november.zip"
    assert main(["report", "--period", "2026-11", "--format", "csv", "--output", str(target)]) == 0
    with zipfile.ZipFile(target) as files:
        assert "cases.csv" in files.namelist()
    assert main(["report", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "pdf", "--output",
                 str(tmp_path / "november.pdf")]) == 0
    assert (tmp_path / "november.pdf").read_bytes().startswith(b"%PDF-")
    assert reports.SUPPRESSED == "*"


async def test_clients_needs_durations_and_trager_come_from_the_encrypted_profiles(bot, month):
    store = bot.services.store
    facts = list(store.reports.facts(store.staff.first_organisation_id(), NOVEMBER))
    clients = grid(facts, "clients-age")
    assert clients.rows == ["27-34"] and clients.grand_total() == 3  # cases 1, 2, 3 (born 01.02.1995)
    status = grid(facts, "clients-status")
    assert status.rows == ["aufenthaltserlaubnis"] and status.value("aufenthaltserlaubnis", "I") == 2
    assert grid(facts, "clients-source").rows == ["fb50"]
    assert grid(facts, "clients-interpreter").rows == ["yes"]
    assert grid(facts, "clients-target-group").rows == ["inside"]
    needs = grid(facts, "needs-first")
    assert (needs.value("housing", "high"), needs.value("work", "medium"), needs.grand_total()) == (1, 1, 2)
    durations = grid(facts, "durations")
    assert durations.value("intake-to-assessment", "0-30") == 1 and durations.value("case-length", "0-30") == 1
    trager = grid(facts, "cases-trager")
    assert trager.value("Caritas Leverkusen", "new") == 1 and trager.value("unknown", "new") == 1  # case 2 moved on
    contacts = grid(facts, "contacts-per-case")
    assert contacts.value("I", "0") == 2 and contacts.value("II", "0") == 1


async def test_profiles_are_kept_in_step_written_by_migrate_hold_no_name_and_go_with_an_erasure(bot, month):
    from sqlalchemy import text

    store = bot.services.store
    case_id = store.cases.get_for(store.staff.user_by_telegram_id(month[1].id), "LEV-2026-0001").id
    profile = store.profiles.read([case_id])[case_id]
    assert profile["needs_first"] == {"housing": "high", "work": "medium"} and profile["age_band"] == "27-34"
    assert not {"given_name", "family_name", "birth_date", "note", "phone", "address"} & profile.keys()
    assert "Olena" not in str(profile) and "1995" not in str(profile)
    with store.engine.begin() as connection:  # as before version 0016: no profiles
        connection.execute(text("DELETE FROM case_profile"))
    assert store.profiles.backfill() == 4 and store.profiles.read([case_id])[case_id] == profile
    store.erasure.erase("LEV-2026-0001", org_id=store.staff.first_organisation_id(), actor_id=None, reason="request")
    assert store.profiles.read([case_id]) == {}
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM case_profile WHERE case_id = :c"), {"c": case_id}).scalar() == 0
    facts = list(store.reports.facts(store.staff.first_organisation_id(), NOVEMBER))
    assert grid(facts, "clients-age").value("unknown", "I") == 1  # still counted, as unknown
    # erased (on 1 December, the clock's day) while open: in December's figures a closure, "erased"
    december = list(store.reports.facts(store.staff.first_organisation_id(), Period.parse("2026-12")))
    assert grid(december, "closures").value("erased", "I") == 1 and grid(december, "cases").value("I", "closed") == 1
    assert grid(december, "cases").value("I", "open-end") == 2  # cases 3 and 4, not the erased one


async def test_goals_referrals_gaps_and_results_of_the_month(bot, clock):
    """In November: two goals agreed (one achieved, one left open past its due date), a referral
    sent and put on the waiting list five days later (a gap), a contact; a goal of October that
    was achieved in November counts as achieved, not as agreed."""
    cm = await bot.register(Role.CASE_MANAGER, "I")
    set_clock(clock, berlin(2026, 10, 20, 10, 0))
    await run_intake(cm)
    await steps(cm, "/goal LEV-2026-0001", ">Sprache", "Deutschkurs A2 beginnen", ">die Klient:in", "30.11.2026", ">✔ Speichern")
    set_clock(clock, berlin(2026, 11, 20, 10, 0))
    await steps(cm, "/goal LEV-2026-0001", ">Wohnen", "Wohnung suchen", ">die Klient:in", "25.11.2026", ">✔ Speichern")
    await steps(cm, "/goal LEV-2026-0001", ">Qualifizierung", "Bewerbung schreiben", ">die Klient:in", "15.12.2026",
                ">✔ Speichern")
    goal_ids = dict(rows(bot, "SELECT domain, id FROM goal"))
    await cm.send("/case LEV-2026-0001")
    goals_list = (await cm.press("🎯 Ziele"))[-1]
    await cm.press_data(GOAL.data(goal_ids["language"], "achieved"), goals_list)  # the October goal
    await cm.press_data(GOAL.data(goal_ids["work"], "achieved"), goals_list)
    await steps(cm, "/refer LEV-2026-0001", ">Qualifizierung", ">★ Jobcenter", "Arbeitssuche", ">Einwilligung erteilt",
                ">Qualifizierung", ">Fertig", ">✔ Speichern")
    await cm.press("📤 Als gesendet markieren")
    set_clock(clock, berlin(2026, 11, 25, 10, 0))
    await cm.send("/case LEV-2026-0001")
    await cm.press("↪ Vermittlungen")
    await cm.press("Warteliste")
    assert cm.alerts()[-1] == "Jobcenter: Warteliste. Als Lücke im System erfasst."
    # what is missing, in the case manager's words, for the steering group
    assert cm.last().text.startswith("Beschreiben, was fehlt, für den Bericht an die Lenkungsgruppe?")
    await cm.press("🕳 Lücke beschreiben")
    await cm.send("Kein Integrationskurs mit Kinderbetreuung vor März")
    saved = await cm.press("✔ Speichern")
    assert saved[-1].text == "Die Lücke ist für den Bericht an die Lenkungsgruppe erfasst (LEV-2026-0001)."
    assert bot.services.store.reports.gap_notes(bot.services.store.staff.first_organisation_id(), NOVEMBER) == [
        ("work", "Jobcenter", "Kein Integrationskurs mit Kinderbetreuung vor März")]
    assert b"Kinderbetreuung" not in bytes(rows(bot, "SELECT gap_enc FROM referral")[0][0])
    workbook = reports.workbook(bot.services.catalogs.get("de"), reports.build([], internal=False), organisation="x",
                                period=NOVEMBER, made_on=NOVEMBER.end,
                                notes=bot.services.store.reports.gap_notes(bot.services.store.staff.first_organisation_id(),
                                                                           NOVEMBER))
    gaps = [[c.value for c in row] for row in load_workbook(io.BytesIO(workbook))["Beschriebene Lücken"].iter_rows()]
    assert gaps == [["Handlungsfeld", "Stelle", "Was fehlt"],
                    ["Qualifizierung, Ausbildung und Arbeit", "Jobcenter", "Kein Integrationskurs mit Kinderbetreuung vor März"]]
    facts = list(bot.services.store.reports.facts(bot.services.store.staff.first_organisation_id(), NOVEMBER))
    assert reports.achieved_share({"achieved": 2, "changed": 1, "dropped": 1}) == "50 %"
    assert reports.achieved_share({"achieved": None, "changed": 0, "dropped": 0}) == "*"
    goals = grid(facts, "goals")
    assert {(r, c): goals.value(r, c) for r in goals.rows for c in goals.columns if goals.value(r, c)} == {
        ("housing", "agreed"): 1, ("work", "agreed"): 1, ("work", "achieved"): 1, ("language", "achieved"): 1,
        ("housing", "overdue"): 1}
    referrals = grid(facts, "referrals")
    assert (referrals.value("Jobcenter", "sent"), referrals.value("Jobcenter", "waiting-list")) == (1, 1)
    assert grid(facts, "rechtskreise").value("SGB II", "sent") == 1
    assert grid(facts, "gaps").value("work", "Jobcenter") == 1
    assert grid(facts, "results").value("Jobcenter", "0-14") == 1
    october = list(bot.services.store.reports.facts(bot.services.store.staff.first_organisation_id(), Period.parse("2026-10")))
    assert grid(october, "goals").value("language", "agreed") == 1 and grid(october, "goals").column_total("overdue") == 0


async def test_a_status_that_changed_counts_as_it_stood_at_the_periods_end(bot, clock):
    """Recorded in October with a residence permit; a Duldung from 20 November: October's report
    counts the permit, November's the Duldung."""
    cm = await bot.register(Role.CASE_MANAGER, "I")
    set_clock(clock, berlin(2026, 10, 20, 10, 0))
    await run_intake(cm)
    set_clock(clock, berlin(2026, 11, 20, 10, 0))
    await cm.send("/case LEV-2026-0001")
    await steps(cm, ">✏ Erstberatung ändern", ">Aufenthaltsstatus", ">Aktualisierung (hat sich geändert)",
                ">Duldung", "15.03.2027", ">heute", ">✔ Speichern")
    org_id = bot.services.store.staff.first_organisation_id()
    october = list(bot.services.store.reports.facts(org_id, Period.parse("2026-10")))
    november = list(bot.services.store.reports.facts(org_id, NOVEMBER))
    assert grid(october, "clients-status").rows == ["aufenthaltserlaubnis"]
    assert grid(november, "clients-status").rows == ["duldung"]


async def test_needs_change_between_the_first_and_the_latest_assessment(bot, clock):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    set_clock(clock, berlin(2026, 11, 2, 10, 0))
    await run_intake(cm)
    await assess(cm, {"housing": "hoch", "work": "mittel"})
    set_clock(clock, berlin(2026, 11, 25, 10, 0))
    await assess(cm, {"housing": "mittel", "work": "mittel", "health": "gering"})
    facts = list(bot.services.store.reports.facts(bot.services.store.staff.first_organisation_id(), NOVEMBER))
    change = grid(facts, "needs-change")
    assert {(r, c): change.value(r, c) for r in change.rows for c in change.columns if change.value(r, c)} == {
        ("housing", "less"): 1, ("work", "same"): 1, ("health", "more"): 1}
    assert grid(facts, "needs-latest").value("housing", "medium") == 1


async def test_contacts_and_fallkonferenzen_of_the_month(bot, clock):
    """Two contacts in November (and one on 31 October, which is October's), a Fallkonferenz held
    in November and one cancelled; none at 00:30 on 1 December (Berlin)."""
    from datetime import timedelta

    cm = await bot.register(Role.CASE_MANAGER, "I")
    set_clock(clock, berlin(2026, 10, 31, 12, 0))
    await run_intake(cm)
    await steps(cm, "/note LEV-2026-0001", ">heute", ">Telefonat", "Termin vereinbart", ">✔ Speichern")
    set_clock(clock, berlin(2026, 11, 12, 12, 0))
    for kind in ("Telefonat", "Hausbesuch"):
        await steps(cm, "/note LEV-2026-0001", ">heute", f">{kind}", "Gespräch", ">✔ Speichern")
    store = bot.services.store
    staff = store.staff.user_by_telegram_id(cm.id)
    hours = bot.services.working_hours

    def conference(at):  # noqa: ANN001, ANN202
        return store.conferences.schedule(staff, "LEV-2026-0001", starts_at=at, minutes=60, place="KI", agenda="Wohnen",
                                          participant_ids=[staff.id], service_ids=[], hours=hours)

    held = conference(berlin(2026, 11, 20, 10, 0))
    cancelled = conference(berlin(2026, 11, 26, 10, 0))
    conference(berlin(2026, 12, 1, 0, 30))
    set_clock(clock, berlin(2026, 11, 21, 9, 0))
    store.conferences.record_outcome(staff, held, attended=[staff.id], decisions="Wohnungsamt einschalten")
    store.conferences.cancel(staff, cancelled, hours=hours)
    set_clock(clock, berlin(2026, 11, 30, 12, 0) + timedelta(hours=1))
    facts = list(store.reports.facts(store.staff.first_organisation_id(), NOVEMBER))
    contacts = grid(facts, "contacts")
    assert (contacts.value("I", "phone"), contacts.value("I", "home-visit"), contacts.grand_total()) == (1, 1, 2)
    assert grid(facts, "contacts-per-case").value("I", "1-2") == 1
    meetings = grid(facts, "conferences")
    assert (meetings.value("I", "held"), meetings.value("I", "cancelled"), meetings.grand_total()) == (1, 1, 2)


async def test_a_report_made_one_case_at_a_time_counts_the_same(bot, month, monkeypatch):
    """A report reads a page of cases at a time (so it holds one page, however many cases there
    are): with pages of one case or two, every fact of the month (cases and their districts over
    time, closures, durations, clients, contacts) comes out exactly as in one page."""
    from collections import Counter

    import storage.reports

    store = bot.services.store
    org = store.staff.first_organisation_id()

    def counted() -> Counter:
        return Counter(tuple(sorted(fact.items())) for fact in store.reports.facts(org, NOVEMBER))

    whole = counted()
    assert sum(whole.values()) > 10 and any(dict(f)["subject"] == "client" for f in whole)
    for page in (1, 2):
        monkeypatch.setattr(storage.reports, "_PAGE", page)
        assert counted() == whole, page
