"""Two organisations on one installation: nothing of one reaches the other, through the chat,
through forged buttons and codes, or through any repository method; one is switched off and
erased as a whole (its key destroyed) while the other works on."""

from __future__ import annotations

import inspect
import subprocess
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import MetaData, select, text

from bot import digest as digest_module
from domain.reports import Period
from domain.roles import Role
from storage import tenancy
from storage.cases import key_aad
from storage.crypto import DataKey
from storage.models import CaseKey
from storage.organisations import case_kid
from storage.store import REPOSITORIES
from storage.types import StaffUser
from tests.flows import run_intake
from tests.helpers import rows
from tests.test_encryption import raw_database_bytes
from tests.test_locales import new_language_po, upload
from tests.test_operations import casebot as run_cli

SOLINGEN = {"given_name": ("send", "Zainab"), "family_name": ("send", "Quraishi"), "birth_date": ("send", "17.09.1993")}
B_NEEDLES = ("SOL-2026-0001", "Zainab", "Quraishi")


def solingen(bot) -> int:  # noqa: ANN001
    return bot.services.store.organisations.create(name="Stadt Solingen", prefix="SOL", districts=["Mitte", "Ohligs"],
                                                   default_language="de")


async def two_organisations(bot):  # noqa: ANN001, ANN201
    """Leverkusen (the fixture's) and Solingen, each with a case manager and one case."""
    org_b = solingen(bot)
    cm_a = await bot.register(Role.CASE_MANAGER, "I")
    cm_b = await bot.register(Role.CASE_MANAGER, "Mitte", org_id=org_b)
    await run_intake(cm_a)
    await run_intake(cm_b, **SOLINGEN, district=("press", "Mitte"))
    return org_b, cm_a, cm_b


async def test_two_organisations_work_side_by_side_and_see_nothing_of_each_other(bot):
    org_a = bot.services.store.staff.first_organisation_id()
    org_b, cm_a, cm_b = await two_organisations(bot)
    assert "SOL-2026-0001" in cm_b.last().text  # its own prefix and its own numbering
    assert rows(bot, "SELECT org_id, code FROM client_case ORDER BY id") == [(org_a, "LEV-2026-0001"), (org_b, "SOL-2026-0001")]
    listing_a, listing_b = (await cm_a.send("/cases"))[0].text, (await cm_b.send("/cases"))[0].text
    assert "LEV-2026-0001" in listing_a and "SOL" not in listing_a
    assert "SOL-2026-0001" in listing_b and "LEV" not in listing_b
    # a code of the other organisation is answered like a code that does not exist
    unknown = (await cm_b.send("/case LEV-2026-0099"))[-1].text
    assert (await cm_b.send("/case LEV-2026-0001"))[-1].text == unknown.replace("0099", "0001")
    # a button of the other organisation's case, forged into a chat of this one: refused, nothing shown
    await cm_a.send("/case LEV-2026-0001")
    forged = [b["callback_data"] for b in cm_a.last_with_buttons().buttons()]
    assert forged
    for data in forged:
        before = len(cm_b.messages())
        await cm_b.press_data(data, cm_b.last())
        assert not any(needle in m.text for m in cm_b.messages()[before:] for needle in ("Amina", "Haddad", "LEV-2026-0001"))
    # each refused as a stale button or a case not among theirs (as a code that does not exist)
    assert cm_b.alerts() and set(cm_b.alerts()) <= {"Diese Taste ist nicht mehr gültig.",
                                                    "Kein Fall LEV-2026-0001 unter den Fällen, die Sie bearbeiten dürfen.",
                                                    "Kein Fall LEV-2026-0001 unter den Fällen, die Sie sehen dürfen."}
    # the raw database holds neither organisation's clients in the clear
    raw = raw_database_bytes(bot)
    assert b"SOL-2026-0001" in raw and b"LEV-2026-0001" in raw
    for needle in ("Amina", "Haddad", "Zainab", "Quraishi", "1993-09-17", "1995-02-01"):
        assert needle.encode() not in raw, needle
    # the other organisation's districts are not offered at an intake
    await cm_b.send("/new")
    assert rows(bot, "SELECT code FROM district WHERE org_id = :o ORDER BY id", o=org_b) == [("Mitte",), ("Ohligs",)]
    await cm_b.send("/cancel")


