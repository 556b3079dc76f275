"""Staff lifecycle (issue 11): admins deactivate a leaver (their caseload handed on in the same
step), reactivate, and change roles; from the chat and the command line; all audited."""

from __future__ import annotations

from domain.roles import Role
from tests.flows import INTAKE_STEPS, do, run_intake
from tests.helpers import rows
from tests.test_operations import casebot

CODE = "LEV-2026-0001"
INVALID = "Diese Taste ist nicht mehr gültig."


def user_id(bot, user) -> int:  # noqa: ANN001
    return rows(bot, "SELECT id FROM app_user WHERE telegram_id = :t", t=user.id)[0][0]


async def test_a_leaver_is_deactivated_and_their_caseload_handed_on(bot):
    admin = await bot.register(Role.ADMIN, None)
    leaver = await bot.register(Role.CASE_MANAGER, "I")
    successor = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(leaver)  # LEV-2026-0001, the leaver's
    await leaver.send("/new")  # and a dialogue left open
    await do(leaver, *INTAKE_STEPS["consent"])
    await admin.send("/staff")
    assert "Case Manager:in · Bezirk I · 1 offen · aktiv" in admin.last().text
    await admin.press(next(label for label in admin.last().button_texts() if label.startswith("2.")))
    await admin.press("🚫 Deaktivieren")
    assert "Wer übernimmt die offenen Fälle von Ana (1)?" in admin.last().text
    await admin.press(next(label for label in admin.last().button_texts() if "0 offen" in label))
    assert admin.last().text == "Ana ist deaktiviert. Offene Fälle übergeben an Ana: 1."
    assert rows(bot, "SELECT assigned_to FROM client_case") == [(user_id(bot, successor),)]
    assert rows(bot, "SELECT COUNT(*) FROM dialogue WHERE user_id = :u", u=user_id(bot, leaver)) == [(0,)]
    assert rows(bot, "SELECT active FROM app_user WHERE id = :u", u=user_id(bot, leaver))[0][0] in (False, 0)
    # the leaver can do nothing more; the successor has the case
    replies = await leaver.send(f"/case {CODE}")
    assert "Fall LEV-2026-0001" not in " ".join(m.text for m in replies)
    assert "Fall LEV-2026-0001" in (await successor.send(f"/case {CODE}"))[0].text
    trail = [r[0] for r in rows(bot, "SELECT action FROM audit_event WHERE action IN ('user.deactivate', 'case.reassign')")]
    assert trail == ["case.reassign", "user.deactivate"]
    # back again
    await admin.send("/staff")
    assert admin.last().text.splitlines()[-1].endswith("0 offen · deaktiviert")  # listed last
    await admin.press(admin.last().button_texts()[-1])
    await admin.press("✅ Reaktivieren")
    assert admin.last().text.endswith("ist wieder aktiv.")
    assert (await leaver.send("/cases"))[0].text.startswith("Ihre Fälle · 0 Fälle")  # back, without the handed-on case


async def test_a_role_change_and_its_limits(bot):
    admin = await bot.register(Role.ADMIN, None)
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(cm)
    lifecycle, staff = bot.services.store.lifecycle, bot.services.store.staff.user_by_telegram_id(admin.id)
    lifecycle.change_role(staff, user_id(bot, cm), Role.COORDINATOR)
    assert rows(bot, "SELECT role FROM app_user WHERE id = :u", u=user_id(bot, cm)) == [("coordinator",)]
    await admin.send("/staff")
    await admin.press(next(label for label in admin.last().button_texts() if label.startswith("2.")))
    await admin.press("Rolle: Admin")  # they still hold a case: refused
    assert admin.alerts()[-1].startswith("Nicht möglich")
    assert rows(bot, "SELECT role FROM app_user WHERE id = :u", u=user_id(bot, cm)) == [("coordinator",)]
    assert "user.role" in [r[0] for r in rows(bot, "SELECT action FROM audit_event")]


async def test_an_admin_records_a_case_managers_employer_from_the_organisations_list(bot):
    admin = await bot.register(Role.ADMIN, None)
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await admin.send("/staff")
    await admin.press(next(label for label in admin.last().button_texts() if label.startswith("2.")))
    await admin.press("🏢 Träger: –")
    assert admin.alerts()[-1].startswith("Noch keine Träger hinterlegt.")  # the list comes first
    org_id = bot.services.store.staff.first_organisation_id()
    bot.services.store.settings.set(org_id, "employers.list", " Stadt Leverkusen (KI) ,Caritas,  AWO ,Caritas")
    assert bot.services.store.settings.employers(org_id) == ("Stadt Leverkusen (KI)", "Caritas", "AWO")
    await admin.press("🏢 Träger: –")
    assert "Für wen arbeitet Ana?" in admin.last().text
    assert admin.last().button_texts()[:3] == ["Stadt Leverkusen (KI)", "Caritas", "AWO"]
    await admin.press("Caritas")
    assert admin.last().text == "Ana arbeitet für Caritas."
    assert rows(bot, "SELECT employer FROM app_user WHERE id = :u", u=user_id(bot, cm)) == [("Caritas",)]
    assert "user.employer" in [r[0] for r in rows(bot, "SELECT action FROM audit_event")]


async def test_only_admins_manage_staff(bot):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    other = await bot.register(Role.CASE_MANAGER, "II")
    assert (await cm.send("/staff"))[0].text == "Nur Admins verwalten das Personal."
    await cm.press_data(f"u|{user_id(bot, other)}|off|")
    assert cm.alerts()[-1] == INVALID
    assert rows(bot, "SELECT COUNT(*) FROM app_user WHERE active = :a", a=True) == [(2,)]


def test_the_command_line_lists_deactivates_and_reactivates(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", "MASTER_KEY_FILE": str(tmp_path / "master.key")}
    assert casebot("init", env=env, cwd=tmp_path).returncode == 0
    listed = casebot("staff", "list", env=env, cwd=tmp_path)
    assert listed.returncode == 0 and "no staff yet" in listed.stdout  # (the first admin has not redeemed yet)
    refused = casebot("staff", "deactivate", "99", env=env, cwd=tmp_path)
    assert refused.returncode == 2 and "no such member of staff" in refused.stderr
