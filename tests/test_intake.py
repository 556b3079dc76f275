"""The intake dialogue through the real Application, on SQLite and PostgreSQL."""

from __future__ import annotations

from domain.roles import Role
from tests.flows import INTAKE_STEPS, do, run_intake
from tests.helpers import row_counts, rows, stored_text


async def answer_until(user, last: str, **overrides) -> None:  # noqa: ANN001, ANN003
    """/new, then the default steps up to and including `last`."""
    await user.send("/new")
    for name, step in INTAKE_STEPS.items():
        await do(user, *overrides.get(name, step))
        if name == last:
            return


def case_rows(bot):  # noqa: ANN001, ANN201
    return rows(bot, "SELECT code, status, district_id, assigned_to, consent_version, next_due_on FROM client_case")


async def test_a_full_intake_creates_an_encrypted_case_on_the_users_list(bot):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    saved = await run_intake(cm)
    assert saved[0].text == ("Gespeichert als Fall LEV-2026-0001. Nächster Schritt: die Bestandsaufnahme, "
                             "fällig am 08.12.2026.")
    [(code, status, _, assigned, consent_version, due)] = case_rows(bot)
    assert (code, status, consent_version, str(due)) == ("LEV-2026-0001", "open", "2026-01", "2026-12-08")
    assert assigned == rows(bot, "SELECT id FROM app_user WHERE telegram_id = :t", t=cm.id)[0][0]
    assert rows(bot, "SELECT COUNT(*) FROM dialogue")[0][0] == 0  # the draft (and its key) is gone
    fields = {r[0] for r in rows(bot, "SELECT field FROM case_value")}
    assert {"given_name", "family_name", "birth_date", "note", "phone", "residence_status"} <= fields
    listing = (await cm.send("/cases"))[0]
    assert "LEV-2026-0001 · offen\n   📝 Bestandsaufnahme 08.12.2026" in listing.text and "1 Fall" in listing.text
    assert "Amina" not in listing.text


async def test_the_case_view_shows_names_only_when_asked_and_audits_it(bot):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(cm)
    view = (await cm.send("/case LEV-2026-0001"))[0]
    assert "Fall LEV-2026-0001" in view.text and "Amina" not in view.text and "Haddad" not in view.text
    await cm.press("👁 Namen und Details zeigen")
    revealed = cm.last().text
    assert "Vorname(n): Amina" in revealed and "Familienname: Haddad" in revealed
    assert "Geburtsdatum: 01.02.1995" in revealed and "Notiz: Sucht einen Kita-Platz" in revealed
    await cm.press("🙈 Namen und Details verbergen")
    assert "Amina" not in cm.last().text
    actions = [r[0] for r in rows(bot, "SELECT action FROM audit_event ORDER BY id")]
    assert actions[-4:] == ["case.create", "case.view", "case.reveal", "case.view"]
    trail = stored_text(bot, "audit_event")
    for personal in ("Amina", "Haddad", "1995", "Kita", "1234567"):
        assert personal not in trail


async def test_back_skip_and_cancel(bot):
    cm = await bot.register()
    await answer_until(cm, "given_name")
    assert "Familienname" in cm.last().text
    await cm.press("« Zurück")
    assert "Vorname(n) der Klientin" in cm.last().text and "Bisherige Antwort: Amina" in cm.last().text
    await cm.send("Amira")
    await cm.send("Haddad")
    await cm.send("01.02.1995")
    await cm.press("I")
    assert "Adresse (Straße und Hausnummer)?" in cm.last().text and "Überspringen »" in cm.last().button_texts()
    await cm.press("Überspringen »")
    assert "Stadtteil?" in cm.last().text and "Überspringen »" in cm.last().button_texts()
    await cm.press("Überspringen »")
    assert "Aufenthaltsstatus?" in cm.last().text
    assert "Überspringen »" not in cm.last().button_texts()  # required questions cannot be skipped
    await cm.send("/cancel")
    assert cm.last().text == "Abgebrochen. Von diesem Dialog wurde nichts gespeichert."
    assert rows(bot, "SELECT COUNT(*) FROM dialogue")[0][0] == 0
    assert rows(bot, "SELECT COUNT(*) FROM client_case")[0][0] == 0


async def test_the_cancel_button_leaves_nothing_behind(bot):
    cm = await bot.register()
    await answer_until(cm, "birth_date")
    await cm.press("✖ Abbrechen")  # answers would be lost: asked first
    await cm.press("🗑 Ja, ")
    assert cm.last().text == "Abgebrochen. Von diesem Dialog wurde nichts gespeichert."
    assert row_counts(bot)["dialogue"] == 0 and row_counts(bot)["case_value"] == 0


