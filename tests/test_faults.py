"""Faults are normal: a database that fails, a send that fails, a record that does not decrypt.
Through the real Application, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from bot.i18n import N_
from domain.roles import Role
from handlers.errors import SORRY
from simulator.botapi import ApiError
from tests.flows import run_intake
from tests.helpers import rows
from tests.test_cycle import CODE, steps

STRANGERS = N_("This assistant is only for invited staff of the KIM case management.")


def broken(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("the database went away")


@pytest.mark.parametrize("language", ["de", "ar"])
async def test_when_the_sender_cannot_be_identified_nothing_runs(bot, monkeypatch, language):
    """Fail closed: no handler runs for an unidentified sender (0.1 showed a stranger /language)."""
    user = await bot.register(language_code=language)
    before = len(bot.fake.api.calls)
    monkeypatch.setattr(bot.services.store.staff, "user_by_telegram_id", broken)
    replies = await user.send("/language")
    assert [m.text for m in replies] == [bot.services.catalogs.get(language).plain(SORRY)]
    assert not replies[0].reply_markup  # no language menu
    assert [method for method, _ in bot.fake.api.calls[before:]] == ["sendMessage"]


async def test_a_refusal_that_cannot_be_sent_still_stops_the_stranger(bot, monkeypatch):
    stranger = bot.user()
    real_call = bot.fake.api.call

    def failing(method, params, files=None):  # noqa: ANN001, ANN202
        if method == "sendMessage":
            raise ApiError(400, "Bad Request: chat not found")
        return real_call(method, params, files)

    monkeypatch.setattr(bot.fake.api, "call", failing)
    for command in ("/language", "/help", "/cases", "Hallo"):
        assert await stranger.send(command) == []
    assert not [c for c in bot.fake.api.calls if c[0] != "sendMessage" and c[1].get("chat_id") == stranger.id]
    assert rows(bot, "SELECT COUNT(*) FROM app_user WHERE telegram_id = :t", t=stranger.id) == [(0,)]


async def test_cancel_gets_out_of_a_damaged_dialogue(bot):
    user = await bot.register()
    await user.send("/new")
    with bot.services.store.engine.begin() as connection:
        connection.execute(text("UPDATE dialogue SET state_enc = :junk"), {"junk": b"\x00" * 64})
    replies = await user.send("/cancel")
    assert replies[-1].text == "Abgebrochen. Von diesem Dialog wurde nichts gespeichert."
    assert rows(bot, "SELECT COUNT(*) FROM dialogue") == [(0,)]
    assert (await user.send("/new"))[-1].text.startswith("Erstberatung · Frage 1")


async def test_a_translator_learns_nothing_from_find(bot):
    manager = await bot.register()
    await run_intake(manager)
    translator = await bot.register(Role.TRANSLATOR, None)
    replies = await translator.send("/find")
    assert replies[-1].text == "Admins sehen keine Fallinhalte." or "Fall" not in replies[-1].text
    assert rows(bot, "SELECT COUNT(*) FROM dialogue") == [(0,)]


async def test_goal_buttons_of_another_case_manager_do_not_name_the_case(bot):
    manager = await bot.register()
    await run_intake(manager)
    await steps(manager, f"/goal {CODE}", ">Sprache", "A1-Kurs", ">die Klient:in", "30.06.2027", ">✔ Speichern")
    goal_id = rows(bot, "SELECT id FROM goal")[0][0]
    referral = bot.services.store.referrals
    other = await bot.register(Role.CASE_MANAGER, "II")
    message = (await other.send("/cases"))[-1]
    await other.press_data(f"g|{goal_id}|achieved", message)
    await other.press_data(f"r|{goal_id}|sent", message)
    assert all(CODE not in alert for alert in other.alerts())
    assert rows(bot, "SELECT status FROM goal") == [("open",)]
    assert referral is not None


async def test_one_damaged_record_among_the_due_messages_harms_only_itself(bot, clock):
    """A damaged conference place shows as unreadable; a case whose key is gone (erased) sets
    its own message aside; every other message of the round goes out."""
    from tests.test_meetings import deliver

    manager = await bot.register(Role.CASE_MANAGER, "I")
    colleague = await bot.register(Role.CASE_MANAGER, "II")
    await run_intake(manager)
    await run_intake(manager, given_name=("send", "Omid"), family_name=("send", "Karimi"))
    await steps(manager, f"/conference {CODE}", "01.12.2026", "14", ">60 Min.", "Rathaus Opladen", ">Fertig", ">Fertig",
                "Wohnung", ">✔ Speichern")
    await steps(manager, f"/handover {CODE}", ">II", "Zieht um", ">✔ Speichern")
    await steps(manager, "/handover LEV-2026-0002", ">II", "Zieht auch um", ">✔ Speichern")
    with bot.services.store.engine.begin() as connection:
        connection.execute(text("UPDATE conference SET place_enc = :junk"), {"junk": b"\x01" * 40})
    second = rows(bot, "SELECT id FROM client_case WHERE code = 'LEV-2026-0002'")[0][0]
    with bot.services.store.engine.begin() as connection:  # as an erasure leaves it: the key destroyed
        connection.execute(text("DELETE FROM case_key WHERE case_id = :c"), {"c": second})
    assert await deliver(bot) == 2  # the invitation (place unreadable) and the first handover request
    invitation = next(m for m in manager.messages() if m.text.startswith("Einladung: Fallkonferenz"))
    assert "Ort: (nicht lesbar: beschädigt oder gelöscht)" in invitation.text
    assert "Tagesordnung: Wohnung" in invitation.text
    assert any("Zieht um" in m.text for m in colleague.messages())
    assert not any("Zieht auch um" in m.text for m in colleague.messages())
    assert rows(bot, "SELECT state FROM outbox WHERE kind = 'handover-request' ORDER BY id") == [("sent",), ("failed",)]
    assert bot.services.dispatcher.failed_rows == 1
    assert await deliver(bot) == 0  # given up, not retried for ever


async def test_a_damaged_goal_shows_as_unreadable_and_the_others_stay_readable(bot):
    manager = await bot.register()
    await run_intake(manager)
    for wording in ("A1-Kurs", "Wohnung finden"):
        await steps(manager, f"/goal {CODE}", ">Sprache", wording, ">die Klient:in", "30.06.2027", ">✔ Speichern")
    with bot.services.store.engine.begin() as connection:
        connection.execute(text("UPDATE goal SET wording_enc = :junk WHERE id = (SELECT MIN(id) FROM goal)"),
                           {"junk": b"\x02" * 40})
    view = (await manager.send(f"/case {CODE}"))[0]
    await manager.press("🎯 Ziele", view)
    goals = manager.last().text
    assert "(nicht lesbar: beschädigt oder gelöscht)" in goals and "Wohnung finden" in goals


async def test_direction_overrides_in_a_name_are_not_stored(bot):
    """U+202E would turn around everything after it on the line, in every view of the case."""
    user = await bot.register()
    await run_intake(user, given_name=("send", "Amina\u202e"), family_name=("send", "\u2067Haddad\u2069"))
    view = (await user.send(f"/case {CODE}"))[0]
    await user.press("👁 Namen und Details zeigen", view)
    revealed = user.last().text
    assert "Amina" in revealed and "Haddad" in revealed
    assert not any(ch in revealed for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2069")


async def test_a_strangers_flood_takes_no_slot_from_staff(bot):
    """1,000 messages from an uninvited account while a case manager works, through the door
    every update comes in by (the inbox) and the update processor PTB uses: the stranger gets one
    refusal, the rest is dropped before it costs a row or a slot; the case manager's step is
    answered. (0.1: an admin's /help waited 60 s behind 120 of them.)"""
    import asyncio

    manager = await bot.register()
    stranger = bot.user(first_name="Eve")
    processor = bot.app.update_processor
    entered, inbox = [], bot.services.inbox
    original = processor.do_process_update

    async def counting(update, coroutine):  # noqa: ANN001, ANN202
        entered.append(update.effective_user.id)
        await original(update, coroutine)

    processor.do_process_update = counting
    flood = [stranger.text_update(f"spam {n}") for n in range(1000)]
    step = manager.text_update("/new")
    stored = []
    original_receive = bot.services.store.inbox.receive
    bot.services.store.inbox.receive = lambda rows, **kw: stored.extend(rows) or original_receive(rows, **kw)
    await bot.app.start()
    inbox.start()
    try:
        await asyncio.gather(*(inbox.take_in([u]) for u in flood[:500]), inbox.take_in([step]),
                             *(inbox.take_in([u]) for u in flood[500:]))
        for _ in range(200):
            if manager.messages() and bot.fake.chat(stranger.id):
                break
            await asyncio.sleep(0.02)
    finally:
        await inbox.stop()
        await bot.app.stop()
    assert sorted(r.sender for r in stored) == sorted([stranger.id, manager.id])
    assert entered.count(stranger.id) == 1 and entered.count(manager.id) == 1
    assert bot.services.gate.dropped == 999
    assert len(bot.fake.chat(stranger.id)) == 1  # one refusal, no more
    assert manager.last().text.startswith("Erstberatung · Frage 1")
    assert rows(bot, "SELECT COUNT(*) FROM inbox_update") == [(0,)]


async def test_wrong_invitation_codes_are_limited_and_audited(bot):
    guesser = bot.user()
    for n in range(6):  # (sent past the gate, which alone lets a stranger through only every 30 s)
        await guesser.send(f"/start WRONG{n:020d}")
    await guesser.send(f"/start {bot.admin_code}")  # the right code, after too many wrong ones
    wrong = bot.services.catalogs.get("de").gettext(
        N_("This invitation code is not valid. Please ask your admin for a new one."))
    assert [m.text for m in guesser.messages()] == [wrong] * 7
    assert rows(bot, "SELECT COUNT(*) FROM app_user WHERE telegram_id = :t", t=guesser.id) == [(0,)]
    refused = rows(bot, "SELECT detail FROM audit_event WHERE action = 'invitation.refused' ORDER BY id")
    assert [d.split(";")[0] for (d,) in refused] == ["reason=unknown"] * 5 + ["reason=locked"] * 2
    senders = {d.split(";")[1] for (d,) in refused}
    # one keyed hash for the sender, never the Telegram id (a substring check would match by chance)
    assert len(senders) == 1 and re.fullmatch(r"sender=[0-9a-f]{16}", senders.pop())
    newcomer = bot.user()
    await newcomer.send(f"/start {bot.admin_code}")  # everyone else is unaffected
    assert newcomer.messages()[0].text.startswith("Willkommen!")


async def test_a_stalled_database_call_holds_up_only_its_own_user(bot, monkeypatch):
    """Database work runs in worker threads: while one user's statement waits (on a lock, on a
    slow network), everybody else goes on. (0.1 ran it on the event loop: everyone waited.)"""
    import asyncio
    import threading

    manager, other = await bot.register(), await bot.register()
    hold, entered = threading.Event(), threading.Event()
    original = bot.services.store.cases.list_for

    def stalled(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        entered.set()
        hold.wait(10)
        return original(*args, **kwargs)

    monkeypatch.setattr(bot.services.store.cases, "list_for", stalled)
    waiting = asyncio.ensure_future(manager.send("/cases"))
    while not entered.is_set():
        await asyncio.sleep(0.005)
    replies = await other.send("/new")  # another user, while the first one's statement waits
    assert replies[-1].text.startswith("Erstberatung · Frage 1")
    assert not waiting.done()
    hold.set()
    listing = await waiting
    assert listing and listing[-1].reply_markup  # the case list came, once its statement was done


async def test_a_long_assessment_summary_still_arrives_with_its_save_button(bot):
    """Nine notes of 500 characters: 0.1's summary was too long to send, with no Save button."""
    from bot.choices import LIFE_DOMAINS

    manager = await bot.register()
    await run_intake(manager)
    await manager.send(f"/assess {CODE}")
    for n, _domain in enumerate(LIFE_DOMAINS):
        await manager.press("hoch")
        await manager.send(f"Notiz {n}: " + "Wohnungssuche mit Familie, " * 18)
    await manager.press("Wohnen")
    await manager.press("Fertig")
    await manager.press("Fertig")  # no strengths
    summary = manager.last()
    assert summary.text.startswith("Bestandsaufnahme · bitte prüfen") and "…" in summary.text
    assert "✔ Speichern" in summary.button_texts()
    await manager.press("✔ Speichern", summary)
    assert manager.last().text.startswith(f"Bestandsaufnahme Nr. 1 für {CODE} gespeichert.")
    note = bot.services.store.cases.reveal(bot.services.store.staff.user_by_telegram_id(manager.id), CODE)
    assert len(note.records["assessment/1"]["note_housing"]) > 400  # stored whole


async def test_refused_presses_are_audited_without_their_data(bot):
    manager = await bot.register()
    message = (await manager.send("/help"))[-1]
    await manager.press_data("g|12345|achieved", message)  # somebody else's goal, or none
    await manager.press_data("k|explode|LEV-2026-0001", message)  # not a button of ours
    await manager.press_data("zz|whatever", message)
    audited = rows(bot, "SELECT detail FROM audit_event WHERE action = 'button.refused' ORDER BY id")
    assert audited == [("family=g;why=refused",), ("family=k;why=unreadable",), ("family=?;why=unknown",)]


async def test_a_redelivered_update_has_no_second_effect(bot):
    """Telegram delivers at least once: a webhook retry or a second instance brings the same
    update_id again. (0.1 re-ran /new and /case: messages again, a second audit row.)"""
    manager = await bot.register()
    await run_intake(manager)
    await manager.send("/cancel")
    update = manager.text_update(f"/case {CODE}")
    before, inbox = len(manager.messages()), bot.services.inbox
    await inbox.deliver(update)
    await inbox.deliver(update)  # the same update, delivered again
    await inbox.take_in([update, update])  # twice in one batch, after it was handled
    await inbox.deliver(manager.text_update("/help"))  # (handles whatever is waiting)
    assert len(manager.messages()) == before + 2  # the case once, the help once
    assert rows(bot, "SELECT COUNT(*) FROM audit_event WHERE action = 'case.view'") == [(1,)]
    again, before = manager.text_update("/new"), len(manager.messages())
    await inbox.deliver(again)
    await inbox.deliver(again)
    assert [m.text.split("\n")[0] for m in manager.messages()[before:]] == ["Erstberatung · Frage 1 von 19"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_postgresql_connections_cut_mid_dialogue_cost_one_redelivery(bot, database_url):
    """The database restarts between two steps (every connection cut). Pooled connections are
    not pinged before each use (that was a fifth of all round trips), so the next update's
    storing fails: it is not acknowledged, Telegram delivers it again, and by then the pool
    has replaced its connections. The step is applied once; nothing typed is lost."""
    import psycopg
    from sqlalchemy.exc import OperationalError

    manager = await bot.register()
    await manager.send("/new")
    await manager.press("Einwilligung erteilt")
    await manager.press("FB 50 (Soziales)")
    with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    answer = manager.text_update("Amina")
    with pytest.raises(OperationalError):
        await bot.services.inbox.deliver(answer)  # the webhook answers 503 (tests/test_operations.py)
    await bot.services.inbox.deliver(answer)  # delivered again
    assert manager.last().text.startswith("Erstberatung · Frage 4 von 19")
    await manager.send("Haddad")
    assert manager.last().text.startswith("Erstberatung · Frage 5 von 19")
    assert rows(bot, "SELECT COUNT(*) FROM inbox_update") == [(0,)]


async def _to_the_summary(bot, form: str):  # noqa: ANN001, ANN202
    """(the user, the summary with its save button, the table the save writes to) of `form`."""
    from tests.test_meldebogen import send_meldebogen

    if form == "meldebogen":
        referrer = await bot.register(Role.REFERRER, None)
        await send_meldebogen(referrer, send=False)
        return referrer, referrer.last_with_buttons(), "intake_request", "✔ Senden"
    admin = await bot.register(Role.ADMIN, None)
    await admin.send("/districts")
    await admin.press("➕ Neuer Bezirk")
    await steps(admin, "Nord", "Nordbezirk", "Bergisch Neukirchen", ">Fertig")
    return admin, admin.last_with_buttons(), "district", "✔ Speichern"


@pytest.mark.parametrize("form", ["meldebogen", "district"])
async def test_a_database_failing_as_a_form_is_saved_keeps_the_answers(bot, form):
    """The database fails on the save's last write (its audit entry, after the record's own
    row): the user is told in their language, nothing of it is stored, the draft is as it was,
    and the same save button works once the database is back. (Goals and contacts:
    tests/test_foundation.py.)"""
    user, summary, table, save = await _to_the_summary(bot, form)
    version = rows(bot, "SELECT version FROM dialogue")[0][0]
    before = rows(bot, f"SELECT COUNT(*) FROM {table}")[0][0]
    engine = bot.services.store.engine

    def down(conn, cursor, statement: str, *args: object) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENT"):
            raise OperationalError("INSERT", {}, Exception("the database went away"))

    event.listen(engine, "before_cursor_execute", down)
    try:
        replies = await user.press(save, summary)
    finally:
        event.remove(engine, "before_cursor_execute", down)
    assert replies[-1].text == bot.services.catalogs.get("de").gettext(SORRY)
    assert "went away" not in replies[-1].text
    assert rows(bot, "SELECT version FROM dialogue") == [(version,)]  # the draft, untouched
    assert rows(bot, f"SELECT COUNT(*) FROM {table}")[0][0] == before
    await user.press(save, summary)  # the same button, once the database is back
    assert rows(bot, "SELECT COUNT(*) FROM dialogue") == [(0,)]
    assert rows(bot, f"SELECT COUNT(*) FROM {table}")[0][0] == before + 1
    # (a Meldebogen's number is its row's id: on PostgreSQL the failed attempt used one up)
    assert ("Meldebogen M-" if form == "meldebogen" else "Bezirk Nord") in user.last().text.replace("\u2068", "").replace(
        "\u2069", "")
