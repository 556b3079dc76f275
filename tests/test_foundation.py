"""The bugs the domain core and the unit of work fixed, each through the real Application, on
SQLite and PostgreSQL. Every test here failed on version 0.1."""

from __future__ import annotations

from datetime import date

import pytest

from bot.forms.intake import INTAKE
from bot.i18n import N_
from domain.roles import Role
from domain.services import suggest
from tests.flows import run_intake
from tests.helpers import rows
from tests.test_cycle import CODE, steps
from tests.test_reminders import berlin, set_clock

FSI, PDI = "\u2068", "\u2069"
SORRY = N_("Sorry, something went wrong. Your earlier answers are kept; please try again.")


def broken(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("the database went away")  # what a repository raises when it fails


@pytest.fixture
async def cm(bot):  # noqa: ANN001, ANN201
    user = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(user)
    return user


@pytest.mark.parametrize("language", ["de", "ar"])
async def test_a_failing_step_tells_the_user_in_their_language(bot, monkeypatch, language):
    """PTB hands error handlers a fresh context: the translator is found again there."""
    user = await bot.register(Role.CASE_MANAGER, "I", language_code=language)
    monkeypatch.setattr(bot.services.store.cases, "list_for", broken)
    replies = await user.send("/cases")
    assert [m.text for m in replies] == [bot.services.catalogs.get(language).gettext(SORRY)]
    assert "went away" not in replies[0].text


async def test_a_failing_button_stops_its_spinner_and_says_so(bot, cm, monkeypatch):
    view = (await cm.send(f"/case {CODE}"))[0]
    monkeypatch.setattr(bot.services.store.casework, "goals", broken)
    replies = await cm.press("🎯 Ziele", view)
    assert replies[-1].text == bot.services.catalogs.get("de").gettext(SORRY)
    assert bot.fake.api.calls[-2][0] == "answerCallbackQuery"


@pytest.mark.parametrize("form", ["goal", "contact"])
async def test_a_failed_save_keeps_the_answers_and_save_works_again(bot, cm, monkeypatch, form):
    """The draft is consumed in the transaction that writes the record: a failure after the
    record was written (the audit entry here) rolls back both, and the summary stays valid."""
    if form == "goal":
        await steps(cm, f"/goal {CODE}", ">Qualifizierung", "Deutschkurs B1", ">die Klient:in", "30.06.2027")
    else:
        await steps(cm, f"/note {CODE}", ">heute", ">Telefonat", "Termin beim Jobcenter vereinbart")
    summary = cm.last_with_buttons()
    version = rows(bot, "SELECT version FROM dialogue")[0][0]
    goals_before, contacts_before = rows(bot, "SELECT COUNT(*) FROM goal")[0][0], rows(bot, "SELECT COUNT(*) FROM contact")[0][0]
    with monkeypatch.context() as patch:
        patch.setattr(bot.services.store.casework, "touch", broken)
        replies = await cm.press("✔ Speichern", summary)
    assert replies[-1].text == bot.services.catalogs.get("de").gettext(SORRY)
    assert rows(bot, "SELECT version FROM dialogue") == [(version,)]  # the draft, untouched
    assert rows(bot, "SELECT COUNT(*) FROM goal")[0][0] == goals_before
    assert rows(bot, "SELECT COUNT(*) FROM contact")[0][0] == contacts_before
    await cm.press("✔ Speichern", summary)  # the same button, once the fault is gone
    assert cm.last().text.startswith("Ziel für LEV-2026-0001 gespeichert" if form == "goal" else "Kontakt vom")
    assert rows(bot, "SELECT COUNT(*) FROM dialogue") == [(0,)]
    table = "goal" if form == "goal" else "contact"
    assert rows(bot, f"SELECT COUNT(*) FROM {table}")[0][0] == (goals_before if form == "goal" else contacts_before) + 1


async def test_two_quick_ticks_on_a_multiple_choice_both_count(bot):
    """A slow phone shows the old keyboard a little longer: the second tick comes from it."""
    user = await bot.register()
    await run_intake(user, save=False, languages=None, languages_done=None, interpreter=None, adults=None,
                     children=None, phone=None, note=None)
    question = user.last_with_buttons()
    assert "Sprachen" in question.text or "Sprache" in question.text
    old = {b["text"]: b["callback_data"] for b in question.buttons()}
    await user.press_data(old["Arabisch"], question)
    await user.press_data(old["Persisch"], question)  # the keyboard the first tick has not replaced yet
    await user.press_data(old["✔ Fertig · Dolmetscher:in nötig"], question)
    assert user.alerts() == []
    assert "Erwachsene" in user.last().text  # languages and interpreter in one press
    await steps(user, "2", "1", ">Überspringen »", ">Überspringen »")
    summary = user.last().text
    assert "Sprachen: Arabisch, Persisch" in summary


async def test_an_old_tick_of_an_earlier_question_stays_stale(bot):
    user = await bot.register()
    await run_intake(user, save=False, languages=None, languages_done=None, interpreter=None, adults=None,
                     children=None, phone=None, note=None)
    question = user.last_with_buttons()
    tick = next(b["callback_data"] for b in question.buttons() if b["text"] == "Arabisch")
    await steps(user, ">Arabisch", ">✔ Fertig · Dolmetscher:in nötig")  # the dialogue moved on to the next question
    await user.press_data(tick, question)
    assert user.alerts()[-1] == "Diese Taste ist nicht mehr gültig. Bitte die neueste Frage verwenden."


async def test_reassigning_keeps_the_clients_district(bot, cm):
    """The client still lives where they live; only a handover after a move changes the district."""
    other = await bot.register(Role.CASE_MANAGER, "II")
    coordinator = await bot.register(Role.COORDINATOR, None)
    before = rows(bot, "SELECT district_id FROM client_case")
    other_id = rows(bot, "SELECT id FROM app_user WHERE telegram_id = :t", t=other.id)[0][0]
    await coordinator.send(f"/case {CODE}")
    await coordinator.press("👥 Neu zuweisen")
    await coordinator.press(next(label for label in coordinator.last().button_texts() if "Bezirk II" in label))
    assert rows(bot, "SELECT assigned_to, district_id FROM client_case") == [(other_id, before[0][0])]


async def test_a_refusal_quoting_a_case_code_isolates_it_in_arabic(bot):
    user = await bot.register(language_code="ar")
    replies = await user.send("/case LEV-2026-9999")
    assert f"{FSI}LEV-2026-9999{PDI}" in replies[0].text
    await user.send("/goal LEV-2026-9999")
    assert f"{FSI}LEV-2026-9999{PDI}" in user.last().text


async def test_the_referral_buttons_follow_the_ranking(bot):
    """Duldung, 20 years old: Teilhabemanagement (age- and status-bound) is the first button."""
    user = await bot.register()
    await run_intake(user, birth_date=("send", "01.02.2006"), residence_status=("press", "Duldung"),
                     residence_since=("press", "Überspringen »"))
    await steps(user, f"/refer {CODE}", ">Qualifizierung")
    starred = [label.removeprefix("★ ") for label in user.last().button_texts() if label.startswith("★")]
    rules = bot.services.store.catalogue.rules(bot.services.store.staff.first_organisation_id())
    expected = [r.name for r in suggest(rules, age=20, status="duldung", domain="work", benefits="sgb2")]
    assert starred == expected and starred[0].startswith("Teilhabemanagement")


async def test_a_referral_sent_on_a_saturday_is_followed_up_on_a_working_day(bot, cm, clock):
    await steps(cm, f"/refer {CODE}", ">Qualifizierung", ">★ Jobcenter", "Arbeitssuche", ">Einwilligung erteilt",
                ">Qualifizierung", ">Fertig", ">✔ Speichern")
    set_clock(clock, berlin(2026, 11, 28, 11, 0))  # a Saturday
    await cm.press("📤 Als gesendet markieren")
    assert cm.alerts()[-1].endswith("Ich frage am 14.12.2026 nach, wie es gelaufen ist.")  # Monday, not Saturday
    assert rows(bot, "SELECT follow_up_on FROM referral")[0][0] in (date(2026, 12, 14), "2026-12-14")
    due = rows(bot, "SELECT due_at FROM outbox WHERE kind = 'referral-follow-up'")[0][0]
    assert str(due).startswith("2026-12-14 08:00")  # nine o'clock in Leverkusen, in UTC


def test_every_form_names_its_own_completion():
    from bot.forms.registry import FORMS

    assert INTAKE.confirm is not None
    assert all(callable(form.confirm) for form in FORMS.values())
    assert len({form.confirm for form in FORMS.values()}) == len(FORMS)