async def test_a_refused_invitation_is_in_the_trail_of_the_organisation_it_was_for(bot, clock):
    """An expired or spent code of Solingen's is Solingen's business; an unknown code belongs to
    no organisation and goes to the installation's first."""
    from datetime import timedelta

    store = bot.services.store
    org_a, org_b = store.staff.first_organisation_id(), solingen(bot)
    code = store.staff.create_invitation(org_id=org_b, role=Role.CASE_MANAGER, district_id=None,
                                         expires_in=timedelta(hours=1), created_by=None)
    spent = store.staff.create_invitation(org_id=org_b, role=Role.CASE_MANAGER, district_id=None,
                                          expires_in=timedelta(days=1), created_by=None)
    await bot.user().send(f"/start {spent}")
    await bot.user().send(f"/start {spent}")
    clock.advance(timedelta(hours=2))
    stranger = bot.user()
    await stranger.send(f"/start {code}")
    await stranger.send("/start not-a-real-code")
    refused = rows(bot, "SELECT org_id, detail FROM audit_event WHERE action = 'invitation.refused' ORDER BY id")
    assert [(org, detail.split(";")[0]) for org, detail in refused] == [
        (org_b, "reason=used"), (org_b, "reason=expired"), (org_a, "reason=unknown")]


async def test_a_language_uploaded_in_one_organisation_is_only_its_own(bot):
    store, catalogs = bot.services.store, bot.services.catalogs
    org_a = store.staff.first_organisation_id()
    org_b = solingen(bot)
    translator_b = await bot.register(Role.TRANSLATOR, None, org_id=org_b)
    speaker_a = await bot.register(Role.CASE_MANAGER, "I", language_code="en")
    await upload(translator_b, "ur.po", new_language_po("ur"))
    await translator_b.press("✔ Live schalten")
    assert "ur" in catalogs.offered(org_b) and "ur" not in catalogs.offered(org_a) and "ur" not in catalogs.languages
    await speaker_a.send("/language")
    assert not any("ur" in label.lower() or "اردو" in label for label in speaker_a.last().button_texts())
    await speaker_a.press_data("l|ur", speaker_a.last())  # forged: the other organisation's language
    assert rows(bot, "SELECT language FROM app_user WHERE telegram_id = :t", t=speaker_a.id) == [("en",)]
    # switching a language off is the organisation's own decision too
    await translator_b.send("/locales")
    await translator_b.press_data("L|en|off", translator_b.last())
    assert "en" not in catalogs.offered(org_b) and "en" in catalogs.offered(org_a)
    assert (await speaker_a.send("/help"))[0].text == (await speaker_a.send("/help"))[0].text  # still English
    assert "Your" in (await speaker_a.send("/cases"))[0].text
    # an admin of one organisation sees its uploads only
    admin_a = await bot.register(Role.ADMIN, None)
    table = (await admin_a.send("/locales"))[0].text
    assert "(ur)" not in table


async def test_reports_digests_catalogue_and_audit_are_each_organisations_own(bot):
    store, services = bot.services.store, bot.services
    org_a = store.staff.first_organisation_id()
    org_b, cm_a, cm_b = await two_organisations(bot)
    period = Period.parse("2026-11")
    facts_a, facts_b = (sum(1 for _ in store.reports.facts(org, period)) for org in (org_a, org_b))
    assert facts_a == facts_b  # one intake each
    await run_intake(cm_b, given_name=("send", "Samira"), district=("press", "Mitte"))
    assert sum(1 for _ in store.reports.facts(org_a, period)) == facts_a
    assert sum(1 for _ in store.reports.facts(org_b, period)) > facts_b
    figures_b = digest_module.build(services, org_b, services.catalogs.get("de", org_b), days=7)
    assert "LEV" not in str(figures_b) and "Amina" not in str(figures_b)
    # the catalogue: a change in one leaves the other's as it was
    before = store.catalogue.export(org_a)
    store.catalogue.import_rows(org_b, [{**row, "name": "Solinger " + row["name"]} for row in store.catalogue.export(org_b)],
                                user_id=None)
    assert store.catalogue.export(org_a) == before
    assert all(row["name"].startswith("Solinger ") for row in store.catalogue.export(org_b))
    # the audit trail an organisation exports holds its own entries only
    entries = store.audit.export(org_b)
    assert entries and all(e["case"] is None or e["case"].startswith("SOL-") for e in entries)
    assert not any(e["case"] == "LEV-2026-0001" for e in entries)


# every repository method, called for one organisation with the other's identifiers --------------

