"""The chat page in headless Chromium: a person registers and records an intake by clicking
buttons and typing, as a trainer would; the test reads what is on the screen."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from domain.roles import Role
from tests.flows import INTAKE_STEPS
from tests.live import live  # noqa: F401  (the fixture)

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture
def browser():  # noqa: ANN201
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are required in CI (.ci/run installs them)")
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="casebot-chromium-")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1100,900", f"--user-data-dir={profile}", "--lang=de"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


class Page:
    """What a person does on the chat page; every call runs off the event loop (the bot and
    the simulator keep running while the browser waits)."""

    def __init__(self, driver, chat_id: int) -> None:  # noqa: ANN001
        self.driver, self.chat = driver, f'.chat[data-user="{chat_id}"]'

    async def run(self, function, *args):  # noqa: ANN001, ANN002, ANN201
        return await asyncio.to_thread(function, *args)

    def _bot_texts(self) -> list[str]:
        # one script call: the page re-renders its lists on every change, element handles go stale
        return self.driver.execute_script(
            "return [...document.querySelectorAll(arguments[0] + ' .msg.bot .bubble')].map(b => b.innerText)",
            self.chat)

    async def wait_text(self, needle: str, timeout: float = 10) -> str:
        for _ in range(int(timeout / 0.1)):
            texts = await self.run(self._bot_texts)
            if texts and needle in texts[-1]:
                return texts[-1]
            await asyncio.sleep(0.1)
        raise AssertionError(f"{needle!r} not on screen; last bot message: {texts[-1] if texts else None!r}")

    def _type(self, text: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        box = self.driver.find_element(By.CSS_SELECTOR, f"{self.chat} textarea")
        box.send_keys(text)
        box.send_keys(Keys.ENTER)

    def _click(self, label: str) -> None:
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.by import By

        for _ in range(10):  # a re-render between finding and clicking: find it again
            try:
                buttons = self.driver.find_elements(By.CSS_SELECTOR, f"{self.chat} .msg.bot .keyboard button")
                exact = [b for b in buttons if b.text == label] or [b for b in buttons if b.text.startswith(label)]
                assert exact, f"no button {label!r} on screen: {[b.text for b in buttons]}"
                exact[-1].click()
                return
            except StaleElementReferenceException:
                continue
        raise AssertionError(f"button {label!r} kept changing under the click")

    async def type(self, text: str, expect: str) -> str:
        await self.run(self._type, text)
        return await self.wait_text(expect)

    async def click(self, label: str, expect: str) -> str:
        await self.run(self._click, label)
        return await self.wait_text(expect)


async def test_register_and_record_an_intake_in_the_browser(live, browser):  # noqa: F811
    store = live.services.store
    org_id = store.staff.first_organisation_id()
    code = store.staff.create_invitation(org_id=org_id, role=Role.CASE_MANAGER, district_id=store.staff.districts(org_id)[0].id,
                                         expires_in=timedelta(days=1), created_by=None)
    cem = await live.person("Cem", "de")
    page = await opened(live, browser, cem)
    await page.type(f"/start {code}", "/new")
    await page.type("/new", "Zuerst die Einwilligung")
    expectations = {  # what the screen shows after each step
        "consent": "Wie kam die Klientin", "source": "Vorname(n) der Klientin", "given_name": "Familienname der",
        "family_name": "Geburtsdatum?", "birth_date": "In welchem Bezirk", "district": "Adresse",
        "address": "Stadtteil?", "quarter": "Aufenthaltsstatus?", "residence_status": "Bis wann gilt",
        "residence_valid_until": "Datum der Einreise nach Deutschland?",
        "arrived_germany": "Datum des Zuzugs in die Kommune?", "arrived_municipality": "Welche Leistungen",
        "benefits": "anderen Fallmanagement", "other_case_management": "Welche Sprachen",
        "languages": "Welche Sprachen", "languages_done": "Erwachsene",
        "adults": "Kinder", "children": "Telefonnummer", "phone": "Notiz", "note": "bitte prüfen",
    }
    for name, (action, value) in INTAKE_STEPS.items():
        if name == "family_name":
            value = "حداد"  # right to left, in a left-to-right interface
        if action == "press":
            await page.click(value, expectations[name])
        else:
            await page.type(value, expectations[name])
    summary = await page.wait_text("bitte prüfen")
    assert "4. Familienname: حداد" in summary and "20. Notiz: Sucht einen Kita-Platz" in summary
    # what the case manager typed is gone from the chat once stored (chat hygiene); the
    # summary shows the right-to-left name inside the left-to-right line
    typed = await page.run(lambda: browser.execute_script(
        "return [...document.querySelectorAll(arguments[0] + ' .msg.me .bubble')]"
        ".filter(b => b.textContent.trim() === 'حداد').length", page.chat))
    assert typed == 0
    ARTIFACTS.mkdir(exist_ok=True)
    await page.run(browser.save_screenshot, str(ARTIFACTS / "simulator-intake-summary.png"))
    saved = await page.click("✔ Speichern", "Gespeichert als Fall LEV-2026-0001")
    assert "Nächster Schritt: die Bestandsaufnahme" in saved
    await page.run(browser.save_screenshot, str(ARTIFACTS / "simulator-intake.png"))
    assert (ARTIFACTS / "simulator-intake.png").stat().st_size > 10_000
    # the case file at phone width: the timeline and its buttons
    await page.type("/case LEV-2026-0001", "Letzter Kontakt")
    timeline = await page.click("🕓 Fallakte", "Fallakte LEV-2026-0001")
    assert "1 Eintrag" in timeline and "Erstberatung · Case Manager:in" in timeline
    await page.run(browser.save_screenshot, str(ARTIFACTS / "simulator-casefile.png"))


PHONE = (412, 915)  # a common Android phone, in CSS pixels


async def on_phone(live, browser, person: int) -> Page:  # noqa: ANN001
    """The chat page at phone width, once the person's chat is on it."""
    await asyncio.to_thread(browser.set_window_size, *PHONE)
    return await opened(live, browser, person)


