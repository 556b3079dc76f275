"""End to end over real HTTP: the simulator's server, the bot with PTB's own network stack
(httpx, long polling getUpdates), and people acting through the chat page's API."""

from __future__ import annotations

import asyncio

import pytest

from bot.cli import initialise
from simulator.botapi import RateLimit
from tests.flows import INTAKE_STEPS
from tests.helpers import metric
from tests.live import live  # noqa: F401  (the fixture)


async def test_registration_and_a_full_intake_over_http(live):
    ana = await live.person("Ana", "de")
    await live.say(ana, f"/start {live.admin_code}")
    await live.wait_for(ana, lambda ms: len(ms) >= 2)
    assert "Willkommen! Sie sind registriert als Admin." in (await live.bot_messages(ana))[0]["text"]
    await live.say(ana, "/invite")
    await live.press(ana, "Case Manager:in")
    messages = await live.press(ana, "I")
    code = messages[-1]["text"].split("\n")[1]
    assert "https://t.me/kim_sim_bot?start=" + code in messages[-1]["text"]
    cem = await live.person("Cem", "de")
    await live.say(cem, f"/start {code}")
    await live.say(cem, "/new")
    for _name, (action, value) in INTAKE_STEPS.items():
        await (live.press(cem, value) if action == "press" else live.say(cem, value))
    messages = await live.press(cem, "✔ Speichern")
    assert messages[-1]["text"].startswith("Gespeichert als Fall LEV-2026-0001.")
    listing = await live.say(cem, "/cases")
    assert "LEV-2026-0001 · offen" in listing[-1]["text"] and "Amina" not in listing[-1]["text"]


async def test_a_stale_button_over_http_gets_a_toast_and_changes_nothing(live):
    ana = await live.person("Ana", "de")
    await live.say(ana, f"/start {live.admin_code}")
    await live.wait_for(ana, lambda ms: len(ms) >= 2)
    invitation_message = (await live.say(ana, "/invite"))[-1]
    stale = invitation_message["buttons"][0][0]["data"]
    await live.press(ana, "Koordinator:in")  # the message turns into the invitation
    before = await live.bot_messages(ana)
    await live.http.post("/api/press", json={"user_id": ana, "message_id": invitation_message["id"], "data": "f|deadbeef|0|c|0"})
    for _ in range(100):
        alerts = (await live.state())["alerts"]
        if alerts:
            break
        await asyncio.sleep(0.05)
    assert alerts[-1]["text"] == "Diese Taste ist nicht mehr gültig. Bitte die neueste Frage verwenden."
    assert alerts[-1]["alert"] is True
    assert await live.bot_messages(ana) == before
    assert stale.startswith("i|")


@pytest.mark.parametrize("live", [RateLimit(per_chat=1, overall=30, window=1.0)], indirect=True)
async def test_a_429_is_waited_out_and_no_message_is_lost(live):
    ana = await live.person("Ana", "de")
    await live.http.post("/api/send", json={"user_id": ana, "text": f"/start {live.admin_code}"})
    # welcome and help come one right after the other: the second hits the per-chat limit
    messages = await live.wait_for(ana, lambda ms: len(ms) >= 2, timeout=15)
    assert live.api.rejected_429 >= 1
    assert "Willkommen!" in messages[0]["text"] and "/invite" in messages[1]["text"]
    assert len(messages) == 2  # waited out and sent once, not lost and not twice
    # the operator sees it: the 429s and the seconds Telegram asked to wait
    exposition = live.services.metrics.exposition().decode()
    assert metric(exposition, "casebot_bot_api_429_total") == live.api.rejected_429
    assert metric(exposition, "casebot_bot_api_retry_wait_seconds_total") >= live.api.rejected_429
    assert metric(exposition, 'casebot_bot_api_calls_total{method="sendMessage",status="4xx"}') == live.api.rejected_429


