"""Documents on paper: how long each document takes to make, in process.

    .venv/bin/python bench/documents.py [--rounds 20]

For each kind of document, in German alone, beside Arabic (shaped, right to left) and beside
Russian: (1) rendering its template to PDF (Typst, bot/documents/pdf.py), and (2) the whole path a
press in the chat takes: the case read and decrypted from a SQLite file (storage/documents.py),
the bilingual texts from the catalogs (bot/documents/content.py), the PDF. Typst memoizes
layout, so a document made again is cheaper than the first of a process, shown on its own.
The baseline, measured in the same run, is a one-line document through the same engine and
fonts: what any document costs before its content. Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import typst  # noqa: E402
from sqlmodel import select  # noqa: E402

from bench.reminders import NOW, settings_for  # noqa: E402
from bot.app import build_services  # noqa: E402
from bot.cli import initialise  # noqa: E402
from bot.documents.content import document_data  # noqa: E402
from bot.documents.pdf import PdfEngine, font_folder  # noqa: E402
from domain.documents import DocumentKind  # noqa: E402
from storage.clock import FixedClock  # noqa: E402
from storage.models import AppUser, Service  # noqa: E402

LANGUAGES = ("de", "ar", "ru")


def timed(work, rounds: int) -> list[float]:  # noqa: ANN001
    """Milliseconds of `rounds` runs, after one run to warm up."""
    work()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return times


def a_case(services):  # noqa: ANN001, ANN201
    """A case as a case manager leaves it after a month: intake, assessment with notes, three
    goals, a referral with consent to share two life domains. Returns (staff, code, referral)."""
    store = services.store
    org_id = store.staff.first_organisation_id()
    district = store.staff.districts(org_id)[0].id
    with store.transaction() as s:
        s.add(AppUser(org_id=org_id, telegram_id=1, role="case-manager", district_id=district, display_name="Ana Beispiel",
                      created_at=NOW))
    staff = store.staff.user_by_telegram_id(1)
    store.documents.set_contact(staff, "0214 406-1234, kim@example.org, Mo–Do 9–12")
    values = {"given_name": "Amina", "family_name": "Haddad", "birth_date": "1990-02-01", "district": str(district),
              "residence_status": "aufenthaltserlaubnis", "languages": ["ar", "de"]}
    case = store.cases.create(user=staff, district_id=district, assigned_to=staff.id, person_index="bench-documents",
                              consent_version="2026-01", consent_at=NOW, next_due_on=date(2027, 2, 24),
                              record="intake", values=values)
    store.casework.add_assessment(staff, case.code, {
        "need_work": "high", "note_work": "Sucht Arbeit als Schneiderin; Abschluss aus Syrien",
        "need_language": "medium", "note_language": "A2, Kurs beim VHS geplant",
        "need_health": "high", "note_health": "Diabetes", "strength_work": "Zehn Jahre Berufserfahrung"},
        next_due_on=date(2027, 2, 24))
    for domain, wording in (("work", "Anerkennung des Abschlusses beantragen"), ("language", "Deutschkurs B1 abschließen"),
                            ("housing", "Eine größere Wohnung in Opladen finden")):
        store.casework.add_goal(staff, case.code, domain=domain, wording=wording, responsible="client",
                                due_on=date(2027, 6, 30))
    store.catalogue.rules(org_id)  # the catalogue seeded
    with store.transaction() as s:
        jobcenter = s.exec(select(Service.id).where(Service.key == "jobcenter")).first()
    referral = store.referrals.add(staff, case.code, service_id=jobcenter, domain="work",
                                   purpose="Arbeitssuche, Anerkennung des Abschlusses", consent=True,
                                   shared_domains=("work", "language"))
    return staff, case.code, referral


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        settings = settings_for(f"sqlite:///{Path(workdir) / 'documents.sqlite3'}", Path(workdir))
        initialise(settings, org_name="Stadt Leverkusen", prefix="LEV", districts=["I"], quiet=True)
        services = build_services(settings, clock=FixedClock(NOW))
        staff, code, referral = a_case(services)
        fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=False, font_paths=[str(font_folder())])
        minimal = b'#set text(font: "DejaVu Sans")\nHallo'
        baseline = statistics.median(timed(lambda: typst.compile(minimal, font_paths=fonts), args.rounds))
        print(f"baseline: a one-line document, same engine and fonts   median {baseline:6.2f} ms")
        # the first document of a process: Typst loaded, fonts read, nothing cached yet
        subject = services.store.documents.subject(staff, code, DocumentKind.CONSENT)
        data = document_data(subject, [services.catalogs.get("de"), services.catalogs.get("ar")],
                             today=services.local_now().date())
        started = time.perf_counter()
        PdfEngine().render(DocumentKind.CONSENT, data)
        print(f"the first document after start (consent, de+ar, fonts read)  {(time.perf_counter() - started) * 1000:6.1f} ms")
        print(f"{'document':<11}{'languages':<10}{'render median':>14}{'(x baseline)':>14}{'whole press':>13}"
              f"{'(x baseline)':>14}{'pages':>6}{'KB':>6}")
        today = services.local_now().date()
        for kind in DocumentKind:
            ref = referral if kind.per_referral else None
            for language in LANGUAGES:
                translators = [services.catalogs.get("de")] + ([services.catalogs.get(language)] if language != "de" else [])

                def whole(kind=kind, ref=ref, translators=translators) -> bytes:  # noqa: ANN001
                    subject = services.store.documents.subject(staff, code, kind, ref)
                    return services.pdf.render(kind, document_data(subject, translators, today=today))

                data = document_data(services.store.documents.subject(staff, code, kind, ref), translators, today=today)
                render = statistics.median(timed(lambda kind=kind, data=data: services.pdf.render(kind, data), args.rounds))
                press = statistics.median(timed(whole, args.rounds))
                pdf = whole()
                pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
                names = "de" + ("+" + language if language != "de" else "")
                print(f"{kind.value:<11}{names:<10}{render:>11.2f} ms{render / baseline:>13.1f}x{press:>10.2f} ms"
                      f"{press / baseline:>13.1f}x{pages:>6}{len(pdf) // 1024:>6}")
        services.store.close()


if __name__ == "__main__":
    main()
