"""Documents on paper (issue 13): bilingual PDFs made from a case, read back from the PDF; signed
scans sent back in reply, kept encrypted, listed, fetched and erased with the case. Through the
real Application on SQLite and PostgreSQL; the PDFs are read with pypdf and poppler."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import text

from bot.buttons import ATTACHMENT, DOCUMENT
from bot.choices import LIFE_DOMAINS
from bot.documents.content import document_data
from bot.documents.pdf import RenderFailed
from domain.documents import DOCUMENT_LANGUAGES, DocumentKind
from domain.roles import Role
from tests.flows import run_intake
from tests.helpers import rows
from tests.test_cycle import CODE, steps

ARTIFACTS = Path(__file__).parent / "artifacts"
# a "photo" of a signed form: random bytes behind a JPEG signature, so that no part of it can be
# found in the database by chance, and a marker to look for
SCAN = b"\xff\xd8\xff\xe0" + b"SIGNED-BY-AMINA" + os.urandom(6000)
SIGNED_PDF = b"%PDF-1.4\n% signed consent SIGNED-PDF-MARK\n" + os.urandom(3000)
# direction marks, and the zero-width non-joiner of Farsi (which poppler puts a letter off)
BIDI_MARKS = re.compile(r"[\u061c\u200c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# lam-alef is one glyph (a ligature), which poppler spells out in the wrong order: words with it
# are left out of the order checks (the words around them still say the order)
LAM_ALEF = re.compile(r"ل[اأإآ]")


def pdf_of(message) -> bytes:  # noqa: ANN001
    assert message.document and message.document["file_name"].endswith(".pdf"), message.text
    return message.document["content"]


def text_of(pdf: bytes) -> list[str]:
    """The text of each page, as pypdf extracts it."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(pdf_or_pages: bytes | list[str]) -> str:
    """All the text on one line: a phrase is found however the page wrapped it."""
    pages = text_of(pdf_or_pages) if isinstance(pdf_or_pages, bytes) else pdf_or_pages
    return " ".join(" ".join(pages).split())