async def opened(live, browser, person: int) -> Page:  # noqa: ANN001
    """The chat page, once the person's chat is on it."""
    await asyncio.to_thread(browser.get, live.base_url)
    page = Page(browser, person)
    for _ in range(50):  # the page opens the first people's chats by itself
        if await page.run(lambda: bool(browser.find_elements("css selector", page.chat))):
            break
        await asyncio.sleep(0.1)
    return page


def _fits(driver, selector: str) -> dict:  # noqa: ANN001
    """Where an element lies against the viewport, and whether the page scrolls sideways."""
    return driver.execute_script("""
        const box = document.querySelector(arguments[0]).getBoundingClientRect();
        return {left: box.left, right: box.right, width: window.innerWidth,
                sideways: document.documentElement.scrollWidth > window.innerWidth};""", selector)


async def test_the_chat_and_the_digest_chart_at_phone_width(live, browser):  # noqa: F811
    """At 412 px the chat column is whole (the people are a row above it), pop-ups stay inside
    it, and the digest's chart arrives drawn for a phone (a screenshot is kept as an artefact)."""
    from datetime import date

    store = live.services.store
    org_id = store.staff.first_organisation_id()
    code = store.staff.create_invitation(org_id=org_id, role=Role.COORDINATOR, district_id=None,
                                         expires_in=timedelta(days=1), created_by=None)
    kim = await live.person("Kim", "de")
    page = await on_phone(live, browser, kim)
    width = await page.run(lambda: browser.execute_script("return window.innerWidth"))
    assert width <= PHONE[0]
    await page.type(f"/start {code}", "/digest")
    fits = await page.run(_fits, browser, page.chat)
    assert fits["left"] >= 0 and fits["right"] <= fits["width"] + 0.5 and not fits["sideways"], fits
    # cases for the chart: the digest draws open cases per case manager and needs by domain
    manager_code = store.staff.create_invitation(org_id=org_id, role=Role.CASE_MANAGER,
                                                 district_id=store.staff.districts(org_id)[0].id,
                                                 expires_in=timedelta(days=1), created_by=None)
    manager = store.staff.redeem_invitation(code=manager_code, telegram_id=555_001, language="de",
                                            display_name="Cem Yılmaz")
    for n in range(6):
        store.cases.create(user=manager, district_id=manager.district_id, assigned_to=manager.id,
                           person_index=f"phone-{n}", consent_version="2026-01", consent_at=store.clock.now(),
                           next_due_on=date(2026, 12, 8), record="intake", values={"given_name": f"P{n}"})
    await page.type("/digest", "kommt von selbst")
    for _ in range(100):
        shown = await page.run(lambda: browser.execute_script(
            "const i = [...document.querySelectorAll(arguments[0] + ' .bubble img')].pop();"
            "if (!i || !i.complete || !i.naturalWidth) return null;"
            "i.scrollIntoView({block: 'center'}); const b = i.getBoundingClientRect();"
            "return {left: b.left, right: b.right, width: window.innerWidth, natural: i.naturalWidth};", page.chat))
        if shown:
            break
        await asyncio.sleep(0.1)
    assert shown and shown["left"] >= 0 and shown["right"] <= shown["width"], shown
    assert shown["natural"] == 840  # bot/chart.py: 4.2 inches at 200 dpi, shown about 360 px wide
    # a pop-up (the digest setting's "Saved.") stays inside the chat
    await page.run(page._click, "täglich")
    for _ in range(50):
        toast = await page.run(lambda: browser.execute_script(
            "const t = document.querySelector('.toast'); if (!t) return null;"
            "const b = t.getBoundingClientRect(); return {left: b.left, right: b.right, width: window.innerWidth};"))
        if toast:
            break
        await asyncio.sleep(0.05)
    assert toast and toast["left"] >= 0 and toast["right"] <= toast["width"], toast
    ARTIFACTS.mkdir(exist_ok=True)
    await page.run(browser.save_screenshot, str(ARTIFACTS / "digest-chart-phone.png"))
    assert (ARTIFACTS / "digest-chart-phone.png").stat().st_size > 10_000