def _b_rows(bot, org_b: int) -> dict[str, list]:  # noqa: ANN001
    """Every row that belongs to organisation B, column by column: what nothing may change."""
    engine = bot.services.store.engine
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as c:
        cases = [r[0] for r in c.execute(text("SELECT id FROM client_case WHERE org_id = :o"), {"o": org_b})]
        users = [r[0] for r in c.execute(text("SELECT id FROM app_user WHERE org_id = :o"), {"o": org_b})]
        found = {}
        for table in meta.sorted_tables:
            columns = table.c
            if "org_id" in columns:
                where = columns.org_id == org_b
            elif "case_id" in columns:
                where = columns.case_id.in_(cases)
            elif "user_id" in columns:
                where = columns.user_id.in_(users)
            elif table.name == "organisation":
                where = columns.id == org_b
            else:
                continue
            found[table.name] = sorted(map(tuple, c.execute(select(table).where(where))), key=repr)
    return found


# installation-wide by design: run by the dispatcher, the planner, the CLI or the door of the
# bot for nobody in particular (or for a sender not yet known), never with an organisation's
# update; destructive ones among them must not run here
NOT_FOR_AN_ORGANISATION = {
    "organisations": {"create", "list", "by_prefix", "set_disabled", "erase", "first_admin_invitation", "ensure_keys",
                      "rehome", "key", "wrap_case_key", "unwrap_case_key"},
    "keys": {"in_use", "rewrap"}, "audit": {"seal", "verify"}, "planner": {"plan", "run", "catch_up"},
    "inbox": None, "updates": None,  # every method: the door (before anyone is identified)
    "archive": None,  # the operator's: an organisation written out or brought in as a whole
    "outbox": {"claim_due", "finish", "postpone", "get"},
    "staff": {"create_organisation", "first_organisation_id", "user_by_telegram_id", "remembered", "redeem_invitation",
              "refuse_invitation", "forget_all"},
    "locales": {"revision", "live", "disabled"},  # what every instance loads, each organisation's apart (bot/i18n.py)
    "transfers": {"info"},  # composes the dispatcher's messages about a transfer (both organisations' names)
    "erasure": {"run_retention"}, "watch": {"backfill", "plan"}, "cases": {"reindex"},
    "profiles": {"backfill"}, "jourfixe": {"encrypt_plaintext"},
}


