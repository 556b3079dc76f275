"""An installation that ran version 0.1 keeps working after the upgrade and `casebot migrate`:
its open dialogue continues, the buttons standing in its chats still work, its scheduled
messages go out. The data was written by version 0.1's own code (tests/compat/make_v0_1.py)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.clock import FixedClock
from storage.db import migrate
from tests.conftest import make_settings, start_bot
from tests.helpers import rows
from tests.telegram_fake import TgUser

FIXTURE = Path(__file__).resolve().parent / "compat" / "v0_1"


@pytest.fixture
async def upgraded(tmp_path: Path):  # noqa: ANN201
    for item in ("casebot.sqlite3", "keys"):
        (shutil.copytree if (FIXTURE / item).is_dir() else shutil.copy)(FIXTURE / item, tmp_path / item)
    (tmp_path / "keys" / "master.key").chmod(0o600)  # as `casebot init` made it (git keeps no modes)
    settings = make_settings(f"sqlite:///{tmp_path / 'casebot.sqlite3'}", tmp_path)
    migrate(settings.database_url)  # what `casebot migrate` does
    clock = FixedClock(datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    app, fake, services = await start_bot(settings, clock)
    state = json.loads((FIXTURE / "state.json").read_text())
    yield app, fake, services, state, clock
    await app.shutdown()
    services.store.close()


def shown(fake, user_id: int, text: str, buttons: list[tuple[str, str]]):  # noqa: ANN001, ANN201
    """A message of version 0.1 standing in the chat, with its buttons."""
    markup = {"inline_keyboard": [[{"text": label, "callback_data": data}] for label, data in buttons]}
    return fake.api._new_message(user_id, text=text, reply_markup=markup)


async def test_the_open_dialogue_continues_from_its_old_buttons(upgraded):
    app, fake, services, state, _ = upgraded
    manager = TgUser(app, fake, state["manager"])
    question = shown(fake, manager.id, state["open_question_text"], state["open_question_buttons"])
    await manager.press("hoch", question)  # "Bildung und Erziehung: hoch", pressed on 0.1's keyboard
    assert manager.alerts() == []
    assert "Bildung und Erziehung: eine kurze Notiz?" in manager.last().text
    await manager.press("Überspringen »")
    for _ in range(7):  # the other life domains
        await manager.press("kein Bedarf")
    await manager.press("Wohnen")
    await manager.press("Fertig")
    await manager.press("Fertig")  # no strengths
    await manager.press("✔ Speichern")
    assert manager.last().text.startswith(f"Bestandsaufnahme Nr. 1 für {state['code']} gespeichert.")
    view = (await manager.send(f"/case {state['code']}"))[0].text
    assert "Sprache: hoch" in view and "Bildung und Erziehung: hoch" in view


async def test_the_buttons_in_old_chats_still_work(upgraded):
    app, fake, services, state, _ = upgraded
    manager = TgUser(app, fake, state["manager"])
    await manager.send("/cancel")  # leave the open dialogue aside
    old = {data.split("|")[1]: data for data in state["case_view_buttons"]}
    view = shown(fake, manager.id, state["code"], [(action, data) for action, data in old.items()])
    await manager.press_data(old["r"], view)  # 👁 show names and details
    assert "Amina" in manager.last().text and "Haddad" in manager.last().text
    view = shown(fake, manager.id, state["code"], [(action, data) for action, data in old.items()])
    await manager.press_data(old["goals"], view)
    assert "A1-Kurs beginnen" in manager.last().text
    await manager.press_data(old["referrals"], view)
    assert "gesendet" in manager.last().text
    assert manager.alerts() == []


async def test_the_scheduled_messages_go_out(upgraded):
    app, fake, services, state, clock = upgraded
    colleague, manager = TgUser(app, fake, state["colleague"]), TgUser(app, fake, state["manager"])
    assert await services.dispatcher.dispatch_once(app.bot, plan=False) == 1  # the handover request, due
    request = colleague.last()
    assert f"Fall {state['code']} soll an Sie übergeben werden" in request.text and "Zieht nach Opladen" in request.text
    await colleague.press("✔ Annehmen", request)
    assert colleague.last().text == f"Fall {state['code']} liegt jetzt bei Ihnen."
    clock.advance(timedelta(days=14))  # the referral's follow-up question, planned by 0.1 ...
    assert await services.dispatcher.dispatch_once(app.bot, plan=False) == 1
    question = colleague.last()  # ... goes to the case's new case manager, with the case
    assert question.text.startswith(f"Wie ist die Vermittlung von {state['code']} an")
    assert not any(m.text.startswith("Wie ist die Vermittlung") for m in manager.messages())
    await colleague.press("abgeschlossen", question)
    assert rows(services, "SELECT status FROM referral") == [("completed",)]


async def test_the_case_file_of_an_old_case_is_complete_after_the_upgrade(upgraded):
    """Migration 0007 built the timeline from what 0.1 recorded (the referral's status change from
    the audit trail), and the first planner pass computed the watch dates from the intake."""
    app, fake, services, state, _ = upgraded
    manager = TgUser(app, fake, state["manager"])
    await manager.send("/cancel")
    kinds = [r[0] for r in rows(services, "SELECT kind FROM case_entry ORDER BY happened_on, id")]
    assert kinds[0] == "intake" and {"goal", "referral", "referral-status", "handover"} <= set(kinds)
    assert {r[0] for r in rows(services, "SELECT author_role FROM case_entry")} == {"case-manager"}
    await manager.send(f"/case {state['code']}")
    await manager.press("🕓 Fallakte")
    timeline = manager.last().text
    assert "Übergabe: → II" in timeline and "Erstberatung · Case Manager:in" in timeline
    assert "Ziel: Sprache" in timeline or "Ziel:" in timeline
    services.dispatcher.plan(force=True)  # the first pass computes the watch dates 0.1's cases lack
    assert rows(services, "SELECT COUNT(*) FROM client_case WHERE watch_rev = 0") == [(0,)]


async def test_old_case_keys_move_under_the_organisations_key_and_still_read(upgraded):
    """`casebot migrate` gives the organisation its key and moves 0.1's case keys (wrapped by
    the master key) under it; the case reads the same before and after."""
    app, fake, services, state, _ = upgraded
    store = services.store
    manager = TgUser(app, fake, state["manager"])
    await manager.send("/cancel")
    kids = {r[0] for r in rows(services, "SELECT kid FROM case_key")}
    assert kids and not any(k.startswith("org:") for k in kids)  # as 0.1 wrote them

    async def names() -> str:
        view = [m for m in await manager.send(f"/case {state['code']}") if m.reply_markup][0]
        await manager.press("👁 Namen und Details zeigen", view)
        return manager.last().text

    before = await names()
    assert store.organisations.ensure_keys() == 1
    assert store.organisations.rehome() == len(rows(services, "SELECT case_id FROM case_key"))
    assert {r[0] for r in rows(services, "SELECT kid FROM case_key")} == {"org:1"}
    assert store.organisations.rehome() == 0  # run again: nothing left to move
    assert await names() == before


def test_languages_set_before_organisations_had_their_own_stay_set(tmp_path):
    """Migration 0017: an uploaded catalog and a language switched off become the organisation's."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from storage.db import alembic_config

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    command.upgrade(alembic_config(url), "0016")
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("INSERT INTO organisation (name, code_prefix, default_language, created_at) "
                       "VALUES ('Stadt', 'LEV', 'de', '2026-01-01 00:00:00')"))
        c.execute(text("INSERT INTO locale_setting (language, enabled) VALUES ('en', 0)"))
        c.execute(text("INSERT INTO locale_catalog (language, po, state, created_at) "
                       "VALUES ('ur', 'msgid \"\"', 'live', '2026-01-01 00:00:00')"))
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as c:
        assert list(c.execute(text("SELECT org_id, language, enabled FROM locale_setting"))) == [(1, "en", 0)]
        assert list(c.execute(text("SELECT org_id, language, state FROM locale_catalog"))) == [(1, "ur", "live")]
    command.downgrade(alembic_config(url), "0016")  # and back, for an operator who must
    with engine.connect() as c:
        assert list(c.execute(text("SELECT language, enabled FROM locale_setting"))) == [("en", 0)]
    engine.dispose()
