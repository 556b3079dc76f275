"""Personal data never reaches the disk in the clear; ciphertexts are bound to their place."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from domain.roles import Role
from storage.crypto import CryptoError, DataKey, Keyring, normalise_name
from tests.flows import INTAKE_STEPS, do, run_intake
from tests.helpers import rows

PERSONAL = {
    "given_name": "Zainab",
    "family_name": "Quraishi",
    "birth_date": "17.09.1993",
    "quarter": "Rheindorf",
    "phone": "+49 176 55501234",
    "note": "Schwanger, braucht Hebamme",
}
NEEDLES = ["Zainab", "Quraishi", "ZAINAB", "1993-09-17", "17.09.1993", "Rheindorf", "55501234", "Hebamme", "Schwanger"]


def raw_database_bytes(bot) -> bytes:  # noqa: ANN001
    url = bot.settings.database_url
    if url.startswith("sqlite"):
        path = Path(make_url(url).database)
        # the main file and the write-ahead log: whatever a copy of the data directory would hold
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    plain_url = url.replace("postgresql+psycopg://", "postgresql://")
    dump = subprocess.run(["pg_dump", "--no-owner", plain_url], check=True, capture_output=True).stdout
    # bytea comes as hex (\\x0a1b...): decoded, as the database holds it, so that what a
    # ciphertext holds is searched as in SQLite's file, and its hex digits cannot spell a
    # number being looked for (a phone's "1234567") by chance
    return re.sub(rb"\\\\x([0-9a-f]+)", lambda m: bytes.fromhex(m.group(1).decode()), dump)


async def test_no_personal_data_in_the_raw_database(bot):
    cm = await bot.register()
    overrides = {k: ("send", v) for k, v in PERSONAL.items()}
    await run_intake(cm, **overrides)
    # and one intake left half-way: the draft is personal data too
    await cm.send("/new")
    for name in ("consent", "source"):
        await do(cm, *INTAKE_STEPS[name])
    await cm.send("Zainab")
    await cm.send("Quraishi")
    await cm.send("17.09.1993")
    raw = raw_database_bytes(bot)
    assert b"LEV-2026-0001" in raw  # the dump did capture the data
    for needle in NEEDLES:
        assert needle.encode() not in raw, needle
        assert needle.encode("utf-16-le") not in raw, needle


async def test_a_ciphertext_moved_to_another_field_or_case_fails_to_decrypt(bot):
    cm = await bot.register()
    await run_intake(cm)
    await run_intake(cm, given_name=("send", "Omar"), birth_date=("send", "02.02.1990"))
    store = bot.services.store
    staff = store.staff.user_by_telegram_id(cm.id)
    assert store.cases.reveal(staff, "LEV-2026-0002").records["intake"]["given_name"] == "Omar"
    with store.engine.begin() as connection:
        [(first_name_blob,)] = connection.execute(text(
            "SELECT v.ciphertext FROM case_value v JOIN client_case c ON c.id = v.case_id "
            "WHERE c.code = 'LEV-2026-0001' AND v.field = 'given_name'"))
        connection.execute(text(
            "UPDATE case_value SET ciphertext = :blob WHERE field = 'family_name' AND case_id = "
            "(SELECT id FROM client_case WHERE code = 'LEV-2026-0001')"), {"blob": first_name_blob})
        connection.execute(text(
            "UPDATE case_value SET ciphertext = :blob WHERE field = 'given_name' AND case_id = "
            "(SELECT id FROM client_case WHERE code = 'LEV-2026-0002')"), {"blob": first_name_blob})
    with pytest.raises(CryptoError):
        store.cases.reveal(staff, "LEV-2026-0001")  # same case, other field
    with pytest.raises(CryptoError):
        store.cases.reveal(staff, "LEV-2026-0002")  # same field, other case
    replies = await cm.send("/case LEV-2026-0002")  # the overview decrypts age and status: refused whole
    assert replies[0].text == "Die Details dieses Falls können nicht gelesen werden: Sie wurden gelöscht oder beschädigt."


async def test_destroying_the_data_key_erases_the_case(bot):
    cm = await bot.register(Role.CASE_MANAGER)
    await run_intake(cm)
    store = bot.services.store
    staff = store.staff.user_by_telegram_id(cm.id)
    store.cases.shred(user=staff, code="LEV-2026-0001")
    assert rows(bot, "SELECT COUNT(*) FROM case_key")[0][0] == 0
    with pytest.raises(CryptoError):
        store.cases.reveal(staff, "LEV-2026-0001")
    assert rows(bot, "SELECT action FROM audit_event ORDER BY id DESC")[0][0] == "case.shred"


def test_ciphertexts_are_fresh_each_time_and_bound_to_their_place():
    key = DataKey.generate()
    one, two = key.encrypt("Amina", aad="case/1/intake/given_name"), key.encrypt("Amina", aad="case/1/intake/given_name")
    assert one != two  # random nonce: equal values do not give equal ciphertexts
    assert key.decrypt(one, aad="case/1/intake/given_name") == "Amina"
    with pytest.raises(CryptoError):
        key.decrypt(one, aad="case/2/intake/given_name")
    with pytest.raises(CryptoError):
        DataKey.generate().decrypt(one, aad="case/1/intake/given_name")
    tampered = bytearray(one)
    tampered[-1] ^= 1
    with pytest.raises(CryptoError):
        key.decrypt(bytes(tampered), aad="case/1/intake/given_name")
    assert "Amina" not in repr(key) and "hidden" in repr(key)


def test_master_key_rotation_keeps_old_data_readable(tmp_path):
    ring = Keyring.generate()
    data_key = DataKey.generate()
    wrapped_old = ring.wrap(data_key, aad="case-key/1")
    rotated = ring.rotated()
    rotated.save(tmp_path / "master.key")
    reloaded = Keyring.load(tmp_path / "master.key")
    assert reloaded.active_kid == "k2" and wrapped_old.kid == "k1"
    recovered = reloaded.unwrap(wrapped_old, aad="case-key/1")
    assert recovered.decrypt(data_key.encrypt("x", aad="a"), aad="a") == "x"
    assert reloaded.wrap(data_key, aad="case-key/1").kid == "k2"
    # the blind index does not change with the master key
    assert reloaded.blind_index("org/1", "a") == ring.blind_index("org/1", "a")
    with pytest.raises(CryptoError):
        reloaded.unwrap(wrapped_old, aad="case-key/2")
    assert (tmp_path / "master.key").stat().st_mode & 0o777 == 0o600


def test_key_file_problems_are_reported_without_key_material(tmp_path):
    with pytest.raises(CryptoError, match="not found"):
        Keyring.load(tmp_path / "missing.key")
    broken = tmp_path / "broken.key"
    broken.write_text('{"active": "k1", "keys": {"k1": "c2VjcmV0"}, "index": "c2VjcmV0"}')
    broken.chmod(0o600)
    with pytest.raises(CryptoError) as problem:
        Keyring.load(broken)
    assert "c2VjcmV0" not in str(problem.value)


def test_name_normalisation_for_the_blind_index():
    assert normalise_name("Amína", "HADDAD") == normalise_name("haddad", "Amina") == normalise_name("Amina ", "Haddad-")
    assert normalise_name("Amina", "Haddad") != normalise_name("Amina", "Hadad")
    assert normalise_name("Straße", "Ö") == normalise_name("STRASSE", "o")
    assert normalise_name("أمينة", "حداد") == normalise_name("حداد", "أمينة")


async def test_no_personal_data_of_the_cycle_in_the_raw_database(bot):
    from bot.choices import LIFE_DOMAINS

    cm = await bot.register(Role.CASE_MANAGER, "I")
    await bot.register(Role.CASE_MANAGER, "II")
    await run_intake(cm)
    secrets = {"assessment": "Traumafolgen", "goal": "Führerscheinprüfung", "purpose": "Schuldnerberatung",
               "contact": "Gerichtsvollzieher", "handover": "Frauenhausplatz"}
    await cm.send("/assess LEV-2026-0001")
    for domain in LIFE_DOMAINS:
        await cm.press("hoch" if domain.value == "health" else "kein Bedarf")
        if domain.value == "health":
            await cm.send(secrets["assessment"])
    for step in (">Gesundheit", ">Fertig", ">Fertig", ">✔ Speichern", "/goal LEV-2026-0001", ">Qualifizierung", secrets["goal"],
                 ">die Klient:in", "30.06.2027", ">✔ Speichern", "/refer LEV-2026-0001", ">Existenzsicherung",
                 ">★ Jobcenter", secrets["purpose"], ">Einwilligung erteilt", ">Existenzsicherung", ">Fertig",
                 ">✔ Speichern", "/note LEV-2026-0001", ">heute", ">Telefonat", secrets["contact"], ">✔ Speichern",
                 "/handover LEV-2026-0001", ">II", secrets["handover"], ">✔ Speichern"):
        await (cm.press(step[1:]) if step.startswith(">") else cm.send(step))
    assert rows_count(bot, "goal") == rows_count(bot, "referral") == rows_count(bot, "contact") == rows_count(bot, "handover") == 1
    raw = raw_database_bytes(bot)
    for needle in secrets.values():
        assert needle.encode() not in raw, needle


def rows_count(bot, table: str) -> int:  # noqa: ANN001
    return rows(bot, f"SELECT COUNT(*) FROM {table}")[0][0]