async def test_correcting_a_field_at_the_summary(bot):
    cm = await bot.register()
    await run_intake(cm, save=False)
    await cm.press("✎ 4")  # family name
    assert "Familienname der Klientin" in cm.last().text and "Bisherige Antwort: Haddad" in cm.last().text
    await cm.send("Haddad-Nour")
    summary = cm.last().text
    assert "bitte prüfen" in summary and "4. Familienname: Haddad-Nour" in summary
    await cm.press("✔ Speichern")
    await cm.send("/case LEV-2026-0001")
    await cm.press("👁 Namen und Details zeigen")
    assert "Familienname: Haddad-Nour" in cm.last().text


async def test_a_correction_that_needs_a_new_answer_asks_for_it(bot):
    cm = await bot.register()
    await run_intake(cm, save=False)
    await cm.press("✎ 15")  # languages
    await cm.press("Andere Sprache")
    await cm.press("✔ Fertig · Dolmetscher:in nötig")
    assert "Welche anderen Sprachen?" in cm.last().text
    await cm.send("Dari")
    assert "Andere Sprachen: Dari" in cm.last().text


async def test_consent_refused_stores_nothing(bot):
    cm = await bot.register()
    before = row_counts(bot)
    await cm.send("/new")
    assert "Fassung 2026-01" in cm.last().text
    await cm.press("Keine Einwilligung")
    assert cm.last().text == "Ohne Einwilligung wird nichts dokumentiert. Die Erstberatung wurde beendet; nichts wurde gespeichert."
    after = row_counts(bot)
    assert after["dialogue"] == 0 and after["client_case"] == 0 and after["case_value"] == 0
    assert after["audit_event"] == before["audit_event"]


async def test_duplicate_person_is_named_and_cannot_be_saved_twice(bot):
    cm = await bot.register()
    await run_intake(cm)
    # the same person, names swapped and spelt with other case and accents
    await answer_until(cm, "birth_date", given_name=("send", "HADDAD"), family_name=("send", "amína"))
    assert "Diese Person ist bereits ein Fall: LEV-2026-0001." in cm.last().text
    for _name, step in list(INTAKE_STEPS.items())[5:]:
        await do(cm, *step)
    await cm.press("✔ Speichern")
    assert "Diese Person ist bereits ein Fall: LEV-2026-0001. Bitte Name oder Geburtsdatum korrigieren" in cm.last().text
    assert len(case_rows(bot)) == 1
    await cm.press("✎ 5")
    await cm.send("02.02.1995")
    await cm.press("✔ Speichern")
    assert cm.last().text.startswith("Gespeichert als Fall LEV-2026-0002.")


async def test_eligibility_minor_asks_for_a_reason(bot):
    cm = await bot.register()
    await answer_until(cm, "birth_date", birth_date=("send", "01.01.2010"))
    assert "Unter 18: Die KIM-Zielgruppe sind Erwachsene." in cm.last().text
    for name in ("district", "address", "quarter", "residence_status", "residence_valid_until", "arrived_germany",
                 "arrived_municipality", "benefits", "other_case_management"):
        await do(cm, *INTAKE_STEPS[name])
    assert "gehört nicht zur KIM-Zielgruppe. Warum wird der Fall trotzdem übernommen?" in cm.last().text
    await cm.send("Unbegleitet, Übergang zum Jugendamt wird organisiert")
    assert "Welche Sprachen spricht" in cm.last().text


async def test_eligibility_long_ago_without_duldung_is_outside_but_duldung_is_inside(bot):
    cm = await bot.register()
    # arrival counts in the municipality (the organisation's default, as the concept says): long
    # ago in Germany, but recently in Leverkusen, is inside
    await answer_until(cm, "arrived_municipality", arrived_germany=("send", "01.01.2015"),
                       arrived_municipality=("send", "01.01.2024"))
    assert "Außerhalb" not in cm.last().text
    await cm.send("/cancel")
    await answer_until(cm, "arrived_municipality", arrived_germany=("send", "01.01.2015"),
                       arrived_municipality=("send", "01.01.2016"))
    assert "Außerhalb der KIM-Zielgruppe: vor mehr als 5 Jahren eingereist" in cm.last().text
    await cm.send("/cancel")
    await answer_until(cm, "residence_valid_until", residence_status=("press", "Duldung"))
    assert "Seit wann hat die Person diesen Status?" in cm.last().text  # a Duldung: since when
    await cm.press("Überspringen »")
    await cm.send("01.01.2015")
    await cm.send("01.01.2016")
    assert "Außerhalb" not in cm.last().text and "Welche Leistungen" in cm.last().text


async def test_duldung_aged_18_to_27_points_to_teilhabemanagement(bot):
    cm = await bot.register()
    await answer_until(cm, "residence_status", birth_date=("send", "15.06.2004"), residence_status=("press", "Duldung"))
    assert "an das Teilhabemanagement verweisen" in cm.last().text
    await cm.send("/cancel")
    await answer_until(cm, "residence_status", birth_date=("send", "15.06.1990"), residence_status=("press", "Duldung"))
    assert "Teilhabemanagement" not in cm.last().text


