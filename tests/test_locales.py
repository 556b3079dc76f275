"""Languages: plural forms, uploads checked before anything changes, live on every instance
without a restart, rollback, a new right-to-left language, the translator role, the CLI."""

from __future__ import annotations

import io

import pytest
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

from bot.i18n import LOCALES_DIR, SUPPORTED_LANGUAGES, Catalogs, shipped_po
from domain.roles import Role
from tests.conftest import start_bot
from tests.flows import run_intake
from tests.helpers import rows
from tests.test_operations import casebot

FSI, PDI = "\u2068", "\u2069"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_plural_forms_for_the_numbers_that_differ_between_languages(language):
    from zoneinfo import ZoneInfo

    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    assert catalog.num_plurals == get_plural(language).num_plurals
    t = Catalogs(ZoneInfo("Europe/Berlin")).get(language)
    for n in (0, 1, 2, 5, 11, 21, 101):
        text = t.translations.ngettext("%(num)d case", "%(num)d cases", n) % {"num": n}
        assert str(n) in text
    if language == "de":
        assert [t.translations.ngettext("%(num)d case", "%(num)d cases", n) % {"num": n} for n in (1, 2, 21)] == [
            "1 Fall", "2 Fälle", "21 Fälle"]


def edited(language: str, changes: dict, *, source: bytes | None = None) -> bytes:
    """The shipped catalog with some messages changed (msgid -> new msgstr)."""
    catalog = read_po(io.BytesIO(source or shipped_po(language)), locale=language)
    for msgid, string in changes.items():
        catalog[msgid].string = string
    out = io.BytesIO()
    write_po(out, catalog)
    return out.getvalue()


async def upload(user, name: str, content: bytes):  # noqa: ANN001, ANN201
    return await user.send_document(name, content, "text/x-gettext-translation")


async def test_a_good_upload_is_previewed_then_live_on_another_instance_without_restart(bot, clock):
    admin = await bot.register(Role.ADMIN, None, language_code="de")
    cm = await bot.register(Role.CASE_MANAGER, "I")
    other_app, _, other_services = await start_bot(bot.settings, clock, fake=bot.fake)  # a second instance
    try:
        await admin.send("/locales")
        table = admin.last()
        assert "★ Deutsch (de) · 100 %" in table.text and "✓ English (en) · 100 %" in table.text
        await admin.press("⬇ de")
        assert bot.fake.api.files[admin.last().document["file_id"]]["content"] == shipped_po("de")
        changed = edited("de", {"Please use the buttons below.": "Bitte tippen Sie auf eine der Tasten."})
        replies = await upload(admin, "de.po", changed)
        assert replies[0].text.startswith("de.po ist in Ordnung: 100 % übersetzt.")
        assert "· Bitte tippen Sie auf eine der Tasten." in replies[0].text
        assert rows(bot, "SELECT state FROM locale_catalog") == [("pending",)]
        await admin.press("✔ Live schalten")
        assert admin.last().text == "de ist jetzt live, auf jeder Instanz."
        # the other instance, which loaded its catalogs before the upload, speaks the new text
        from tests.telegram_fake import TgUser

        on_other = TgUser(other_app, bot.fake, cm.id)
        await on_other.send("/new")
        assert "Bitte tippen Sie auf eine der Tasten." in on_other.last().text
        # and the previous version can be restored
        await admin.send("/locales")
        await admin.press("↩ vorige Fassung")
        await on_other.send("/cancel")
        await on_other.send("/new")
        assert "Bitte die Tasten unten verwenden." in on_other.last().text
        assert [r[0] for r in rows(bot, "SELECT action FROM audit_event WHERE action LIKE 'locale.%' ORDER BY id")] == [
            "locale.live", "locale.rollback"]
    finally:
        await other_app.shutdown()
        other_services.store.close()