async def test_documents_photos_edits_and_deletions_reach_the_page(live):
    """What later features send (calendar files, exports, charts), through PTB over HTTP."""
    ana = await live.person("Ana", "ar")
    await live.bot.send_document(ana, document=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                                            filename="fallkonferenz.ics", caption="<b>Einladung</b>")
    png = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360"
                        "000002000100e221bc330000000049454e44ae426082")
    await live.bot.send_photo(ana, photo=png, caption="Fallzahlen")
    note = await live.bot.send_message(ana, "erste Fassung")
    await live.bot.edit_message_text("zweite Fassung", chat_id=ana, message_id=note.message_id)
    gone = await live.bot.send_message(ana, "wird gelöscht")
    await live.bot.delete_message(ana, gone.message_id)
    messages = await live.bot_messages(ana)
    assert [m["text"] for m in messages] == ["Einladung", "Fallzahlen", "zweite Fassung"]
    assert messages[0]["html"] == "<b>Einladung</b>" and messages[2]["revision"] == 1
    download = await live.http.get(f"/files/{messages[0]['document']['file_id']}")
    assert download.content.startswith(b"BEGIN:VCALENDAR")
    assert "fallkonferenz.ics" in download.headers["content-disposition"]
    picture = await live.http.get(f"/files/{messages[1]['photo']['file_id']}")
    assert picture.headers["content-type"] == "image/png" and picture.content == png


async def test_a_photo_sent_from_the_page_in_reply_to_a_pdf_arrives_as_telegram_sends_it(live):
    """The page's "reply with a photo or scan" under a PDF of the bot (a signed form going back)."""
    import base64

    ana = await live.person("Ana", "de")
    form = await live.bot.send_document(ana, document=b"%PDF-1.4\n", filename="LEV-2026-0001-consent-de.pdf")
    photo = b"\xff\xd8\xff\xe0 signed"
    answer = await live.http.post("/api/send_document", json={
        "user_id": ana, "filename": "scan.jpg", "mime_type": "image/jpeg", "reply_to": form.message_id,
        "content_b64": base64.b64encode(photo).decode()})
    assert answer.status_code == 200
    sent = [m for (chat, _), m in sorted(live.api.messages.items()) if chat == ana and not m.from_bot]
    assert sent[-1].photo is not None and sent[-1].photo["content"] == photo
    picture = await live.http.get(f"/files/{sent[-1].photo['file_id']}")
    assert picture.headers["content-type"] == "image/jpeg" and picture.content == photo


async def test_the_bot_api_answers_errors_like_telegram(live):
    from simulator.server import SIMULATOR_TOKEN

    wrong = await live.http.post("/bot123:wrong/getMe")
    assert wrong.status_code == 401 and wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    ana = await live.person("Ana", "de")
    broken = await live.http.post(f"/bot{SIMULATOR_TOKEN}/sendMessage",
                                  data={"chat_id": ana, "text": "<b>unclosed", "parse_mode": "HTML"})
    assert broken.status_code == 400 and "can't parse entities" in broken.json()["description"]
    unchanged = await live.http.post(f"/bot{SIMULATOR_TOKEN}/editMessageText",
                                     json={"chat_id": ana, "message_id": 999, "text": "x"})
    assert unchanged.json()["description"] == "Bad Request: message to edit not found"
    unknown = await live.http.post(f"/bot{SIMULATOR_TOKEN}/sendSticker", json={"chat_id": ana})
    assert unknown.status_code == 404


def test_demo_seed_is_fictitious_and_only_for_a_demo_database(tmp_path, clock):
    from bot.app import build_services
    from simulator.demo import NotADemoDatabase, seed
    from tests.conftest import make_settings

    real = make_settings(f"sqlite:///{tmp_path / 'real.sqlite3'}", tmp_path / "real")
    initialise(real, org_name="Stadt Leverkusen", prefix="LEV", districts=["I", "II", "III"], quiet=True)
    with pytest.raises(NotADemoDatabase):
        seed(build_services(real, clock=clock).store)
    demo = make_settings(f"sqlite:///{tmp_path / 'demo.sqlite3'}", tmp_path / "demo")
    initialise(demo, org_name="Demo-Kommune (fiktiv)", prefix="DEMO", districts=["I", "II", "III"], quiet=True)
    store = build_services(demo, clock=clock).store
    first = seed(store, cases=30)
    assert (first.staff_added, first.cases_added) == (5, 30)
    again = seed(store, cases=30)
    assert (again.staff_added, again.cases_added, again.people) == (0, 0, first.people)  # a second run adds nothing
    coordinator = store.staff.user_by_telegram_id(900_002)
    assert coordinator.label == "Kim (Koordination, Demo)"  # named, not "#2"
    cases = store.cases.list_for(coordinator, limit=100)
    assert len(cases) == 30 and all(c.code.startswith("DEMO-") for c in cases)
    detail = store.cases.reveal(coordinator, cases[0].code)
    assert detail.records["intake"]["family_name"].startswith("Demo-")