async def test_impossible_dates_are_refused_and_the_question_stays(bot):
    cm = await bot.register()
    await answer_until(cm, "family_name")
    cases = {
        "31.02.2020": "Diesen Tag gibt es nicht: 31.02.2020. Bitte Tag und Monat prüfen.",
        "01.01.2030": "Das Geburtsdatum liegt in der Zukunft. Bitte prüfen.",
        "01.01.1890": "Dann wäre die Person älter als 120 Jahre. Bitte das Jahr prüfen.",
        "gestern": "Bitte das Datum als TT.MM.JJJJ schreiben, zum Beispiel 24.11.1990.",
    }
    version = rows(bot, "SELECT version FROM dialogue")[0][0]
    for typed, complaint in cases.items():
        reply = (await cm.send(typed))[-1].text
        assert complaint in reply and "Geburtsdatum? (TT.MM.JJJJ)" in reply, typed
    assert rows(bot, "SELECT version FROM dialogue")[0][0] == version  # nothing was stored
    await cm.send("1995-02-01")  # ISO is understood too
    assert "In welchem Bezirk" in cm.last().text


async def test_arrival_dates_must_fit_the_life_story(bot):
    cm = await bot.register()
    await answer_until(cm, "residence_valid_until")
    assert "Das Einreisedatum liegt vor dem Geburtsdatum." in (await cm.send("01.01.1990"))[-1].text
    await cm.send("10.03.2024")
    assert "Der Zuzug in die Kommune kann nicht vor der Einreise" in (await cm.send("01.01.2024"))[-1].text


async def test_photos_stickers_and_typed_text_for_buttons(bot):
    cm = await bot.register()
    await cm.send("/new")
    before = rows(bot, "SELECT version FROM dialogue")[0][0]
    replies = await cm.send_raw(photo=[{"file_id": "p", "file_unique_id": "p1", "width": 10, "height": 10}])
    assert replies[0].text == "Ich nehme hier nur Text und Tasten an; Fotos, Dateien und Sticker werden nicht gespeichert."
    assert "Zuerst die Einwilligung" in replies[1].text
    await cm.send_raw(sticker={"file_id": "s", "file_unique_id": "s1", "width": 1, "height": 1,
                               "is_animated": False, "is_video": False, "type": "regular"})
    assert "Bitte die Tasten unten verwenden." in (await cm.send("vielleicht"))[-1].text
    assert rows(bot, "SELECT version FROM dialogue")[0][0] == before
    await cm.send("einwilligung erteilt")  # typing a button's label counts as pressing it
    assert "Wie kam die Klientin" in cm.last().text


async def test_buttons_of_an_older_question_are_stale(bot):
    cm = await bot.register()
    await cm.send("/new")
    question = cm.last()
    consent_button = question.buttons()[0]["callback_data"]  # as a slow phone still shows it
    replies = await cm.press("Einwilligung erteilt")
    assert replies == []  # the question turned into the next one, in place
    assert question.text.startswith("✓ Einwilligung: Einwilligung erteilt") and "Wie kam die Klientin" in question.text
    await cm.press("FB 50 (Soziales)")
    await cm.send("Amina")  # a typed answer: the next question comes as a new message ...
    assert not bot.fake.messages[(cm.id, question.message_id)].reply_markup  # ... and the old one loses its buttons
    state = rows(bot, "SELECT version FROM dialogue")[0][0]
    await cm.press_data(consent_button, question)
    await cm.press_data("f|00000000|0|c|0", cm.last())  # forged nonce
    await cm.press_data("f|x", cm.last())  # malformed
    await cm.press_data("zz|whatever", cm.last())  # nobody's
    assert cm.alerts()[-4:] == ["Diese Taste ist nicht mehr gültig. Bitte die neueste Frage verwenden."] * 3 + [
        "Diese Taste ist nicht mehr gültig."]  # a family none of ours: no question to point to
    assert rows(bot, "SELECT version FROM dialogue")[0][0] == state


async def test_forged_choice_index_is_refused(bot):
    cm = await bot.register()
    await cm.send("/new")
    nonce, version = cm.last().buttons()[0]["callback_data"].split("|")[1:3]
    await cm.press_data(f"f|{nonce}|{version}|c|99")
    await cm.press_data(f"f|{nonce}|{version}|e|0")  # edit is only possible from the summary
    assert cm.alerts()[-2:] == ["Diese Taste ist nicht mehr gültig. Bitte die neueste Frage verwenden.",
                                "Bitte die Tasten unten verwenden."]
    assert rows(bot, "SELECT version FROM dialogue")[0][0] == int(version)