@pytest.mark.parametrize(("change", "complaint"), [
    ({"Welcome! You are registered as {role}.": "Willkommen, {rolle}!"}, "unübersetzt bleiben: {role} (die Übersetzung hat: {rolle})"),
    ({"<b>Goals of {code}</b>": "<b>Ziele von {code}"}, "Die Formatierungszeichen in spitzen Klammern müssen wie im Original bleiben"),
    ({"Please type an answer.": ""}, "war übersetzt und ist jetzt leer"),
])
async def test_a_broken_upload_is_refused_by_line_and_changes_nothing(bot, change, complaint):
    admin = await bot.register(Role.ADMIN, None)
    revision = bot.services.store.locales.revision()
    msgid = next(iter(change))
    content = edited("de", {msgid[0] if isinstance(msgid, tuple) else msgid: change[msgid]})
    replies = await upload(admin, "de.po", content)
    text = replies[0].text
    assert text.startswith("Es wurde nichts geändert. Bitte korrigieren Sie de.po:")
    assert complaint in text and "Zeile " in text
    line = int(text.split("Zeile ")[1].split(":")[0])
    assert line > 0
    assert rows(bot, "SELECT COUNT(*) FROM locale_catalog")[0][0] == 0
    assert bot.services.store.locales.revision() == revision


async def test_a_missing_plural_form_is_refused(bot):
    admin = await bot.register(Role.ADMIN, None)
    without = shipped_po("de").replace('msgstr[1] "%(num)d Fälle"\n'.encode(), b"", 1)
    assert without != shipped_po("de")
    text = (await upload(admin, "de.po", without))[0].text
    assert "„%(num)d case“: eine Pluralform ist leer" in text and "Zeile " in text
    assert rows(bot, "SELECT COUNT(*) FROM locale_catalog")[0][0] == 0


async def test_a_syntax_error_is_named_with_its_line(bot):
    admin = await bot.register(Role.ADMIN, None)
    broken = shipped_po("de").replace(b'msgstr "Bitte eine Antwort eingeben."', b'msgstr "Bitte eine Antwort eingeben.', 1)
    text = (await upload(admin, "de.po", broken))[0].text
    assert text.startswith("Es wurde nichts geändert.") and "Diese Zeile gehört nicht in eine .po-Datei" in text and "Zeile " in text