async def test_documents_and_a_signed_scan_in_arabic_at_phone_width(live, browser, tmp_path):  # noqa: F811
    """An Arabic-speaking case manager on a phone: the documents menu right to left, a consent
    form as PDF, and the signed form photographed and sent back with the page's reply button."""
    from datetime import date

    store = live.services.store
    org_id = store.staff.first_organisation_id()
    district = store.staff.districts(org_id)[0].id
    invitation = store.staff.create_invitation(org_id=org_id, role=Role.CASE_MANAGER, district_id=district,
                                               expires_in=timedelta(days=1), created_by=None)
    layla = await live.person("Layla", "ar")
    page = await on_phone(live, browser, layla)
    await page.type(f"/start {invitation}", "/new")
    manager = store.staff.user_by_telegram_id(layla)
    case = store.cases.create(user=manager, district_id=district, assigned_to=manager.id, person_index="phone-doc",
                              consent_version="2026-01", consent_at=store.clock.now(), next_due_on=date(2026, 12, 8),
                              record="intake", values={"given_name": "Amina", "family_name": "Haddad",
                                                       "birth_date": "1995-02-01", "languages": ["ar"]})
    menu = await page.type(f"/documents {case.code}", "📄 مستندات")
    assert "الموافقة على التوثيق: لم تُوقَّع على الورق بعد." in menu
    await page.click("✍", "بأي لغة إلى جانب الألمانية؟")
    await page.run(page._click, "★")
    await page.wait_text(".pdf")
    fits = await page.run(_fits, browser, page.chat)
    assert fits["left"] >= 0 and fits["right"] <= fits["width"] + 0.5 and not fits["sideways"], fits

    def reply_with(name: str, content: bytes) -> None:
        scan = tmp_path / name
        scan.write_bytes(content)
        browser.execute_script(
            "const i = [...document.querySelectorAll(arguments[0] + ' .msg.bot .bubble input[type=file]')].pop();"
            "i.style.display = 'block';", page.chat)
        browser.find_elements("css selector", f"{page.chat} .msg.bot .bubble input[type=file]")[-1].send_keys(str(scan))

    await page.run(reply_with, "signed.jpg", b"\xff\xd8\xff\xe0" + b"signed on paper" * 50)
    kept = await page.wait_text("حُذفت الصورة من هذه المحادثة.")
    assert kept.startswith("📎") and case.code in kept
    assert [str(d) for (d,) in _rows(store, "SELECT consent_signed_on FROM client_case")] == [str(store.clock.now().date())]
    ARTIFACTS.mkdir(exist_ok=True)
    await page.run(browser.save_screenshot, str(ARTIFACTS / "documents-ar-phone.png"))
    # with the PIN locked, a second page waits under the answer that quotes it, kept by one press after /unlock
    live.services.settings.pin_required = True
    await page.type("/pin 4711", "تم تعيين رمز PIN.")
    await page.type("/lock", "مقفل.")
    await page.run(reply_with, "page-2.jpg", b"\xff\xd8\xff\xe0" + b"second page" * 50)
    held = await page.wait_text("«احفظ هذا المسح»")
    assert held.startswith("📷") and held.startswith("🔒", held.index("\n") + 1)  # the scan quoted above the answer
    fits = await page.run(_fits, browser, page.chat)
    assert fits["left"] >= 0 and fits["right"] <= fits["width"] + 0.5 and not fits["sideways"], fits
    await page.run(browser.save_screenshot, str(ARTIFACTS / "scan-held-ar-phone.png"))
    await page.type("/unlock 4711", "تم الفتح.")
    kept = await page.click("📎 احفظ هذا المسح", "حُذفت الصورة من هذه المحادثة.")
    assert case.code in kept and _rows(store, "SELECT COUNT(*) FROM case_attachment") == [(2,)]
    assert "«احفظ هذا المسح»" not in " ".join(await page.run(page._bot_texts))  # the answer left with the scan