def _walk(store, org_a: int, given: dict, actor: StaffUser, walked: list, untaken: list) -> None:  # noqa: ANN001
    """Every repository method once, acting for A with B's identifiers; whatever it returns or
    says when it refuses must show nothing of B (what it was given aside)."""
    with tenancy.acting_for(org_a):
        for repo_name in REPOSITORIES:
            exempt = NOT_FOR_AN_ORGANISATION.get(repo_name, set())
            if repo_name in NOT_FOR_AN_ORGANISATION and exempt is None:
                continue
            repository = getattr(store, repo_name)
            for name, method in inspect.getmembers(repository, inspect.ismethod):
                if name.startswith("_") or name in exempt:
                    continue
                parameters = inspect.signature(method).parameters.values()
                needed = [p for p in parameters if p.default is inspect.Parameter.empty
                          and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
                if any(p.name not in given for p in needed) or any(given[p.name] is None for p in needed):
                    untaken.append(f"{repo_name}.{name}")
                    continue
                args = {p.name: given[p.name] for p in needed}
                if f"{repo_name}.{name}" in SENDERS_OWN and "user_id" in args:
                    args["user_id"] = actor.id
                try:
                    result = method(**args)
                    if inspect.isgenerator(result) or isinstance(result, map):
                        result = list(result)
                    shown = repr(result)
                except Exception as refusal:  # noqa: BLE001 - a refusal is fine; what it says is checked
                    shown = f"{type(refusal).__name__}: {refusal}"
                walked.append(f"{repo_name}.{name}")
                for needle in (n for n in B_NEEDLES if n not in repr(args)):  # repeating what it was given reveals nothing
                    assert needle not in shown, f"{repo_name}.{name} showed organisation B's {needle!r}"


# methods whose user_id is the sender's own (context.staff.id, from Telegram's authenticated
# sender) or the acting member of staff's, for the audit: never an id from input or a button
SENDERS_OWN = {"dialogues.close", "dialogues.consume", "dialogues.discard", "dialogues.is_open", "dialogues.load",
               "dialogues.start", "pin.admit", "staff.digest_preferences", "staff.set_digest_preferences",
               "staff.set_language", "casework.pending_outbox", "casework.reminder_subject", "watch.subject",
               "casefile.rechtskreis_subject", "referrals.reassignment_subject", "outbox.cancel_for",
               "outbox.schedule_for", "catalogue.import_rows", "jourfixe.add_item", "jourfixe.setup", "settings.set",
               "locales.add_pending", "locales.discard_pending", "locales.make_live", "locales.rollback",
               "locales.set_enabled"}


# they take what only storage or the dialogue engine holds (a session, a case row checked before,
# a data key, the sender's own dialogue snapshot or form), never an identifier from input
INSIDE_STORAGE = {"cases.data_key", "cases.data_key_or_none", "cases.write_values", "dialogues.save",
                  "dialogues.set_prompt_message", "dialogues.start", "casework.case_for_change",
                  "casework.record_or_empty", "casework.touch", "timeline.add", "timeline.payloads", "watch.refresh",
                  "profiles.refresh", "requests.taken_on", "cases.next_code", "erasure.cancel_messages"}


async def test_every_repository_method_keeps_to_its_organisation(bot):
    store = bot.services.store
    org_a = store.staff.first_organisation_id()
    org_b, cm_a, cm_b = await two_organisations(bot)
    coordinator_b = await bot.register(Role.COORDINATOR, None, org_id=org_b)
    translator_b = await bot.register(Role.TRANSLATOR, None, org_id=org_b)
    await upload(translator_b, "ur.po", new_language_po("ur"))  # pending: an id of B's to forge
    await cm_b.send("/new")  # an open draft of B's
    referrer_b = await bot.register(Role.REFERRER, None, org_id=org_b)
    b_referrer = store.staff.user_by_id(rows(bot, "SELECT id FROM app_user WHERE telegram_id = :t", t=referrer_b.id)[0][0])
    b_request = store.requests.send(b_referrer, source="fb50", body={"given_name": "Zainab", "family_name": "Quraishi"})
    actor = StaffUser(id=rows(bot, "SELECT id FROM app_user WHERE telegram_id = :t", t=cm_a.id)[0][0], org_id=org_a,
                      telegram_id=cm_a.id, role=Role.ADMIN, district_id=None, district_code=None, language="de")
    b_case = rows(bot, "SELECT id FROM client_case WHERE org_id = :o", o=org_b)[0][0]
    b_user = rows(bot, "SELECT id FROM app_user WHERE telegram_id = :t", t=cm_b.id)[0][0]
    b_coordinator = rows(bot, "SELECT id FROM app_user WHERE telegram_id = :t", t=coordinator_b.id)[0][0]
    b_district = rows(bot, "SELECT id FROM district WHERE org_id = :o", o=org_b)[0][0]
    store.catalogue.rules(org_b)
    b_service = rows(bot, "SELECT id FROM service WHERE org_id = :o", o=org_b)[0][0]
    b_catalog = rows(bot, "SELECT id FROM locale_catalog WHERE org_id = :o", o=org_b)[0][0]
    now = store.clock.now()
    # each parameter by its name: B's identifiers wherever one is taken; the acting user is A's
    given = {
        "request_id": b_request, "to_org": org_b, "transfer_id": 1, "source": "fb50", "body": {"reason": "x"},
        "referrer": replace(actor, role=Role.REFERRER), "coordinator": replace(actor, role=Role.COORDINATOR),
        "case_manager": replace(actor, role=Role.CASE_MANAGER),
        "user": actor, "staff": actor, "admin": actor, "holder": actor, "org_id": org_a, "code": "SOL-2026-0001",
        "case_id": b_case, "case_ids": [b_case], "user_id": b_user, "to_user": b_user, "hand_to": b_user,
        "assigned_to": b_user, "preferred": actor, "responsible": b_user, "actor_id": actor.id, "created_by": b_user,
        "telegram_id": cm_b.id, "district_id": b_district, "service_id": b_service, "service_ids": [b_service],
        "catalog_id": b_catalog, "participant_ids": [b_coordinator], "referral_id": 1, "goal_id": 1, "conference_id": 1,
        "handover_id": 1, "entry_id": 1, "entry_ids": [1], "attachment_id": 1, "row_id": 1, "ref_id": b_case,
        "message_id": 1, "language": "ur", "record": "intake", "values": {"phone": "0"}, "changes": {"phone": "0"},
        "key": DataKey.generate(), "case_key": DataKey.generate(), "kid": case_kid(org_b), "wrapped": b"x" * 60,
        "aad": "x", "reason": "request", "note": "x", "text": "x", "wording": "x", "purpose": "x", "result": "x",
        "place": "x", "agenda": "x", "minutes": "x", "decisions": "x", "name": "x", "value": "x", "section": "target_group",
        "given_name": "Zainab", "family_name": "Quraishi", "birth_date": date(1993, 9, 17), "given": "x",
        "family": "x", "person_index": "x", "person_fold": "x", "kind": "consent", "status": "open", "state": "open",
        "domain": "housing", "nature": "visit", "role": Role.CASE_MANAGER, "hours": 1, "days_before": 1, "limit": 5,
        "today": now.date(), "since": now - timedelta(days=30), "until": now, "at": now, "due_at": now,
        "starts_at": now + timedelta(days=2), "meeting_on": now.date(), "first_on": now.date(), "happened_on": now.date(),
        "due_on": now.date(), "next_due_on": now.date(), "due_by": now.date(), "silent_before": now.date(),
        "deliver_at": now, "cutoff": now, "period": Period.parse("2026-11"), "silent_days": 30, "number": 1,
        "consent_version": "x", "consent_at": now, "consent": True, "accept": True, "confirm": True, "enabled": True,
        "disabled": True, "wanted": True, "finished": True, "attended": [], "shared_domains": [], "employer": "x",
        "frequency": "daily", "hour": 8, "pin": "4711", "po": "", "content": b"%PDF-1.4", "media_type": "application/pdf",
        "version": "x", "action": "x", "why": "x", "family_name_": "x", "rows": [], "entry": None, "intake": {},
        "prefix": "SOL", "districts": [],
        "quarter": "Mitte", "capacity": 3, "default_language": "de", "expires_in": timedelta(days=1), "lease": timedelta(1),
        "period_start": now.date(), "sender": cm_b.id, "update_id": 1, "update_ids": [1], "updates": [],
        "snapshot": None, "form": None, "case": None, "s": None, "connection": None,
    }
    before = _b_rows(bot, org_b)
    walked, untaken = [], []
    # as an admin and as a coordinator of A (between them every permission a repository checks)
    for role in (Role.ADMIN, Role.COORDINATOR):
        acting = replace(actor, role=role)
        given.update({"user": acting, "staff": acting, "admin": acting, "holder": acting, "preferred": acting})
        _walk(store, org_a, given, actor, walked, untaken)
    assert len(walked) > 250, len(walked)
    assert set(untaken) == INSIDE_STORAGE, "a new repository method: give its parameters a value above"
    assert _b_rows(bot, org_b) == before, "organisation B's rows changed"
    # and B goes on as before
    await cm_b.send("/cancel")
    assert "SOL-2026-0001" in (await cm_b.send("/cases"))[0].text


async def test_an_organisation_switched_off_and_erased_as_a_whole_leaves_the_other_untouched(bot):
    store = bot.services.store
    org_b, cm_a, cm_b = await two_organisations(bot)
    admin_b_code = store.organisations.first_admin_invitation(org_b, expires_in=timedelta(days=1))
    # the case keys of each are wrapped by its own organisation's key
    assert {r[0] for r in rows(bot, "SELECT kid FROM case_key")} == {"org:1", f"org:{org_b}"}
    assert store.organisations.set_disabled(org_b, True)
    refusal = (await cm_b.send("/cases"))[-1].text
    assert refusal.startswith("Der Zugang Ihrer Organisation zu diesem Assistenten ist abgeschaltet")
    stranger = bot.user()
    assert "abgeschaltet" not in (await stranger.send(f"/start {admin_b_code}"))[-1].text  # no registration either
    assert rows(bot, "SELECT COUNT(*) FROM app_user WHERE telegram_id = :t", t=stranger.id) == [(0,)]
    assert "LEV-2026-0001" in (await cm_a.send("/cases"))[0].text
    # nothing is planned or sent for it meanwhile (nothing piles up for when it is on again)
    with store.engine.begin() as c:  # both re-assessments due today: A's is planned, B's is not
        c.execute(text("UPDATE client_case SET next_due_on = :d"), {"d": store.clock.now().date()})
    bot.services.dispatcher.plan(force=True)
    planned = dict(rows(bot, "SELECT org_id, COUNT(*) FROM outbox WHERE kind LIKE 'reassess%' GROUP BY org_id"))
    assert planned.get(1) == 1 and org_b not in planned
    erased = store.organisations.erase(org_b)
    assert erased == 1
    assert rows(bot, "SELECT key_wrapped, erased_at IS NOT NULL FROM organisation WHERE id = :o", o=org_b) == [(None, 1)]
    assert rows(bot, "SELECT COUNT(*) FROM case_key WHERE kid = :k", k=f"org:{org_b}") == [(0,)]
    assert rows(bot, "SELECT COUNT(*) FROM case_value WHERE case_id IN (SELECT id FROM client_case WHERE org_id = :o)",
                o=org_b) == [(0,)]
    assert rows(bot, "SELECT COUNT(*) FROM app_user WHERE org_id = :o AND (active OR telegram_id > 0)", o=org_b) == [(0,)]
    # the raw database holds nothing of B's clients; A's case reads as before
    raw = raw_database_bytes(bot)
    for needle in ("Zainab", "Quraishi", "1993-09-17"):
        assert needle.encode() not in raw
    await cm_a.press("👁 Namen und Details zeigen", [m for m in await cm_a.send("/case LEV-2026-0001") if m.reply_markup][0])
    assert "Vorname(n): Amina" in cm_a.last().text
    assert not store.organisations.set_disabled(org_b, False)  # erased stays erased
    assert store.audit.verify().problems == []


async def test_case_keys_of_an_earlier_version_move_under_the_organisations_key(bot):
    store = bot.services.store
    cm = await bot.register(Role.CASE_MANAGER, "I")
    await run_intake(cm)
    case_id = rows(bot, "SELECT id FROM client_case")[0][0]
    with store.transaction() as s:  # as an earlier version wrote it: wrapped by the master key
        row = s.get(CaseKey, case_id)
        key = store.cases.unwrap(case_id, row.kid, row.wrapped)
        wrapped = store.keyring.wrap(key, aad=key_aad(case_id))
        row.kid, row.wrapped = wrapped.kid, wrapped.blob
        s.add(row)
    assert rows(bot, "SELECT kid FROM case_key") == [(store.keyring.active_kid,)]
    await cm.press("👁 Namen und Details zeigen", [m for m in await cm.send("/case LEV-2026-0001") if m.reply_markup][0])
    assert "Vorname(n): Amina" in cm.last().text  # read meanwhile
    assert store.organisations.rehome() == 1
    assert rows(bot, "SELECT kid FROM case_key") == [("org:1",)]
    await cm.press("👁 Namen und Details zeigen", [m for m in await cm.send("/case LEV-2026-0001") if m.reply_markup][0])
    assert "Vorname(n): Amina" in cm.last().text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the commands; the data is tested on both
def test_the_operator_creates_lists_disables_and_erases_organisations(bot, tmp_path):
    env = {"DATABASE_URL": bot.settings.database_url, "MASTER_KEY_FILE": str(bot.settings.master_key_file)}

    def casebot(*args: str) -> subprocess.CompletedProcess:
        return run_cli(*args, env=env, cwd=tmp_path)

    created = casebot("org", "create", "--name", "Kreis Mettmann", "--prefix", "ME", "--districts", "Hilden,Haan")
    assert created.returncode == 0, created.stderr
    assert "one-time invitation (admin)" in created.stdout
    listed = casebot("org", "list").stdout
    assert "LEV" in listed and "ME" in listed and "active" in listed
    ambiguous = casebot("staff", "list")
    assert ambiguous.returncode == 2 and "--org" in ambiguous.stderr
    assert casebot("staff", "list", "--org", "ME").returncode == 0
    assert casebot("org", "create", "--name", "x", "--prefix", "ME").returncode == 2  # the prefix is taken
    assert casebot("org", "erase", "--org", "ME", "--confirm", "ME").returncode == 2  # switch it off first
    assert casebot("org", "disable", "--org", "ME").returncode == 0
    assert casebot("org", "erase", "--org", "ME").returncode == 2  # wants the prefix once more
    erased = casebot("org", "erase", "--org", "ME", "--confirm", "ME")
    assert erased.returncode == 0, erased.stderr
    assert "ME" in casebot("org", "list").stdout and "erased" in casebot("org", "list").stdout
    assert rows(bot, "SELECT COUNT(*) FROM organisation WHERE key_wrapped IS NULL") == [(1,)]