def new_language_po(language: str) -> bytes:
    """A language the bot does not ship yet, partly translated (the rest falls back to the source)."""
    from babel.messages.catalog import Catalog

    with (LOCALES_DIR / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    catalog = Catalog(locale=language)
    catalog.update(template)
    catalog["Saved as case {code}. Next step: the assessment, due {date}."].string = (
        "کیس {code} کے طور پر محفوظ ہو گیا۔ اگلا قدم: جائزہ، آخری تاریخ {date}۔")
    catalog["Date of birth"].string = "تاریخ پیدائش"
    plurals = get_plural(language).num_plurals
    catalog[("%(num)d case", "%(num)d cases")].string = ("%(num)d کیس",) * plurals
    out = io.BytesIO()
    write_po(out, catalog)
    return out.getvalue()


async def test_a_new_language_is_added_by_uploading_its_po(bot):
    translator = await bot.register(Role.TRANSLATOR, None)
    assert (await translator.send("/cases"))[0].text.startswith("Ihre Fälle · 0 Fälle")
    replies = await upload(translator, "ur.po", new_language_po("ur"))
    assert "ur.po ist in Ordnung" in replies[0].text
    org = bot.services.store.staff.first_organisation_id()
    assert "ur" not in bot.services.catalogs.offered(org)  # nothing changes before confirmation
    await translator.press("✔ Live schalten")
    assert "ur" in bot.services.catalogs.offered(org)
    assert "ur" not in bot.services.catalogs.languages  # the organisation's own: not for strangers
    speaker = await bot.register(Role.CASE_MANAGER, "I", language_code="ur")
    assert rows(bot, "SELECT language FROM app_user WHERE telegram_id = :t", t=speaker.id) == [("ur",)]
    await speaker.send("/language")
    assert any(label.startswith("✓ ") for label in speaker.last().button_texts())


async def test_an_intake_in_arabic_keeps_codes_and_dates_whole(bot):
    t = bot.services.catalogs.get("ar")
    cm = await bot.register(Role.CASE_MANAGER, "I", language_code="ar")
    assert rows(bot, "SELECT language FROM app_user WHERE telegram_id = :t", t=cm.id) == [("ar",)]
    press = lambda msgid: ("press", t.plain(msgid))  # noqa: E731
    await run_intake(cm, save=False, consent=press("Consent given"), source=press("FB 50 (social department)"),
                     district=("press", "I"), residence_status=press("Aufenthaltserlaubnis (residence permit)"),
                     benefits=press("SGB II (Bürgergeld, Jobcenter)"), other_case_management=press("None"),
                     languages=("press", t.language_name("ar")), languages_done=press("✔ Done · interpreter needed"))
    summary = cm.last().text
    assert summary.startswith(t.plain("Intake")) and t.plain("please check") in summary
    born = t.date("1995-02-01")  # CLDR's Arabic date, e.g. 01‏/02‏/1995
    assert born.startswith(FSI) and born.endswith(PDI) and "1995" in born
    assert f"{t.plain('Date of birth')}: {born}" in summary  # dates kept whole in RTL text
    # a phone number keeps its digit groups in order: left-to-right isolated, not first-strong
    assert f"{t.plain('Phone')}: \u2066+49 171 1234567{PDI}" in summary
    assert f"{t.plain('Given name(s)')}: {FSI}Amina{PDI}" in summary  # a Latin name in Arabic text
    await cm.press(t.plain("✔ Save"))
    saved = cm.last().text
    assert saved.startswith("حُفظت كحالة")
    assert f"{FSI}LEV-2026-0001{PDI}" in saved  # the Latin case code does not scramble the line
    assert t.date("2026-12-08") in saved
    listing = (await cm.send("/cases"))[0].text
    assert f"{FSI}LEV-2026-0001{PDI}" in listing and listing.startswith(t.plain("Your cases"))


async def test_only_admins_and_translators_manage_languages(bot):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    assert (await cm.send("/locales"))[0].text == "Nur Admins und Übersetzer:innen verwalten Sprachen."
    assert (await upload(cm, "de.po", shipped_po("de")))[0].text.startswith("Ich nehme hier nur Text und Tasten an")
    await cm.press_data("L|en|off", cm.last())
    assert cm.alerts()[-1] == "Diese Taste ist nicht mehr gültig."
    assert "en" in bot.services.catalogs.offered(bot.services.store.staff.first_organisation_id())


async def test_switching_a_language_off_and_on(bot):
    admin = await bot.register(Role.ADMIN, None)
    english = await bot.register(Role.CASE_MANAGER, "I", language_code="en")
    await admin.send("/locales")
    await admin.press("Ausschalten")
    assert "✗ en" in admin.last().text
    assert (await english.send("/help"))[0].text.startswith("KIM Casebot · Case Manager:in\n/new · neue Klient:in erfassen")
    await admin.press("Einschalten")
    assert (await english.send("/help"))[0].text.startswith("KIM Casebot · case manager\n/new · record a new client")


def test_the_cli_lists_exports_imports_and_rolls_back(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", "MASTER_KEY_FILE": str(tmp_path / "master.key")}
    assert casebot("init", env=env, cwd=tmp_path).returncode == 0
    listing = casebot("locales", "list", env=env, cwd=tmp_path)
    assert "de     default  100 %" in listing.stdout and "en     on       100 %" in listing.stdout
    assert casebot("locales", "export", "de", str(tmp_path / "de.po"), env=env, cwd=tmp_path).returncode == 0
    (tmp_path / "de-broken.po").write_bytes(edited("de", {"Welcome! You are registered as {role}.": "Hallo {x}"},
                                                   source=(tmp_path / "de.po").read_bytes()))
    refused = casebot("locales", "import", str(tmp_path / "de-broken.po"), env=env, cwd=tmp_path)
    assert refused.returncode == 2 and "placeholders" in refused.stderr and "line " in refused.stderr
    (tmp_path / "de-new.po").write_bytes(edited("de", {"Nothing to cancel.": "Da ist nichts abzubrechen."}))
    imported = casebot("locales", "import", str(tmp_path / "de-new.po"), env=env, cwd=tmp_path)
    assert imported.returncode == 0 and "de is live" in imported.stdout
    assert casebot("locales", "rollback", "de", env=env, cwd=tmp_path).stdout.startswith("restored")
    assert casebot("locales", "disable", "de", env=env, cwd=tmp_path).returncode == 2  # the default stays on
    assert "en     off" in casebot("locales", "disable", "en", env=env, cwd=tmp_path).stdout + casebot(
        "locales", "list", env=env, cwd=tmp_path).stdout