def _rows(store, sql: str) -> list:  # noqa: ANN001
    from sqlalchemy import text

    with store.engine.connect() as connection:
        return list(connection.execute(text(sql)))


async def test_a_meldebogen_and_the_districts_in_arabic_at_phone_width(live, browser):  # noqa: F811
    """An Arabic-speaking coordinator on a phone opens a Meldebogen from the inbox (Latin names
    and the phone number whole inside right-to-left text); an Arabic-speaking admin reads the
    districts with their quarters and borders. Nothing leaves the chat column."""
    store = live.services.store
    org_id = store.staff.first_organisation_id()
    invite = lambda role: store.staff.create_invitation(org_id=org_id, role=role, district_id=None,  # noqa: E731
                                                        expires_in=timedelta(days=1), created_by=None)
    referrer = store.staff.redeem_invitation(code=invite(Role.REFERRER), telegram_id=990001, language="de",
                                             display_name="Frau Berger (FB 50)")
    store.requests.send(referrer, source="fb50", body={"given_name": "Amina", "family_name": "Haddad",
                                                       "birth_date": "1995-02-01", "phone": "+49 171 1234567",
                                                       "reason": "تبحث عن سكن ومكان في الحضانة"})
    admin = store.staff.user_by_id(store.staff.redeem_invitation(code=invite(Role.ADMIN), telegram_id=990002,
                                                                 language="de").id)
    first = store.staff.districts(org_id)[0]
    store.staff.save_district(admin, code=first.code, name="Opladen", quarters=("Rheindorf", "Hitdorf", "Bürrig"),
                              border=("Hitdorf",), neighbours=(store.staff.districts(org_id)[1].code,))
    noor = await live.person("Noor", "ar")
    page = await on_phone(live, browser, noor)
    await page.type(f"/start {invite(Role.COORDINATOR)}", "/inbox")
    inbox = await page.type("/inbox", "M-1")
    assert inbox.startswith("الوارد") or "الوارد" in inbox
    shown = await page.click("📨 M-1", "Amina")
    assert "Haddad" in shown and "+49 171 1234567" in shown and "تبحث عن سكن" in shown
    fits = await page.run(_fits, browser, page.chat)
    assert fits["left"] >= 0 and fits["right"] <= fits["width"] + 0.5 and not fits["sideways"], fits
    ARTIFACTS.mkdir(exist_ok=True)
    await page.run(browser.save_screenshot, str(ARTIFACTS / "meldebogen-ar-phone.png"))
    sami = await live.person("Sami", "ar")
    page = await on_phone(live, browser, sami)
    await page.type(f"/start {invite(Role.ADMIN)}", "/districts")
    districts = await page.type("/districts", "Opladen")
    assert "Hitdorf" in districts and "المناطق" in districts
    fits = await page.run(_fits, browser, page.chat)
    assert fits["left"] >= 0 and fits["right"] <= fits["width"] + 0.5 and not fits["sideways"], fits
    await page.run(browser.save_screenshot, str(ARTIFACTS / "districts-ar-phone.png"))
