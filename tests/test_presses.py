"""Presses as a thumb on a slow connection makes them: the same button twice before the first
is answered (both reach the bot with the message as it was), and a press on a message that is
gone by the time it is handled. Telegram refuses an edit that changes nothing, an edit of a
message that is gone, and a second answer to one press (the simulator does the same); none of
these may reach the user as "something went wrong"."""

from __future__ import annotations

from domain.roles import Role
from tests.flows import run_intake
from tests.helpers import rows

SORRY = "Entschuldigung, etwas ist schiefgegangen."


def failures(caplog) -> list:  # noqa: ANN001
    """What reached the error handler (which logs each failure there)."""
    return [r for r in caplog.records if r.name == "casebot.errors"]


async def test_a_double_tap_does_it_once_and_says_nothing_went_wrong(bot, caplog):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    menu = (await cm.send("/language"))[-1]
    await cm.double_tap("English", menu)
    assert cm.last().text == "From now on I write in English." and cm.alerts() == []
    assert not [m for m in cm.messages() if m.text.startswith(("Sorry", SORRY))] and not failures(caplog)


async def test_a_double_tap_on_a_page_of_the_case_file(bot, caplog):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(cm)
    await cm.send("/case LEV-2026-0001")
    timeline = (await cm.press("🕓 Fallakte"))[-1]
    await cm.double_tap("🔎 Filter", timeline)
    assert not [m for m in cm.messages() if m.text.startswith(SORRY)] and cm.alerts() == [] and not failures(caplog)
    assert "Kontakte" in cm.last_with_buttons().button_texts()


async def test_a_press_on_a_message_gone_meanwhile_is_refused_quietly_and_audited(bot, caplog):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(cm)
    await cm.send("/case LEV-2026-0001")
    timeline = (await cm.press("🕓 Fallakte"))[-1]
    api = cm.fake.api
    data = next(b["callback_data"] for b in timeline.buttons() if b["text"] == "🔎 Filter")
    press = api.user_presses(cm.id, timeline.message_id, data)
    del api.messages[(cm.id, timeline.message_id)]  # deleted before the press is handled
    api.pending_updates.remove(press)
    await cm._process({"callback_query": press["callback_query"]})
    # (the press was answered before the edit was refused: Telegram takes no second answer, and
    # there is no message left to say anything under)
    assert not [m for m in cm.messages() if m.text.startswith(SORRY)] and not failures(caplog)
    assert rows(bot, "SELECT detail FROM audit_event WHERE action = 'button.refused'") == [("family=T;why=gone",)]


async def test_a_press_that_fails_after_it_was_answered_still_says_so(bot, monkeypatch):
    """The error handler answers the press to stop the spinner; when the handler had answered
    it already, Telegram refuses that second answer, and the user must still be told."""
    from telegram import CallbackQuery

    cm = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(cm)
    await cm.send("/case LEV-2026-0001")
    timeline = (await cm.press("🕓 Fallakte"))[-1]

    async def broken(*_, **__):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("the edit broke")

    monkeypatch.setattr(CallbackQuery, "edit_message_reply_markup", broken)  # (the filter menu changes the buttons)
    await cm.press("🔎 Filter", timeline)
    assert cm.last().text.startswith(SORRY)


async def test_a_double_tap_on_save_saves_once_without_a_pop_up_and_later_presses_are_still_refused(bot, clock):
    """The second press finds the dialogue saved: its "no longer valid" pop-up over "Saved as
    case ..." would read as a failed save. A press of that button well after is refused as ever."""
    from datetime import timedelta

    cm = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(cm, save=False)
    summary = cm.last_with_buttons()
    save = next(b["callback_data"] for b in summary.buttons() if b["text"] == "✔ Speichern")
    await cm.double_tap("✔ Speichern", summary)
    assert cm.last().text.startswith("Gespeichert als Fall LEV-2026-0001.") and cm.alerts() == []
    assert rows(bot, "SELECT COUNT(*) FROM client_case") == [(1,)]
    view = (await cm.send("/case 1"))[-1]
    await cm.double_tap("👁 Namen und Details zeigen", view)  # (edits in place: the second changes nothing)
    assert cm.alerts() == [] and not [m for m in cm.messages() if m.text.startswith(SORRY)]
    clock.advance(timedelta(seconds=4))
    await cm.press_data(save, summary)
    assert cm.alerts() == ["Diese Taste ist nicht mehr gültig. Bitte die neueste Frage verwenden."]


async def test_a_double_tap_on_a_document_sends_one_pdf(bot, clock):
    """A document with names in it is in the chat once, however often the thumb landed; asked
    for again a while later, it comes again."""
    from datetime import timedelta

    cm = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(cm)
    await cm.send("/documents LEV-2026-0001")
    await cm.press("✍ Einwilligung in die Dokumentation")
    languages = cm.last_with_buttons()  # (the menu, turned into the choice of language)

    def pdfs() -> int:
        return len([m for m in cm.messages() if m.document])

    await cm.double_tap("★ Arabisch", languages)
    assert pdfs() == 1 and cm.alerts() == [] and rows(bot, "SELECT COUNT(*) FROM case_document") == [(1,)]
    clock.advance(timedelta(minutes=1))
    await cm.press("★ Arabisch", languages)
    assert pdfs() == 2