async def test_a_command_mid_dialogue_keeps_the_dialogue(bot):
    cm = await bot.register()
    await answer_until(cm, "given_name")
    replies = await cm.send("/cases")
    assert replies[0].text == "Ein Dialog ist offen. Beantworten Sie die Frage unten oder brechen Sie mit /cancel ab."
    assert "Familienname der Klientin" in replies[1].text
    replies = await cm.send("/help")
    assert replies[0].text.startswith("Hilfe: Erstberatung") and "Familienname der Klientin" in replies[1].text
    assert (await cm.send("/unbekannt"))[0].text.startswith("Ein Dialog ist offen.")
    await cm.send("Haddad")
    assert "Geburtsdatum?" in cm.last().text


async def test_html_long_and_right_to_left_text(bot):
    cm = await bot.register()
    await answer_until(cm, "source")
    too_long = "A" * 101
    assert "Das ist zu lang: höchstens 100 Zeichen, bitte kürzen." in (await cm.send(too_long))[-1].text
    await cm.send("<b>Ali</b> & <script>")
    await cm.send("حداد")
    await cm.send("01.02.1995")
    for _name, step in list(INTAKE_STEPS.items())[5:]:
        await do(cm, *step)
    summary = cm.last()
    # the fake parses HTML like Telegram: an unescaped name would have been rejected
    assert "3. Vorname(n): <b>Ali</b> & <script>" in summary.text
    assert "&lt;b&gt;Ali&lt;/b&gt; &amp; &lt;script&gt;" in summary.html
    assert "4. Familienname: حداد" in summary.text
    await cm.press("✔ Speichern")
    await cm.send("/case LEV-2026-0001")
    await cm.press("👁 Namen und Details zeigen")
    assert "Vorname(n): <b>Ali</b> & <script>" in cm.last().text


async def test_edited_messages_change_nothing(bot):
    cm = await bot.register()
    await answer_until(cm, "given_name")
    replies = await cm.edit("Amira")
    assert "Bearbeitete Nachrichten werden nicht übernommen" in replies[0].text
    await cm.send("Haddad")
    await cm.press("« Zurück")
    await cm.press("« Zurück")
    assert "Bisherige Antwort: Amina" in cm.last().text


async def test_a_case_goes_to_the_case_manager_of_its_district(bot):
    cm_one = await bot.register(Role.CASE_MANAGER, "I")
    cm_two = await bot.register(Role.CASE_MANAGER, "II")
    saved = await run_intake(cm_one, district=("press", "II"))
    assert saved[0].text == "Gespeichert als Fall LEV-2026-0001 und an das Case Management des Bezirks II übergeben."
    assert "LEV-2026-0001" in (await cm_two.send("/cases"))[0].text
    assert "Hier sind keine Fälle." in (await cm_one.send("/cases"))[0].text


async def test_nobody_sees_cases_that_are_not_theirs(bot):
    owner = await bot.register(Role.CASE_MANAGER, "I")
    other = await bot.register(Role.CASE_MANAGER, "I")
    coordinator = await bot.register(Role.COORDINATOR, None)
    admin = await bot.register(Role.ADMIN, None)
    await run_intake(owner)
    not_found = "Kein Fall LEV-2026-0001 unter den Fällen, die Sie sehen dürfen."
    assert (await other.send("/case LEV-2026-0001"))[0].text == not_found
    await other.press_data("c|r|LEV-2026-0001", other.last())  # forged reveal button
    assert other.alerts()[-1] == not_found
    assert "Amina" not in str([m.text for m in other.messages()])
    assert (await admin.send("/case LEV-2026-0001"))[0].text == not_found
    assert (await admin.send("/new"))[0].text == "Nur Case Manager:innen und Koordinator:innen erfassen Fälle."
    assert "LEV-2026-0001" in (await coordinator.send("/cases"))[0].text
    await coordinator.send("/case LEV-2026-0001")
    await coordinator.press("👁 Namen und Details zeigen")
    assert "Vorname(n): Amina" in coordinator.last().text
    reveals = rows(bot, "SELECT COUNT(*) FROM audit_event WHERE action = 'case.reveal'")[0][0]
    assert reveals == 1


async def test_case_list_pages(bot):
    cm = await bot.register()
    for number in range(12):
        await run_intake(cm, birth_date=("send", f"{number + 1:02d}.01.1990"))
    first = (await cm.send("/cases"))[0]
    assert "12 Fälle" in first.text and first.text.count("LEV-2026-") == 10
    await cm.press("Weiter »", first)
    assert cm.messages()[-1].text.count("LEV-2026-") == 2
    await cm.press("LEV-2026-0001")  # same due dates: the newest come first
    assert cm.last().text.startswith("Fall LEV-2026-0001")
