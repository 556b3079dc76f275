"""Chat hygiene (issue 11): what carries personal data does not stay in the chat."""

from __future__ import annotations

from datetime import timedelta

from domain.roles import Role
from tests.flows import run_intake
from tests.helpers import rows
from tests.test_reminders import dispatch

CODE = "LEV-2026-0001"
PERSONAL = ("Amina", "Haddad", "01.02.1995", "1995", "Kita-Platz", "1234567", "Kölner Str")


def visible(bot, user) -> str:  # noqa: ANN001
    """Everything that still stands in the chat, from both sides."""
    return "\n".join([m.text or "" for m in bot.fake.chat(user.id)] + user.typed_still_visible())


async def test_after_an_intake_no_name_birth_date_or_note_stands_in_the_chat(bot):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(cm)
    assert cm.last().text.startswith("Gespeichert als Fall LEV-2026-0001.")
    chat = visible(bot, cm)
    for needle in PERSONAL:
        assert needle not in chat, needle
    assert "Erstberatung: gespeichert. Die Antworten stehen in der Fallakte" in chat  # the summary, replaced
    assert all(t.startswith("/") for t in cm.typed_still_visible())  # commands stay, answers go


async def test_a_refused_answer_is_deleted_too(bot):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await cm.send("/new")
    await cm.press("Einwilligung erteilt")
    await cm.press("FB 50 (Soziales)")
    await cm.send("Amina")
    await cm.send("Haddad")
    await cm.send("31.02.1995")  # no such day: refused, and gone from the chat all the same
    assert "Diesen Tag gibt es nicht" in cm.last().text
    assert not [t for t in cm.typed_still_visible() if not t.startswith("/")]


async def test_names_shown_are_hidden_again_after_ten_minutes(bot, clock):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(cm)
    await cm.send(f"/case {CODE}")
    await cm.press("👁 Namen und Details zeigen")
    revealed = cm.last()
    assert "Amina" in revealed.text
    clock.advance(timedelta(minutes=9))
    await dispatch(bot)
    assert "Amina" in bot.fake.messages[(cm.id, revealed.message_id)].text
    clock.advance(timedelta(minutes=1, seconds=1))
    await dispatch(bot)
    hidden = bot.fake.messages[(cm.id, revealed.message_id)]
    assert hidden.text == "Namen und Details von LEV-2026-0001 sind wieder verborgen."
    assert hidden.button_texts() == ["👁 Namen und Details zeigen", "📂 Fall öffnen"]
    assert "Amina" not in visible(bot, cm)
    await cm.press("👁 Namen und Details zeigen", hidden)  # shown again: hidden again later
    assert "Amina" in bot.fake.messages[(cm.id, hidden.message_id)].text
    await cm.press("🙈 Namen und Details verbergen")  # hidden by hand: nothing left to hide
    assert rows(bot, "SELECT state FROM outbox WHERE kind = 'reveal-expiry' ORDER BY id") == [("sent",), ("cancelled",)]


async def test_a_failed_deletion_is_retried_and_a_gone_message_given_up(bot, clock):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await cm.send("/new")
    await cm.press("Einwilligung erteilt")
    await cm.press("FB 50 (Soziales)")
    bot.fake.failing["deleteMessage"] = 1  # Telegram does not answer in time
    await cm.send("Amina")
    assert "Amina" in cm.typed_still_visible()
    assert "Familienname" in cm.last().text  # the answer is stored all the same
    assert rows(bot, "SELECT kind, state FROM outbox") == [("delete-message", "due")]
    clock.advance(timedelta(minutes=1))
    await dispatch(bot)
    assert "Amina" not in cm.typed_still_visible()
    assert rows(bot, "SELECT state FROM outbox") == [("sent",)]
    # the same deletion once more (the message is gone): given up quietly
    bot.services.store.outbox.schedule_for(org_id=1, user_id=rows(bot, "SELECT user_id FROM outbox")[0][0],
                                           kind="delete-message", ref_id=999_999, due_at=clock.now())
    await dispatch(bot)
    assert rows(bot, "SELECT state FROM outbox ORDER BY id") == [("sent",), ("sent",)]


async def test_a_cancelled_summary_does_not_keep_the_answers_in_the_chat(bot):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(cm, save=False)
    assert "Amina" in cm.last().text  # the summary
    await cm.send("/cancel")
    chat = visible(bot, cm)
    for needle in PERSONAL:
        assert needle not in chat, needle