def test_people_added_in_the_page_never_take_the_demos_ids():
    from simulator.botapi import BotApi
    from simulator.demo import STAFF

    api = BotApi()
    added = [api.add_user(f"Person {n}", "de").id for n in range(7)]
    assert added == list(range(100_001, 100_008))
    assert not set(added) & {telegram_id for telegram_id, *_ in STAFF}
    api.add_user("Alex (Admin, Demo)", "de", 900_001)
    assert api.add_user("Noch jemand", "de").id == 100_008  # after the page's own, not after the demo's


@pytest.mark.parametrize("live", [RateLimit(per_chat=1, overall=2, window=1.0)], indirect=True)
async def test_the_dispatcher_waits_out_429s_and_sends_each_message_once(live):
    """A Bot API far stricter than Telegram (two messages a second): the dispatcher's pace of 30 a
    second runs into 429s, PTB's rate limiter waits them out, nothing is lost or doubled."""
    from datetime import timedelta

    from storage.models import Outbox
    from storage.types import Role

    store = live.services.store
    org_id = store.staff.first_organisation_id()
    people = []
    for n in range(5):
        person = await live.person(f"Koordination {n}", "de")
        code = store.staff.create_invitation(org_id=org_id, role=Role.COORDINATOR, district_id=None,
                                             expires_in=timedelta(days=1), created_by=None)
        people.append(store.staff.redeem_invitation(code=code, telegram_id=person, language="de"))
    with store.transaction() as s:
        for user in people:
            s.add(Outbox(org_id=org_id, user_id=user.id, kind="delivery-failed", ref_id=people[0].id,
                         due_at=store.clock.now()))
    sent = await live.services.dispatcher.dispatch_once(live.bot, plan=False)
    assert sent == 5
    assert live.api.rejected_429 >= 1
    for user in people:
        messages = await live.bot_messages(user.telegram_id)
        assert len(messages) == 1 and "konnte nicht zugestellt werden" in messages[0]["text"]


async def test_only_this_machines_pages_may_read_or_drive_the_simulator(live):
    """A page elsewhere (cross-site POST, or a DNS name rebound to 127.0.0.1) gets nothing."""
    person = await live.person()
    url = live.base_url
    assert (await live.http.get("/api/state", headers={"Host": "attacker.example:80"})).status_code == 403
    assert (await live.http.get("/", headers={"Host": "rebound.example"})).status_code == 403
    as_form = await live.http.post("/api/send", data={"user_id": str(person), "text": "/start x"})
    assert as_form.status_code == 415  # what a cross-site HTML form can send
    cross = await live.http.post("/api/send", json={"user_id": person, "text": "/help"},
                                 headers={"Origin": "https://attacker.example"})
    assert cross.status_code == 403
    fetched = await live.http.post("/api/send", json={"user_id": person, "text": "/help"},
                                   headers={"Sec-Fetch-Site": "cross-site"})
    assert fetched.status_code == 403
    assert await live.bot_messages(person) == []  # nothing of it reached the bot
    own = await live.http.post("/api/send", json={"user_id": person, "text": "/help"}, headers={"Origin": url})
    assert own.status_code == 200


@pytest.mark.parametrize("live", [RateLimit(per_chat=1, overall=30, window=1.0)], indirect=True)
async def test_a_429_for_one_chat_delays_that_chat_only(live):
    """Ana's second message in a second gets a 429 and waits it out; Ben, writing at the same
    time, waits for nothing. (0.1: PTB's limiter paused every chat on any 429.)"""
    limiter = live.bot.rate_limiter
    ana, ben = await live.person("Ana", "de"), await live.person("Ben", "de")
    await live.http.post("/api/send", json={"user_id": ana, "text": f"/start {live.admin_code}"})
    await live.wait_for(ana, lambda ms: len(ms) >= 1, timeout=15)
    await live.http.post("/api/send", json={"user_id": ben, "text": "/start"})  # a stranger: one refusal
    ana_messages = await live.wait_for(ana, lambda ms: len(ms) >= 2, timeout=15)
    assert live.api.rejected_429 >= 1 and len(ana_messages) == 2
    ben_messages = await live.wait_for(ben, lambda ms: len(ms) >= 1, timeout=15)
    assert len(ben_messages) == 1
    assert ben_messages[0]["id"] < ana_messages[1]["id"]  # Ben's answer did not wait for Ana's pause
    assert limiter.waited.get(ana, 0) > 0
    assert limiter.waited.get(ben, 0) == 0 and limiter.waited.get(None, 0) == 0
