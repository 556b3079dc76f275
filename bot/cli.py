"""`casebot`: init, invite, migrate, run."""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import sys
from datetime import timedelta
from pathlib import Path

from pydantic import SecretStr

from bot import logs
from bot.settings import ConfigurationError, Settings, load_settings
from domain.roles import Role
from storage.crypto import CryptoError, Keyring
from storage.db import SchemaAhead, is_initialised, make_engine, migrate, pending_migrations
from storage.store import Store

DEFAULT_DISTRICTS = "I,II,III"


def _duration(text: str) -> timedelta:
    match = re.fullmatch(r"(\d{1,4})([dh])", text)
    if not match:
        raise argparse.ArgumentTypeError("use a number of days or hours, e.g. 7d or 12h")
    number, unit = int(match[1]), match[2]
    return timedelta(days=number) if unit == "d" else timedelta(hours=number)


def _prefix(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{2,8}", text):
        raise argparse.ArgumentTypeError("use 2 to 8 letters, e.g. LEV")
    return text.upper()


class NotInitialised(Exception):
    """The database has no organisation yet."""


class NoSuchOrganisation(Exception):
    """--org names no organisation, or several exist and none was named."""


def _organisation(store: Store, args: argparse.Namespace) -> int:
    """The organisation a command is about: `--org PREFIX`, or the one there is."""
    if store.staff.first_organisation_id() is None:
        raise NotInitialised()
    if args.org:
        org_id = store.organisations.by_prefix(args.org)
        if org_id is None:
            raise NoSuchOrganisation(f"no organisation with the prefix {args.org!r} (see `casebot org list`)")
        return org_id
    present = [o for o in store.organisations.list() if o.erased_at is None]
    if len(present) != 1:
        raise NoSuchOrganisation("this installation has several organisations: name one with --org PREFIX")
    return present[0].id


def _store(settings: Settings) -> Store:
    from bot.app import build_store  # the one builder of the bot's services, for the CLI as well

    return build_store(settings)


def initialise(settings: Settings, *, org_name: str, prefix: str, districts: list[str], quiet: bool = False) -> str | None:
    """Migrate, create the key file and the organisation; return a first admin invitation
    (None when the organisation already existed: init is safe to run twice)."""
    migrate(settings.database_url)
    if not settings.has_master_key:
        Keyring.generate().save(settings.master_key_file)
        if not quiet:
            print(f"created master key file {settings.master_key_file} (mode 0600): back it up apart from the database")
    store = _store(settings)
    if store.staff.first_organisation_id() is not None:
        return None
    org_id = store.staff.create_organisation(
        name=org_name, prefix=prefix, districts=districts, default_language=settings.default_language
    )
    return store.staff.create_invitation(
        org_id=org_id, role=Role.ADMIN, district_id=None, expires_in=timedelta(days=7), created_by=None
    )


def _bot_username(settings: Settings) -> str:
    """The bot's @username for invitation links, asked from the Bot API when a token is set."""
    if settings.telegram_bot_token is None:
        return "<your-bot>"
    from telegram import Bot

    async def ask() -> str:
        async with Bot(settings.token, base_url=f"{settings.telegram_api_url}/bot") as bot:
            return bot.username

    try:
        return asyncio.run(ask())
    except Exception:  # noqa: BLE001 - offline is fine here, the code still works
        return "<your-bot>"


def _print_invitation(settings: Settings, code: str, role: str) -> None:
    from bot.invitations import invitation_link

    print(f"one-time invitation ({role}): {code}")
    print(f"  link:  {invitation_link(_bot_username(settings), code)}")
    print(f"  or send the bot:  /start {code}")


def cmd_init(settings: Settings, args: argparse.Namespace) -> int:
    code = initialise(settings, org_name=args.org_name, prefix=args.prefix,
                      districts=[d.strip() for d in args.districts.split(",") if d.strip()])
    if code is None:
        print("already initialised; database migrated to the newest schema")
        return 0
    print("initialised: database, master key, organisation")
    _print_invitation(settings, code, "admin")
    return 0


def cmd_invite(settings: Settings, args: argparse.Namespace) -> int:
    store = _store(settings)
    org_id = _organisation(store, args)
    district_id = None
    if args.district:
        district = store.staff.district_by_code(org_id, args.district)
        if district is None:
            print(f"casebot: no district {args.district!r}", file=sys.stderr)
            return 2
        district_id = district.id
    code = store.staff.create_invitation(
        org_id=org_id, role=Role(args.role), district_id=district_id, expires_in=args.expires, created_by=None
    )
    _print_invitation(settings, code, args.role)
    return 0


def cmd_services(settings: Settings, args: argparse.Namespace) -> int:
    """The catalogue of services as a file: export it, edit it, import it (checked whole first)."""
    import json

    from storage.types import CatalogueProblem

    store = _store(settings)
    org_id = _organisation(store, args)
    if args.action == "export":
        text = json.dumps({"services": store.catalogue.export(org_id)}, ensure_ascii=False, indent=2)
        if args.file:
            Path(args.file).write_text(text + "\n", encoding="utf-8")
            print(f"exported the catalogue to {args.file}")
        else:
            print(text)
        return 0
    try:
        data = json.loads(Path(args.file).read_text(encoding="utf-8"))
        count = store.catalogue.import_rows(org_id, data["services"] if isinstance(data, dict) else data, user_id=None)
    except (OSError, ValueError, KeyError, TypeError):
        print("casebot: that is not a catalogue file (export one to see the format)", file=sys.stderr)
        return 2
    except CatalogueProblem as refused:
        print("casebot: nothing was changed; please correct:", file=sys.stderr)
        for row, problem in refused.problems:
            print(f"  service {row}: {problem}", file=sys.stderr)
        return 2
    print(f"imported {count} services")
    return 0


def cmd_digest(settings: Settings, args: argparse.Namespace) -> int:
    """`casebot digest --preview`: the organisation's digest as a coordinator would get it today."""
    import re as regex
    from html import unescape

    from bot import digest
    from bot.app import build_services

    services = build_services(settings)
    org_id = _organisation(services.store, args)
    result = digest.build(services, org_id, services.catalogs.get(settings.default_language, org_id), days=args.days)
    print(unescape(regex.sub(r"</?[a-z-]+>", "", result.text)))
    Path(args.chart).write_bytes(result.chart)
    print(f"\nchart written to {args.chart}")
    return 0


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    """`casebot report --period 2026-Q3 --format xlsx`: the anonymised report, written to a file."""
    from bot import reports
    from bot.app import build_store
    from bot.i18n import Catalogs
    from domain.reports import Period

    period = Period.parse(args.period) if args.period else (
        Period.parse(f"{args.date_from}..{args.date_to}") if args.date_from and args.date_to else None)
    if period is None:
        print("casebot: name a period: --period 2026-11 | 2026-Q3 | 2026, or --from 2026-01-01 --to 2026-03-31",
              file=sys.stderr)
        return 2
    store = build_store(settings)
    org_id = _organisation(store, args)
    t = Catalogs(settings.tz, source=store.locales, default=settings.default_language).get(args.language)
    results = reports.build(store.reports.facts(org_id, period), internal=False)  # what leaves the house
    arguments = {"organisation": store.staff.organisation(org_id).name, "period": period,
                 "made_on": store.clock.now().astimezone(settings.tz).date(), "notes": store.reports.gap_notes(org_id, period)}
    if args.format == "pdf":
        from bot.documents.pdf import PdfEngine

        content = reports.pdf(PdfEngine(), t, results, **arguments)
    else:
        content = (reports.workbook if args.format == "xlsx" else reports.csv_zip)(t, results, **arguments)
    suffix = {"xlsx": "xlsx", "csv": "zip", "pdf": "pdf"}[args.format]
    target = Path(args.output or f"kim-report-{period.label.replace('..', '_')}.{suffix}")
    target.write_bytes(content)
    print(f"report {period.label} written to {target}")
    store.close()
    return 0


def cmd_locales(settings: Settings, args: argparse.Namespace) -> int:
    """Languages from the command line: list, export, import (checked, then live), rollback, on, off."""
    from bot import locale_check
    from bot.app import build_services
    from bot.i18n import current_po

    services = build_services(settings)
    locales, catalogs = services.store.locales, services.catalogs
    org = _organisation(services.store, args)
    if args.action == "list":
        for code in catalogs.known(org):
            po = current_po(services.store.locales, org, code)
            state = "default" if code == catalogs.default else "on" if code in catalogs.offered(org) else "off"
            print(f"{code:<6} {state:<8} {locale_check.check(po, code).completeness if po else 0:>3} %")
        return 0
    if args.action == "import":
        path = Path(args.target)
        language = path.stem.split("-")[0]
        content = path.read_bytes()
        current = current_po(services.store.locales, org, language)
        result = locale_check.check(content, language,
                                    current=locale_check.parse(current, language) if current else None)
        if not result.ok:
            print(f"casebot: nothing was changed; please correct {path.name}:", file=sys.stderr)
            for problem in result.problems:
                print(f"  line {problem.line}: {problem.english()}", file=sys.stderr)
            return 2
        locales.make_live(org, locales.add_pending(org, language=language, po=content.decode("utf-8"), user_id=None),
                          user_id=None)
        print(f"{language} is live ({result.completeness} % translated)")
        return 0
    if args.target not in catalogs.known(org):
        print(f"casebot: no language {args.target!r}", file=sys.stderr)
        return 2
    if args.action == "export":
        content = current_po(services.store.locales, org, args.target) or b""
        if args.file:
            Path(args.file).write_bytes(content)
            print(f"exported {args.target} to {args.file}")
        else:
            sys.stdout.write(content.decode("utf-8"))
        return 0
    if args.action == "rollback":
        print("restored the previous version" if locales.rollback(org, args.target, user_id=None) else "no upload to roll back")
        return 0
    if args.target == catalogs.default:
        print("casebot: the default language stays on", file=sys.stderr)
        return 2
    locales.set_enabled(org, args.target, args.action == "enable", user_id=None)
    print(f"{args.target} {'on' if args.action == 'enable' else 'off'}")
    return 0


def cmd_org(settings: Settings, args: argparse.Namespace) -> int:
    """The operator's view of the organisations on this installation."""
    if args.action == "import":  # into a new installation: its schema and master key made here when missing
        migrate(settings.database_url)
        if not settings.has_master_key:
            Keyring.generate().save(settings.master_key_file)
            print(f"created master key file {settings.master_key_file} (mode 0600): back it up apart from the database")
    store = _store(settings)
    if args.action == "create":
        if not (args.name and args.prefix):
            print("casebot: org create needs --name and --prefix", file=sys.stderr)
            return 2
        try:
            org_id = store.organisations.create(name=args.name, prefix=args.prefix,
                                                districts=[d.strip() for d in args.districts.split(",") if d.strip()],
                                                default_language=settings.default_language)
        except ValueError as problem:
            print(f"casebot: {problem}", file=sys.stderr)
            return 2
        print(f"organisation {org_id} created: {args.name} ({args.prefix})")
        _print_invitation(settings, store.organisations.first_admin_invitation(org_id, expires_in=args.expires), "admin")
        return 0
    if args.action == "import":
        from storage.types import ArchiveError

        try:
            org_id = store.archive.import_(Path(args.file).read_bytes(), _passphrase(confirm=False))
        except (ArchiveError, OSError) as problem:
            print(f"casebot: {problem}", file=sys.stderr)
            return 2
        print(f"organisation {org_id} imported, switched off: check it, then `casebot org enable --org PREFIX`")
        return 0
    if args.action == "list":
        for org in store.organisations.list():
            print(f"{org.id:>4}  {org.prefix:<8} {org.state:<9} {org.staff:>5} staff {org.open_cases:>7} open cases  {org.name}")
        return 0
    org_id = _organisation(store, args)
    if args.action in ("disable", "enable"):
        changed = store.organisations.set_disabled(org_id, args.action == "disable")
        print(f"organisation {args.action}d" if changed else f"nothing to do: the organisation is already {args.action}d "
              "(or erased)")
        return 0
    if args.action == "export":
        from storage.types import ArchiveError

        if not args.file:
            print("casebot: org export needs the file to write", file=sys.stderr)
            return 2
        try:
            archive = store.archive.export(org_id, _passphrase(confirm=True))
        except ArchiveError as problem:
            print(f"casebot: {problem}", file=sys.stderr)
            return 2
        Path(args.file).write_bytes(archive)
        Path(args.file).chmod(0o600)
        print(f"organisation written to {args.file} ({len(archive) // 1024} KiB), encrypted with the passphrase: "
              "hand the passphrase over apart from the file")
        return 0
    # erase: irreversible, so it wants the prefix typed once more
    prefix = next(o.prefix for o in store.organisations.list() if o.id == org_id)
    if args.confirm != prefix:
        print(f"casebot: erasing destroys the organisation's key and every case of it; repeat its prefix with "
              f"--confirm {prefix}", file=sys.stderr)
        return 2
    try:
        erased = store.organisations.erase(org_id, progress=lambda n: print(f"  {n} cases erased", flush=True))
    except ValueError as problem:
        print(f"casebot: {problem} (casebot org disable --org {prefix})", file=sys.stderr)
        return 2
    print(f"organisation {prefix} erased: {erased} cases, its key destroyed, its staff removed")
    return 0


def _passphrase(*, confirm: bool) -> str:
    """The archive's passphrase: ORG_ARCHIVE_PASSPHRASE, or asked (twice when it is new)."""
    import getpass
    import os

    given = os.environ.get("ORG_ARCHIVE_PASSPHRASE")
    if given:
        return given
    first = getpass.getpass("passphrase for the archive (12 characters or more): ")
    if confirm and getpass.getpass("the same once more: ") != first:
        raise ConfigurationError("the two passphrases differ")
    return first


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    """A consistent copy of the database while the bot runs (the key is not in it: keep it apart)."""
    from storage.backup import backup
    from storage.types import BackupFailed

    if not is_initialised(make_engine(settings.database_url)):
        raise NotInitialised()
    try:
        copied = backup(settings.database_url, Path(args.file))
    except (BackupFailed, OSError) as problem:
        print(f"casebot: backup failed: {problem}", file=sys.stderr)
        return 2
    print(f"backup written to {copied.path} ({copied.bytes // 1024} KiB in {copied.seconds:.1f} s); the master key is "
          "not in it: keep the key file backed up apart from it")
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    """The backup in place of the database (stop the bot first), migrated, then checked: every
    case key unwraps with this key file, the audit chain holds, what is scheduled is due once."""
    from storage.backup import holds_data, restore
    from storage.types import BackupFailed

    if holds_data(settings.database_url) and not args.force:
        print("casebot: the database holds data; stop the bot and restore with --force to replace it", file=sys.stderr)
        return 2
    try:
        restored = restore(settings.database_url, Path(args.file))
    except (BackupFailed, OSError) as problem:
        print(f"casebot: restore failed: {problem}", file=sys.stderr)
        return 2
    migrate(settings.database_url)
    store = _store(settings)
    good, bad = store.readable_cases()
    chain = store.audit.verify()
    print(f"restored from {restored.path} in {restored.seconds:.1f} s: {good} cases readable with this key file"
          + (f", {bad} NOT (is it the key file of this backup?)" if bad else "")
          + f"; audit chain: {chain.checked} entries, {'intact' if not chain.problems else f'{len(chain.problems)} problems'};"
          + f" scheduled messages still due: {store.outbox.due_count()}")
    return 0 if not bad and not chain.problems else 1


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    if getattr(args, "plan", False):
        return _print_migration_plan(settings)
    before = migrate(settings.database_url)  # (a newer release's schema past this one: SchemaAhead, see main)
    if before == "newer":
        print("the database is at a newer release's schema, which still serves this release: nothing to migrate")
        return 0
    print("database at the newest schema")
    if settings.has_master_key:
        # what a schema migration cannot do (it holds no keys): the status watcher's dates of
        # cases recorded before it, computed from their encrypted intake
        store = _store(settings)
        watched = store.watch.backfill()
        if watched:
            print(f"status watcher: dates computed for {watched} cases")
        reindexed, kept = store.cases.reindex()
        if reindexed:
            print(f"duplicate check: names of {reindexed} cases indexed by the current rules")
        if kept:  # pseudonymous codes only; a coordinator opens them and decides
            print(f"duplicate check: possibly recorded twice (another case has the same name, written with other "
                  f"separators, and birth date): {', '.join(kept)}")
        sealed = store.jourfixe.encrypt_plaintext()
        if sealed:
            print(f"Jour fixe: {sealed} agenda points encrypted")
        profiled = store.profiles.backfill()
        if profiled:
            print(f"reports: the profiles of {profiled} cases written")
        keyed = store.organisations.ensure_keys()
        if keyed:
            print(f"organisations: {keyed} given a key of their own")
        rehomed = store.organisations.rehome()
        if rehomed:
            print(f"organisations: {rehomed} case keys moved under their organisation's key")
    return 0


def _print_migration_plan(settings: Settings) -> int:
    """What `migrate` would do, for planning an upgrade: a rolling one (the running release stays
    up beside the new one) when the result still serves the release the database is at."""
    pending, rolling = pending_migrations(settings.database_url)
    if not pending:
        print("nothing to migrate: the database is at this release's schema")
        return 0
    for revision, what, oldest in pending:
        print(f"{revision}  [{f'release {oldest} keeps running' if oldest else 'stop older releases first'}]  {what}")
    if rolling:
        print("rolling upgrade: the running release keeps working beside the new instances; stop it when they are up")
    elif pending[0][0] == "0001":
        print("a new database: nothing runs on it yet")
    else:
        print("stop every instance of the running release before migrating: the result no longer serves it")
    return 0


def cmd_rotate_key(settings: Settings, args: argparse.Namespace) -> int:
    """A new master key, every wrapped key moved to it while the bot runs, the old one retired."""
    import time

    from storage.crypto import REFRESH_SECONDS

    if settings.master_key is not None:
        print("casebot: the master key comes from MASTER_KEY; rotate it in your secret store "
              "(rotate-key needs the key in a file)", file=sys.stderr)
        return 2
    path = settings.master_key_file
    keyring = Keyring.load(path)
    if not args.resume:
        keyring = keyring.rotated()
        keyring.save(path)
        print(f"new master key {keyring.active_kid} is active; running instances pick it up within "
              f"{REFRESH_SECONDS:.0f} s")
        time.sleep(REFRESH_SECONDS * 2 if not args.no_wait else 0)
    store = _store(settings)
    moved = store.keys.rewrap(batch=args.batch, progress=lambda n: print(f"  {n} keys moved", flush=True))
    in_use = store.keys.in_use()
    retired = set(keyring.kids) - set(in_use) - {keyring.active_kid}
    if retired:
        keyring.without(retired).save(path)
    left = {kid: n for kid, n in in_use.items() if kid != keyring.active_kid}
    print(f"{moved} keys moved to {keyring.active_kid}; retired: {', '.join(sorted(retired)) or 'none'}"
          + (f"; still in use (damaged, or written meanwhile; run again with --resume): {left}" if left else ""))
    print("backups made before this rotation need the key file of their time: keep it with them")
    return 0 if not left else 1


def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    """Verify the audit trail's hash chain, or export the trail of one case or one user."""
    import json
    from datetime import datetime

    store = _store(settings)
    if args.action == "verify":
        store.audit.seal()  # what was written since the last round joins the chain first
        result = store.audit.verify()
        for problem in result.problems:
            print(f"entry {problem.seq}: {problem.what}")
        head = f"; last entry {result.head[0]}, chain {result.head[1]}" if result.head else ""
        print(f"{result.checked} entries checked, {len(result.problems)} problems{head}")
        return 1 if result.problems else 0
    if not (args.case or args.user):
        print("casebot: audit export needs --case CODE or --user ID", file=sys.stderr)
        return 2
    day = lambda text: datetime.fromisoformat(text).replace(tzinfo=settings.tz) if text else None  # noqa: E731
    entries = store.audit.export(_organisation(store, args), case_code=args.case, user_id=args.user,
                                 since=day(args.since), until=day(args.until))
    text = json.dumps(entries, ensure_ascii=False, indent=1)
    if args.file:
        Path(args.file).write_text(text, encoding="utf-8")
        print(f"{len(entries)} entries written to {args.file}")
    else:
        print(text)
    return 0


def cmd_staff(settings: Settings, args: argparse.Namespace) -> int:
    """The organisation's staff: list, deactivate (caseload handed on), reactivate, role."""
    from storage.types import NotAllowed, StaffUser

    store = _store(settings)
    org_id = _organisation(store, args)
    # the operator at the command line acts as an admin; the audit trail records no user for it
    operator = StaffUser(id=0, org_id=org_id, telegram_id=0, role=Role.ADMIN, district_id=None, district_code=None,
                         language=None, display_name="casebot")
    lifecycle = store.lifecycle
    members = {m.id: m for m in lifecycle.members(operator)}
    if args.action == "list":
        for m in members.values():
            print(f"{m.id:>5}  {m.label:<30} {m.role.value:<13} {m.district_code or '-':<6} "
                  f"{m.open_cases:>4} open  {'active' if m.active else 'deactivated'}")
        if not members:
            print("no staff yet (invite someone with `casebot invite`)")
        return 0
    if args.user not in members:
        print(f"casebot: no such member of staff: {args.user}", file=sys.stderr)
        return 2
    try:
        if args.action == "deactivate":
            moved = lifecycle.deactivate(operator, args.user, hand_to=args.to)
            print(f"{members[args.user].label} deactivated; {moved} open cases handed on")
        elif args.action == "reactivate":
            lifecycle.reactivate(operator, args.user)
            print(f"{members[args.user].label} active again")
        elif args.action == "unlock":
            store.pin.lift(operator, args.user)
            print(f"{members[args.user].label}: PIN lock lifted")
        elif args.action == "employer":
            lifecycle.set_employer(operator, args.user, args.employer or "")
            print(f"{members[args.user].label}: employer (Träger) {args.employer or '(none)'}")
        elif args.action == "capacity":
            lifecycle.set_capacity(operator, args.user, args.max or None)
            print(f"{members[args.user].label}: at most {args.max} open cases" if args.max else
                  f"{members[args.user].label}: no limit of open cases")
        else:
            district = store.staff.district_by_code(org_id, args.district) if args.district else None
            lifecycle.change_role(operator, args.user, Role(args.role), district_id=district.id if district else None)
            print(f"{members[args.user].label} is now {args.role}")
    except NotAllowed:
        print("casebot: not possible: open cases need someone to take them (--to ID, a case manager or "
              "coordinator), a case manager needs a district (--district), only case managers have a capacity",
              file=sys.stderr)
        return 2
    except ValueError as problem:
        print(f"casebot: {problem}", file=sys.stderr)
        return 2
    return 0


def cmd_districts(settings: Settings, args: argparse.Namespace) -> int:
    """The districts: list them, change one (name, quarters, border quarters, neighbours) or add one."""
    from bot.app import build_services
    from domain.organisation import parse_quarters
    from storage.types import StaffUser

    services = build_services(settings)
    store = services.store
    org_id = _organisation(store, args)
    candidates = store.staff.candidates(org_id)
    if args.action == "list":
        for district in store.staff.districts(org_id):
            shown = services.district_overview(org_id, district.code)
            there = [c for c in candidates if c.district_id == district.id]
            print(f"{district.code:<8} {district.name}")
            print(f"         quarters: {', '.join(shown['quarters']) or '-'}")
            if shown["border"]:
                print(f"         border quarters: {', '.join(shown['border'])} -> {', '.join(shown['neighbours']) or '-'}")
            print(f"         case managers: {len(there)}, " + ", ".join(
                f"#{c.user_id} {c.open_cases}/{c.capacity if c.capacity else '-'}" for c in there))
        return 0
    operator = StaffUser(id=0, org_id=org_id, telegram_id=0, role=Role.ADMIN, district_id=None, district_code=None,
                         language=None, display_name="casebot")
    current = services.district_overview(org_id, args.code) or {}
    if args.action == "set" and not current:
        print(f"casebot: no district {args.code!r}", file=sys.stderr)
        return 2

    def given(value: str | None, now: tuple[str, ...]) -> tuple[str, ...]:
        return now if value is None else parse_quarters(value)
    try:
        quarters = given(args.quarters, current.get("quarters", ()))
        border = given(args.border, current.get("border", ()))
        saved = store.staff.save_district(
            operator, code=args.code, name=args.name or current.get("name") or args.code, quarters=quarters,
            border=border, neighbours=given(args.neighbours, current.get("neighbours", ())) if border else (),
            new=args.action == "add")
    except ValueError as problem:
        print(f"casebot: {problem}", file=sys.stderr)
        return 2
    print(f"district {saved.code} ({saved.name}): {len(quarters)} quarters, {len(border)} border quarters")
    return 0


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    """Art. 15 at the server: everything stored about one client into a folder (JSON, readable HTML)."""
    from bot.app import build_services
    from bot.export import as_json, readable
    from storage.types import NotAllowed, StaffUser

    services = build_services(settings)
    store = services.store
    org_id = _organisation(store, args)
    operator = StaffUser(id=0, org_id=org_id, telegram_id=0, role=Role.COORDINATOR, district_id=None,
                         district_code=None, language=None, display_name="casebot")
    try:
        data = store.export.export(operator, args.code)
    except NotAllowed:
        print(f"casebot: no case {args.code}", file=sys.stderr)
        return 2
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    code = data["case"]["code"]
    (folder / f"{code}-art15.json").write_bytes(as_json(data))
    ctx = services.form_context(operator)
    spoken = [lang for lang in (data["intake"].get("languages") or []) if lang in services.catalogs.offered(org_id)]
    for language in ["de", *[lang for lang in spoken if lang != "de"][:1]]:
        html = readable(services.renderer, services.catalogs.get(language, org_id), ctx, data, ctx.today.isoformat())
        (folder / f"{code}-art15-{language}.html").write_bytes(html)
    print(f"{code}: written to {folder} (audited)")
    return 0


def cmd_settings(settings: Settings, args: argparse.Namespace) -> int:
    """The organisation's rules (target group, the status watcher's figures with their sources)."""
    from domain.watch import WATCH_FIGURES

    store = _store(settings)
    org_id = _organisation(store, args)
    if args.action == "set":
        try:
            store.settings.set(org_id, args.name, args.value)
        except ValueError as problem:
            print(f"casebot: {problem}", file=sys.stderr)
            return 2
        if args.name.startswith("watch."):
            store.watch.backfill()
        print(f"{args.name} = {args.value}")
        return 0
    for name, value in store.settings.all(org_id).items():
        figure = WATCH_FIGURES.get(name.removeprefix("watch."))
        print(f"{name} = {value}" + (f"    # {figure.meaning}; {figure.source}" if figure else ""))
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    if settings.telegram_bot_token is None:
        print("casebot: no TELEGRAM_BOT_TOKEN, so the bot runs against the local simulator "
              "(set a token from @BotFather for real Telegram)")
        return cmd_simulate(settings, argparse.Namespace(demo=False, port=args.port, rate_limit=False))
    return _run_bot(settings, org_name=args.org_name, prefix=args.prefix)


def _run_bot(settings: Settings, *, org_name: str, prefix: str, quiet_invitation: bool = False) -> int:
    from bot.app import build_application

    token = settings.token  # fail early, with the BotFather hint, before touching anything
    logs.configure(settings.log_level, settings.log_format,
                   [token, settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""])
    if not is_initialised(make_engine(settings.database_url)) or not settings.has_master_key:
        code = initialise(settings, org_name=org_name, prefix=prefix, districts=DEFAULT_DISTRICTS.split(","))
        if code and not quiet_invitation:
            _print_invitation(settings, code, "admin")
    else:
        cmd_migrate(settings, argparse.Namespace())  # a newer release's schema past this one stops the start here
    application = build_application(settings)
    print(f"casebot: running ({'webhook' if settings.webhook_url else 'long polling'}); stop with Ctrl+C")
    return asyncio.run(_serve(application, settings))


async def _serve(application, settings: Settings) -> int:  # noqa: ANN001
    from bot.serve import serve

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve(application, settings, stop)
    return 0


def cmd_simulate(settings: Settings, args: argparse.Namespace) -> int:
    """The bot, unchanged, against the local simulator: its own database and key under
    SIMULATOR_HOME, so nothing simulated (or demo) ever lands in a real database."""
    from simulator.botapi import RateLimit
    from simulator.demo import DEMO_PREFIX, seed
    from simulator.server import SIMULATOR_TOKEN, SimulatorThread

    home = settings.simulator_home
    simulated = settings.model_copy(update={
        "telegram_bot_token": SecretStr(SIMULATOR_TOKEN), "telegram_api_url": f"http://127.0.0.1:{args.port}",
        "database_url": f"sqlite:///{home / 'casebot.sqlite3'}", "master_key_file": home / "master.key",
        "webhook_url": None,
    })
    code = initialise(simulated, org_name="Demo-Kommune (fiktiv)", prefix=DEMO_PREFIX,
                      districts=DEFAULT_DISTRICTS.split(","), quiet=True)
    thread = SimulatorThread(port=args.port, rate_limit=RateLimit() if args.rate_limit else None,
                             users_file=home / "people.json")
    thread.start()
    if not thread.ready.wait(10):
        print(f"casebot: the simulator could not listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 2
    if args.demo:
        seeded = seed(_store(simulated))
        shown = 0
        for telegram_id, name, language in seeded.people:
            if telegram_id not in thread.simulator.api.users:
                thread.call(lambda sim, *a: sim.api.add_user(*a), name, language, telegram_id)
                shown += 1
        thread.call(lambda sim: sim.save_users())
        if seeded.staff_added:
            print(f"demo: added {seeded.staff_added} fictitious staff members and {seeded.cases_added} fictitious cases")
        else:
            print("demo: the fictitious staff and cases were added before; nothing new"
                  + (f" (their {shown} people are back in the page)" if shown else ""))
    if code:
        print(f"first admin: in the page, add a person and send  /start {code}")
    print(f"simulator: open http://127.0.0.1:{args.port} in your browser")
    return _run_bot(simulated, org_name="Demo-Kommune (fiktiv)", prefix=DEMO_PREFIX, quiet_invitation=True)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="casebot", description="KIM Casebot: case management assistant on Telegram")
    sub = top.add_subparsers(dest="command", required=True)
    for name in ("init", "run"):
        p = sub.add_parser(name, help="set up database, key and organisation" if name == "init" else "start the bot")
        p.add_argument("--org-name", default="Kommunales Integrationsmanagement")
        p.add_argument("--prefix", default="LEV", type=_prefix, help="letters that start every case code")
        if name == "init":
            p.add_argument("--districts", default=DEFAULT_DISTRICTS, help="comma-separated district codes")
        else:
            p.add_argument("--port", type=int, default=8080, help="simulator port, when there is no token")
    simulate = sub.add_parser("simulate", help="run the bot against a local Telegram simulator in the browser")
    simulate.add_argument("--demo", action="store_true", help="fill a fictitious organisation with staff and cases")
    simulate.add_argument("--port", type=int, default=8080)
    simulate.add_argument("--rate-limit", action="store_true", help="enforce Telegram's rate limits (429s)")
    invite = sub.add_parser("invite", help="print a one-time invitation code and link")
    invite.add_argument("--role", required=True, choices=[r.value for r in Role])
    invite.add_argument("--district")
    invite.add_argument("--expires", type=_duration, default=timedelta(days=7), help="e.g. 7d or 12h")
    migrate_parser = sub.add_parser("migrate", help="bring the database schema up to date")
    migrate_parser.add_argument("--plan", action="store_true",
                                help="only list what would be applied, and whether the running release may stay up")
    export = sub.add_parser("export", help="Art. 15: everything stored about one client, as JSON and readable HTML")
    export.add_argument("code")
    export.add_argument("folder", nargs="?", default=".")
    staff = sub.add_parser("staff", help="colleagues: list, deactivate (caseload handed on), reactivate, role")
    staff.add_argument("action", choices=["list", "deactivate", "reactivate", "role", "unlock", "employer", "capacity"])
    staff.add_argument("user", nargs="?", type=int, help="the member's id (from `casebot staff list`)")
    staff.add_argument("role", nargs="?", choices=[r.value for r in Role], help="role: the new role")
    staff.add_argument("--to", type=int, help="deactivate: who takes over the open cases")
    staff.add_argument("--district", help="role case-manager: the district code")
    staff.add_argument("--employer", help="employer: the Träger, as reports count it (\"Caritas\", \"Stadt, KI\")")
    staff.add_argument("--max", type=int, default=0, help="capacity: the most open cases (0: no limit)")
    districts = sub.add_parser("districts", help="districts: list, set one (name, quarters, border quarters, "
                                                 "neighbours), add one")
    districts.add_argument("action", choices=["list", "set", "add"])
    districts.add_argument("code", nargs="?", default="", help="set, add: the district's code")
    districts.add_argument("--name")
    districts.add_argument("--quarters", help="comma-separated quarters (Stadtteile)")
    districts.add_argument("--border", help="comma-separated border quarters (of its quarters)")
    districts.add_argument("--neighbours", help="comma-separated codes of the districts they border")
    audit = sub.add_parser("audit", help="verify the audit trail's hash chain, or export one case's or user's trail")
    audit.add_argument("action", choices=["verify", "export"])
    audit.add_argument("file", nargs="?", help="export: where to write the JSON (default: print)")
    audit.add_argument("--case", help="export: a case code")
    audit.add_argument("--user", type=int, help="export: a member of staff's id")
    audit.add_argument("--since", help="export: from this day (YYYY-MM-DD)")
    audit.add_argument("--until", help="export: before this day (YYYY-MM-DD)")
    rotate = sub.add_parser("rotate-key", help="a new master key; every wrapped key moved to it while the bot runs")
    rotate.add_argument("--resume", action="store_true", help="continue an interrupted rotation (no new key)")
    rotate.add_argument("--batch", type=int, default=200)
    rotate.add_argument("--no-wait", action="store_true", help=argparse.SUPPRESS)  # tests: no instance runs
    org_settings = sub.add_parser("settings", help="the organisation's target group and status watcher figures")
    org_settings.add_argument("action", choices=["list", "set"])
    org_settings.add_argument("name", nargs="?", default="", help="e.g. target_group.recent_years")
    org_settings.add_argument("value", nargs="?", default="")
    locale_cmd = sub.add_parser("locales", help="languages: list, export, import, rollback, enable, disable")
    locale_cmd.add_argument("action", choices=["list", "export", "import", "rollback", "enable", "disable"])
    locale_cmd.add_argument("target", nargs="?", default="", help="language code, or the .po file to import")
    locale_cmd.add_argument("file", nargs="?", help="where to write an export (default: print)")
    preview = sub.add_parser("digest", help="print the coordinators' digest for the organisation")
    preview.add_argument("--preview", action="store_true", help="print it here (nothing is sent)")
    preview.add_argument("--days", type=int, default=7, help="the period it covers")
    preview.add_argument("--chart", default="digest-chart.png", help="where to write the chart")
    report = sub.add_parser("report", help="the anonymised report for a period: XLSX, CSV files in a ZIP, or PDF")
    report.add_argument("--period", help="2026-11 (a month), 2026-Q3 (a quarter), 2026 (a year)")
    report.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD (with --to)")
    report.add_argument("--to", dest="date_to", help="last day, YYYY-MM-DD")
    report.add_argument("--format", choices=["xlsx", "csv", "pdf"], default="xlsx")
    report.add_argument("--language", default="de", help="the language of its labels")
    report.add_argument("--output", help="the file to write (default: kim-report-<period>.xlsx or .zip)")
    services = sub.add_parser("services", help="export or import the catalogue of services as a JSON file")
    services.add_argument("action", choices=["export", "import"])
    services.add_argument("file", nargs="?", help="file to write (export; default: print) or to read (import)")
    backup = sub.add_parser("backup", help="a consistent copy of the database while the bot runs (not the key)")
    backup.add_argument("file", help="where to write it")
    restore = sub.add_parser("restore", help="a backup in place of the database (stop the bot first), then checked")
    restore.add_argument("file", help="the backup")
    restore.add_argument("--force", action="store_true", help="replace a database that holds data")
    org = sub.add_parser("org", help="the operator's: create an organisation (with its first admin's invitation), "
                                     "list, disable, enable, erase, export (hand it over as a whole), import")
    org.add_argument("action", choices=["create", "list", "disable", "enable", "erase", "export", "import"])
    org.add_argument("--file", help="export: the archive to write; import: the archive to read")
    org.add_argument("--name", help="create: the organisation's name")
    org.add_argument("--prefix", type=_prefix, help="create: letters that start its case codes")
    org.add_argument("--districts", default=DEFAULT_DISTRICTS, help="create: comma-separated district codes")
    org.add_argument("--expires", type=_duration, default=timedelta(days=7), help="create: the invitation's lifetime")
    org.add_argument("--confirm", help="erase: the organisation's prefix once more")
    # every command about one organisation's data names it on an installation with several
    for name, command in sub.choices.items():
        if name not in ("init", "run", "simulate", "migrate", "rotate-key", "backup", "restore"):
            command.add_argument("--org", help="the organisation's prefix (needed when there are several)")
    return top


COMMANDS = {"init": cmd_init, "invite": cmd_invite, "migrate": cmd_migrate, "settings": cmd_settings,
            "rotate-key": cmd_rotate_key, "audit": cmd_audit, "staff": cmd_staff, "export": cmd_export, "run": cmd_run,
            "simulate": cmd_simulate, "services": cmd_services,
            "digest": cmd_digest, "locales": cmd_locales, "report": cmd_report, "org": cmd_org,
            "districts": cmd_districts, "backup": cmd_backup, "restore": cmd_restore}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = load_settings()
    try:
        return COMMANDS[args.command](settings, args)
    except (ConfigurationError, CryptoError) as problem:
        print(f"casebot: {problem}", file=sys.stderr)
        return 2
    except NotInitialised:
        print("casebot: not initialised; run `casebot init` first", file=sys.stderr)
        return 2
    except NoSuchOrganisation as problem:
        print(f"casebot: {problem}", file=sys.stderr)
        return 2
    except SchemaAhead as ahead:  # (a restore of a newer release's backup, init on its database ...)
        print(f"casebot: {ahead}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