def logical_text(pdf: bytes, tmp_path: Path) -> str:
    """The text as poppler extracts it: right-to-left runs in logical (reading) order."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True).stdout
    return BIDI_MARKS.sub("", out)


def in_order(text: str, words: list[str]) -> bool:
    """Whether the words appear in `text` in this order."""
    position = 0
    for word in words:
        found = text.find(word, position)
        if found < 0:
            return False
        position = found + len(word)
    return True


async def assess_with_notes(user, notes: dict[str, tuple[str, str]]) -> None:  # noqa: ANN001
    """An assessment: {domain: (need level, note)}; other domains without need."""
    await user.send(f"/assess {CODE}")
    for domain in LIFE_DOMAINS:
        level, note = notes.get(domain.value, ("kein Bedarf", ""))
        await user.press(level)
        if level != "kein Bedarf":
            await user.send(note)
    await steps(user, ">Wohnen", ">Fertig", ">Fertig", ">✔ Speichern")


@pytest.fixture
async def cm(bot):  # noqa: ANN001, ANN201
    """A case manager with a case (the client speaks Arabic), an assessment with a need in work and
    in health, a goal, and a referral to the Jobcenter with consent to share work only."""
    user = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(user)
    await assess_with_notes(user, {"work": ("hoch", "Sucht Arbeit als Schneiderin"),
                                   "health": ("hoch", "Diabetes Typ 2, Insulin")})
    await steps(user, f"/case {CODE}", ">➕ Neues Ziel", ">Qualifizierung", "Deutschkurs B1 abschließen",
                ">die Klient:in", "30.06.2027", ">✔ Speichern")
    await steps(user, f"/refer {CODE}", ">Qualifizierung", ">★ Jobcenter", "Arbeitssuche, Anerkennung des Abschlusses",
                ">Einwilligung erteilt", ">Qualifizierung", ">Fertig", ">✔ Speichern")
    return user


async def make(user, label: str, language: str = "★ Arabisch"):  # noqa: ANN001, ANN201
    """From /documents: the document with this button, in this language; returns the PDF message."""
    await user.send(f"/documents {CODE}")
    await user.press(label)
    sent = await user.press(language)
    return sent[-1]


async def test_a_consent_form_in_german_and_the_clients_language_arrives_as_pdf(bot, cm):
    menu = (await cm.send(f"/documents {CODE}"))[-1]
    assert menu.text.startswith("📄 Dokumente zu LEV-2026-0001")
    assert "Einwilligung in die Dokumentation: noch nicht auf Papier unterschrieben." in menu.text
    assert menu.button_texts() == ["✍ Einwilligung in die Dokumentation", "🎯 Zielvereinbarung",
                                   "🗓 Merkblatt für die Klientin / den Klienten", "✍ Einwilligung: Jobcenter",
                                   "✉ Überleitung: Jobcenter", "📂 Fall"]
    await cm.press("✍ Einwilligung in die Dokumentation", menu)
    languages = cm.last_with_buttons()
    assert "In welcher Sprache neben Deutsch?" in languages.text
    # the client's language from the intake (Arabic) first, marked
    assert languages.button_texts()[0] == "★ Arabisch"
    assert set(languages.button_texts()) >= {"Englisch", "Türkisch", "Persisch", "Ukrainisch", "Russisch", "Nur Deutsch"}
    sent = (await cm.press("★ Arabisch", languages))[-1]
    assert sent.document["file_name"] == "LEV-2026-0001-consent-de-ar.pdf"  # the code, never the name
    assert sent.text.startswith("📄 Einwilligung in die Dokumentation · LEV-2026-0001 (Deutsch · Arabisch).")
    pages = text_of(pdf_of(sent))
    whole = flat(pages)
    assert "Einwilligung in die Dokumentation in der Fallakte" in whole
    assert "Kommunale Integrationsmanagement (KIM) Stadt Leverkusen" in whole
    assert "Haddad, Amina" in whole and "01.02.1995" in whole  # the person who signs
    assert "Textfassung 2026-01" in whole  # the version the intake recorded
    assert all("LEV-2026-0001" in page for page in pages)
    assert "الموافقة" in whole  # the Arabic half
    assert rows(bot, "SELECT kind, language, version FROM case_document") == [("consent", "ar", "2026-01")]
    actions = [r[0] for r in rows(bot, "SELECT action FROM audit_event WHERE action LIKE 'document.%' ORDER BY id")]
    assert actions == ["document.make", "document.issue"]


async def test_the_referral_letter_carries_only_what_the_client_consented_to_share(bot, cm):
    await cm.send("/contact 0214 406-1234, kim@leverkusen.de, Mo–Do 9–12")
    assert "Gespeichert. Auf Dokumenten steht jetzt: 0214 406-1234" in cm.last().text
    letter = await make(cm, "✉ Überleitung: Jobcenter", "Nur Deutsch")
    assert letter.document["file_name"] == "LEV-2026-0001-letter-de.pdf"
    whole = flat(pdf_of(letter))
    assert "Überleitungsbogen" in whole and "Jobcenter" in whole
    assert "Arbeitssuche, Anerkennung des Abschlusses" in whole  # the purpose
    assert "Sucht Arbeit als Schneiderin" in whole and "Deutschkurs B1 abschließen" in whole  # the shared domain
    assert "0214 406-1234" in whole  # how to reach the case manager
    assert "Haddad, Amina" in whole
    # nothing the client did not consent to share: another life domain, address, phone, status
    for secret in ("Diabetes", "Gesundheit", "Kölner Str", "1234567", "Aufenthaltserlaubnis", "Opladen", "SGB II"):
        assert secret not in whole, secret


async def test_no_letter_without_consent_and_forged_document_buttons_are_refused(bot, cm):
    await steps(cm, f"/refer {CODE}", ">Gesundheit", ">★ Gesundheitsamt", "Impfberatung", ">Keine Einwilligung",
                ">✔ Speichern")
    menu = (await cm.send(f"/documents {CODE}"))[-1]
    assert "✍ Einwilligung: Gesundheitsamt" in menu.button_texts()
    assert "✉ Überleitung: Gesundheitsamt" not in menu.button_texts()
    assert "Ein Überleitungsbogen ist möglich, sobald die Einwilligung" in menu.text
    health = rows(bot, "SELECT r.id FROM referral r JOIN service s ON s.id = r.service_id WHERE s.key = 'gesundheitsamt'")[0][0]
    await cm.press_data(DOCUMENT.data(CODE, "letter", health, "de"), menu)
    assert cm.alerts()[-1].startswith("Es liegt keine Einwilligung zur Weitergabe an diese Stelle vor")
    # the consent form for that referral proposes its own life domain
    consent = await make(cm, "✍ Einwilligung: Gesundheitsamt", "Nur Deutsch")
    whole = flat(pdf_of(consent))
    assert "Gesundheitsamt" in whole and "Impfberatung" in whole and "Gesundheit" in whole
    # another case manager's forged buttons: refused, nothing made
    other = await bot.register(Role.CASE_MANAGER, "II")
    before = len(rows(bot, "SELECT id FROM case_document"))
    await other.send("/help")
    await other.press_data(DOCUMENT.data(CODE, "consent", 0, "de"), other.last())
    await other.press_data(ATTACHMENT.data(CODE), other.last())
    assert other.alerts() == ["Diese Taste ist nicht mehr gültig."] * 2
    assert not [m for m in other.messages() if m.document]
    assert len(rows(bot, "SELECT id FROM case_document")) == before


async def test_the_handout_has_appointments_services_and_contact_but_no_name(bot, cm):
    store = bot.services.store
    org_id = store.staff.first_organisation_id()
    catalogue = store.catalogue.export(org_id)
    for row in catalogue:
        if row["key"] == "jobcenter":
            row.update(address="Berliner Platz 1, 51379 Leverkusen", hours="Mo–Fr 8–12, Do 14–18")
    store.catalogue.import_rows(org_id, catalogue, user_id=None)
    await cm.send("/contact 0214 406-1234")
    handout = await make(cm, "🗓 Merkblatt", "Ukrainisch")
    whole = flat(pdf_of(handout))
    assert "Ihr Fallcode ist LEV-2026-0001" in whole
    assert "Berliner Platz 1, 51379 Leverkusen" in whole and "Mo–Fr 8–12, Do 14–18" in whole
    assert "0214 406-1234" in whole
    assert "Ваші наступні зустрічі" in whole  # Ukrainian beside German
    assert "Haddad" not in whole and "Amina" not in whole and "01.02.1995" not in whole


async def test_every_document_in_every_language_reads_back_and_renders(bot, cm, tmp_path):
    """Each kind in each of the seven languages, made as the chat makes it: the German and the
    other language's title are in it, the code is on every page, poppler renders it, and Arabic and
    Farsi read in logical order."""
    services = bot.services
    staff = services.store.staff.user_by_telegram_id(cm.id)
    referral = rows(bot, "SELECT id FROM referral")[0][0]
    for n in range(30):  # a goal agreement of more than one page
        services.store.casework.add_goal(staff, CODE, domain="language", wording=f"Ziel {n}: " + "Deutsch üben " * 12,
                                         responsible="client", due_on=date(2027, 6, 30))
    german = services.catalogs.get("de")
    checked: list[int] = []  # how many words of each right-to-left title had their order checked
    for kind in DocumentKind:
        subject = services.store.documents.subject(staff, CODE, kind, referral if kind.per_referral else None)
        for language in DOCUMENT_LANGUAGES:
            other = services.catalogs.get(language)
            translators = [german] + ([other] if language != "de" else [])
            pdf = services.pdf.render(kind, document_data(subject, translators, today=services.local_now().date()))
            pages = text_of(pdf)
            whole = flat(pages)
            if kind is DocumentKind.AGREEMENT:
                assert len(pages) >= 2 and "Ziel 29" in whole, (language, len(pages))
            assert german.plain(kind.label) in whole.replace("\n", " "), (kind, language)
            assert all(CODE in page for page in pages), (kind, language)
            logical = logical_text(pdf, tmp_path)
            title = [word for word in BIDI_MARKS.sub("", other.plain(kind.label)).split() if not LAM_ALEF.search(word)]
            # words in reading order (poppler gives right-to-left runs in logical order; pypdf in visual)
            assert in_order(" ".join(logical.split()), title), (kind, language, title)
            if other.rtl:
                checked.append(len(title))
            (tmp_path / "doc.pdf").write_bytes(pdf)
            rendered = subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(tmp_path / "doc.pdf"),
                                       str(tmp_path / "page")], capture_output=True)
            assert rendered.returncode == 0 and not rendered.stderr, (kind, language, rendered.stderr)
            if kind is DocumentKind.HANDOUT and language == "ar":  # one page to look at, kept by the run
                ARTIFACTS.mkdir(exist_ok=True)
                subprocess.run(["pdftoppm", "-r", "80", "-png", "-singlefile", "-f", "1", "-l", "1",
                                str(tmp_path / "doc.pdf"), str(ARTIFACTS / "handout-ar")], check=True)
    assert (ARTIFACTS / "handout-ar.png").stat().st_size > 10_000
    assert sum(n >= 2 for n in checked) >= 6, checked


def _database_bytes(bot) -> bytes:  # noqa: ANN001
    """What lies on disk (SQLite: the file and its journal) or, on PostgreSQL, every bytea column."""
    url = bot.settings.database_url
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    return b"".join(bytes(r[0]) for r in rows(bot, "SELECT content_enc FROM case_attachment"))


async def test_signed_scans_are_kept_encrypted_listed_fetched_and_erased(bot, cm, clock):
    consent = await make(cm, "✍ Einwilligung in die Dokumentation")
    answer = await cm.send_photo(SCAN, reply_to=consent)
    assert answer[-1].text.startswith("📎 Einwilligung in die Dokumentation (unterschrieben) beim Fall LEV-2026-0001 "
                                      "abgelegt, auf Papier unterschrieben am 24.11.2026.")
    assert "Das Foto wurde aus diesem Chat gelöscht." in answer[-1].text
    assert not [m for m in cm.fake.api.chat(cm.id) if m.photo and not m.from_bot]  # gone from the chat
    assert [str(r[0]) for r in rows(bot, "SELECT consent_signed_on FROM client_case")] == ["2026-11-24"]
    # the same scan sent again is not kept twice (and leaves the chat all the same)
    again = await cm.send_photo(SCAN, reply_to=consent)
    assert again[-1].text == ("📎 Dieser Scan ist schon beim Fall LEV-2026-0001 abgelegt; er wurde nicht zweimal "
                              "gespeichert.\nDas Foto wurde aus diesem Chat gelöscht.")
    assert rows(bot, "SELECT COUNT(*) FROM case_attachment") == [(1,)]
    assert not [m for m in cm.fake.api.chat(cm.id) if m.photo and not m.from_bot]
    agreement = await make(cm, "🎯 Zielvereinbarung", "Nur Deutsch")
    assert "Deutschkurs B1 abschließen" in flat(pdf_of(agreement))
    await cm.send_document("unterschrieben.pdf", SIGNED_PDF, "application/pdf", reply_to=agreement)
    assert rows(bot, "SELECT media_type, size FROM case_attachment ORDER BY id") == [
        ("image/jpeg", len(SCAN)), ("application/pdf", len(SIGNED_PDF))]
    assert [(k, str(d)) for k, d in rows(bot, "SELECT kind, signed_on FROM case_document WHERE signed_on IS NOT NULL ORDER BY id")] == [
        ("consent", "2026-11-24"), ("agreement", "2026-11-24")]
    stored = _database_bytes(bot)
    assert b"SIGNED-BY-AMINA" not in stored and SCAN[-64:] not in stored and b"SIGNED-PDF-MARK" not in stored
    # the menu says it; the list shows both; each is fetched as it came
    menu = (await cm.send(f"/documents {CODE}"))[-1]
    assert "Einwilligung in die Dokumentation: auf Papier unterschrieben am 24.11.2026." in menu.text
    await cm.press("📎 Unterschriebenes (2)", menu)
    listing = cm.last()
    assert "1. Einwilligung in die Dokumentation · 24.11.2026 · Arabisch · Foto" in listing.text
    assert "2. Zielvereinbarung · 24.11.2026 · Deutsch · PDF" in listing.text
    fetched = (await cm.press("1", listing))[-1]
    assert fetched.document["file_name"] == "LEV-2026-0001-consent-signed-1.jpg"
    assert fetched.document["content"] == SCAN
    fetched = (await cm.press("2", listing))[-1]
    assert fetched.document["content"] == SIGNED_PDF
    assert len(rows(bot, "SELECT id FROM audit_event WHERE action = 'attachment.read'")) == 2
    # the case file's timeline names them, and the entry hands out its scan
    await cm.send(f"/case {CODE}")
    timeline = (await cm.press("🕓 Fallakte"))[-1]
    assert "Unterschriebenes Formular: Einwilligung in die Dokumentation" in timeline.text
    entry = (await cm.press("2", timeline))[-1]  # newest first: the agreement's scan, then the consent's
    assert "Dokument: Einwilligung in die Dokumentation" in entry.text
    assert (await cm.press("📎 Scan holen", entry))[-1].document["content"] == SCAN
    # a scan that does not decrypt (damaged) is said so; the other still comes
    store = bot.services.store
    damaged = bytearray(rows(bot, "SELECT content_enc FROM case_attachment WHERE media_type = 'application/pdf'")[0][0])
    damaged[40] ^= 1
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE case_attachment SET content_enc = :c WHERE media_type = 'application/pdf'"),
                           {"c": bytes(damaged)})
    await cm.press("2", listing)
    assert cm.alerts()[-1] == "Die Details dieses Falls können nicht gelesen werden: Sie wurden gelöscht oder beschädigt."
    assert (await cm.press("1", listing))[-1].document["content"] == SCAN
    # the coordinator's Art. 15 copy lists the documents and the signed forms kept
    coordinator = store.staff.user_by_telegram_id((await bot.register(Role.COORDINATOR, None)).id)
    copy = store.export.export(coordinator, CODE)
    assert copy["case"]["consent_to_documentation"]["signed_on_paper"] == "2026-11-24"
    assert [(d["kind"], d["signed_on_paper"], [f["type"] for f in d["signed_forms_kept"]]) for d in copy["documents"]] == [
        ("consent", "2026-11-24", ["image/jpeg"]), ("agreement", "2026-11-24", ["application/pdf"])]
    # erasure of the case erases them (it takes its minutes: four eyes)
    clock.advance(timedelta(minutes=5))
    store.erasure.erase(CODE, org_id=store.staff.first_organisation_id(), actor_id=None, reason="request")
    assert rows(bot, "SELECT COUNT(*) FROM case_attachment") == [(0,)]
    assert rows(bot, "SELECT COUNT(*) FROM case_document") == [(0,)]
    await cm.press("1", listing)
    assert cm.alerts()[-1] == "Diese Taste ist nicht mehr gültig."


async def test_wrong_scans_are_refused_and_nothing_is_stored(bot, cm):
    consent = await make(cm, "✍ Einwilligung in die Dokumentation", "Nur Deutsch")
    handout = await make(cm, "🗓 Merkblatt", "Nur Deutsch")
    # not a photo, PDF, JPEG, PNG or WebP by its content, whatever its name says
    refused = await cm.send_document("scan.pdf", b"MZ\x90\x00 not a pdf", "application/pdf", reply_to=consent)
    assert refused[-1].text.startswith("Anhängen lässt sich nur ein Foto oder ein Scan als PDF, JPEG, PNG oder WebP")
    # a handout is not signed
    assert (await cm.send_photo(SCAN, reply_to=handout))[-1].text.startswith("Unterschrieben werden nur Einwilligungen")
    # larger than Telegram lets a bot fetch
    big = await cm.send_document("scan.pdf", b"%PDF-" + b"0" * (20 * 1024 * 1024), "application/pdf", reply_to=consent)
    assert big[-1].text.startswith("Die Datei ist größer als 20 MB")
    # Telegram does not answer when the file is fetched: nothing stored, the photo stays to be sent again
    bot.fake.failing["getFile"] = 1
    timed_out = await cm.send_photo(SCAN, reply_to=consent)
    assert timed_out[-1].text.startswith("Die Datei ließ sich nicht von Telegram abrufen; nichts wurde gespeichert.")
    assert [m for m in cm.fake.api.chat(cm.id) if m.photo and not m.from_bot]
    # a photo that is no reply to a document of ours is not taken
    plain = await cm.send_photo(SCAN)
    assert "Fotos, Dateien und Sticker werden nicht gespeichert" in plain[0].text
    assert rows(bot, "SELECT COUNT(*) FROM case_attachment") == [(0,)]
    assert [r[0] for r in rows(bot, "SELECT consent_signed_on FROM client_case")] == [None]


async def test_a_database_failure_while_a_scan_is_kept_loses_nothing(bot, cm, monkeypatch):
    """The scan stays in the chat to be sent again, nothing half-stored, the user told."""
    from sqlalchemy.exc import OperationalError

    consent = await make(cm, "✍ Einwilligung in die Dokumentation", "Nur Deutsch")

    def down(*_, **__):  # noqa: ANN002, ANN003, ANN202
        raise OperationalError("INSERT", {}, Exception("database is down"))

    monkeypatch.setattr(bot.services.store.documents, "attach", down)
    answer = await cm.send_photo(SCAN, reply_to=consent)
    assert answer[-1].text.startswith("Entschuldigung, etwas ist schiefgegangen.")
    assert [m for m in cm.fake.api.chat(cm.id) if m.photo and not m.from_bot]
    monkeypatch.undo()
    assert rows(bot, "SELECT COUNT(*) FROM case_attachment") == [(0,)]
    again = await cm.send_photo(SCAN, reply_to=consent)
    assert again[-1].text.startswith("📎 Einwilligung in die Dokumentation (unterschrieben) beim Fall")
    assert rows(bot, "SELECT COUNT(*) FROM case_attachment") == [(1,)]


async def test_a_document_that_cannot_be_made_is_said_and_nothing_is_recorded(bot, cm, monkeypatch):
    def broken(*_, **__):  # noqa: ANN002, ANN003, ANN202
        raise RenderFailed("the consent template did not compile")

    monkeypatch.setattr(bot.services.pdf, "render", broken)
    await cm.send(f"/documents {CODE}")
    await cm.press("✍ Einwilligung in die Dokumentation")
    await cm.press("★ Arabisch")
    assert cm.alerts()[-1] == "Das Dokument konnte nicht erstellt werden; nichts wurde geändert. Bitte später noch einmal versuchen."
    assert not [m for m in cm.messages() if m.document]
    assert rows(bot, "SELECT COUNT(*) FROM case_document") == [(0,)]


async def test_an_arabic_speaking_coordinator_gets_the_menu_right_to_left(bot, cm):
    coordinator = await bot.register(Role.COORDINATOR, None, language_code="ar")
    menu = (await coordinator.send(f"/documents {CODE}"))[-1]
    assert menu.text.startswith("📄 مستندات \u2068LEV-2026-0001\u2069")
    await coordinator.press(menu.button_texts()[0], menu)
    assert "بأي لغة إلى جانب الألمانية؟" in coordinator.last().text
    sent = (await coordinator.press(coordinator.last().button_texts()[0]))[-1]
    assert sent.document["file_name"] == "LEV-2026-0001-consent-de-ar.pdf"


def test_poppler_is_there() -> None:
    """The tests read documents back with poppler (.ci/run installs Debian's poppler-utils)."""
    assert shutil.which("pdftoppm") and shutil.which("pdftotext")


async def test_a_translator_corrects_the_consent_text_in_the_chat_and_the_next_form_has_it(bot, cm):
    from bot.documents.content import CONSENT_TEXT
    from tests.test_locales import edited, upload

    translator = await bot.register(Role.TRANSLATOR, None)
    corrected = "Ich willige ein, dass das KIM {organisation} meine Daten in einer Fallakte dokumentiert (korrigiert)."
    await upload(translator, "de.po", edited("de", {CONSENT_TEXT[0]: corrected}))
    await translator.press("✔ Live schalten")
    consent = await make(cm, "✍ Einwilligung in die Dokumentation", "Nur Deutsch")
    whole = flat(pdf_of(consent))
    assert "Ich willige ein, dass das KIM Stadt Leverkusen meine Daten in einer Fallakte dokumentiert (korrigiert)." in whole
    assert "Textfassung 2026-01" in whole
