"""What each document says, in German and the client's language: every text from the catalogs
(so a translator corrects it like any other), every value from the case, and only the values
the document's kind may carry (storage/documents.py decides what it reads)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel.dates import format_date, format_time

from bot.choices import label_of
from bot.i18n import N_, Translator
from domain.documents import DocumentKind
from domain.messages import NC_
from domain.vocabulary import LifeDomain, NeedLevel, Responsible
from storage.types import DocumentSubject, ServiceAddress

# The consent to documentation, as read to the client; its version is domain.consent.CONSENT_VERSION
# and is stored with every case. Change the text and the version together.
# Translators: the consent form a client signs; formal, plain language a client understands
CONSENT_TEXT = (
    N_("I agree that the Kommunales Integrationsmanagement (KIM) of {organisation} records my personal data in a "
       "case file, so that my case manager can advise and support me."),
    N_("The case file holds what we work on together: my situation in the areas of life we discuss, which can "
       "include my health and my residence status. Only my case manager and the KIM coordination can read it; it "
       "is stored encrypted."),
    N_("My data are passed on to another office only if I agree to it separately, for a purpose stated in writing."),
    N_("My consent is voluntary. I can withdraw it at any time, without any disadvantage; what was recorded until "
       "then remains lawful. After a withdrawal my data are erased, unless a law requires keeping them."),
    N_("I have the right to see my data, to have them corrected or erased, and to complain to the data "
       "protection authority of North Rhine-Westphalia (LDI NRW)."),
)
CONSENT_LEGAL = N_("Legal basis: Art. 6(1)(a) and Art. 9(2)(a) GDPR. Text version {version}.")
SHARE_TEXT = (
    N_("I agree that my case manager at the KIM of {organisation} passes on information about me to the office "
       "named below, for the purpose named below."),
)
SHARE_CLOSING = (
    N_("Only information on these areas of life may be passed on, and only to this office for this purpose."),
    N_("My consent is voluntary. I can withdraw it at any time, without any disadvantage, by telling my case "
       "manager."),
)
# Translators: a heading on a document: how to reach someone (phone, e-mail, office hours)
CONTACT_DETAILS = NC_("contact details", "Contact")
SHARE_LEGAL = N_("Legal basis: Art. 6(1)(a) and Art. 9(2)(a) GDPR; § 67b SGB X.")


class Bilingual:
    """Each text in the document's languages: German first, then the client's (if not German)."""

    def __init__(self, translators: list[Translator]) -> None:
        self.translators = translators

    def __call__(self, message: str, **params: object) -> list[str]:
        # a Latin name or code inside Arabic or Farsi text keeps its own direction (isolated)
        return [t.plain(message, **{k: t.isolate(v) for k, v in params.items()}) for t in self.translators]

    @property
    def languages(self) -> list[str]:
        return [t.language for t in self.translators]


def day(value: date | None) -> str:
    """A date on paper: the same digits in every language (31.12.2026)."""
    return format_date(value, "dd.MM.yyyy") if value else ""


def moment(value: datetime, tz) -> str:  # noqa: ANN001
    local = value.astimezone(tz)
    return f"{day(local.date())} {format_time(local, 'HH:mm')}"


def document_data(subject: DocumentSubject, translators: list[Translator], *, today: date) -> dict[str, Any]:
    """The JSON a document's template (locales/templates/documents/<kind>.typ) is filled with."""
    b = Bilingual(translators)
    de = translators[0]
    data: dict[str, Any] = {
        "languages": b.languages,
        "directions": ["rtl" if t.rtl else "ltr" for t in translators],
        "title": b(subject.kind.label),
        "organisation": " · ".join(p for p in (subject.organisation, subject.district) if p),
        "code_line": de.plain(N_("Case code {code}"), code=subject.code),
        "issued_line": de.plain(N_("made on {date}"), date=day(today)),
        "person": _person(b, subject),
        "signatures": [b(N_("Place, date")), b(N_("Signature of the client")), b(N_("Signature of the case manager"))],
    }
    builder = {
        DocumentKind.CONSENT: _consent, DocumentKind.SHARE: _share, DocumentKind.AGREEMENT: _agreement,
        DocumentKind.LETTER: _letter, DocumentKind.HANDOUT: _handout,
    }[subject.kind]
    data.update(builder(b, subject, translators[0].tz))
    return data


def _row(label: list[str], value: object) -> dict[str, Any]:
    return {"label": label, "value": str(value)}


def _person(b: Bilingual, subject: DocumentSubject) -> list[dict[str, Any]]:
    client = subject.client
    rows = [_row(b(N_("Case code")), subject.code)]
    if client is not None:
        rows = [_row(b(N_("Name")), f"{client.family_name}, {client.given_name}"),
                _row(b(N_("Date of birth")), day(client.birth_date))] + rows
    return rows


def _domains(b: Bilingual, domains: tuple[str, ...] | list[str]) -> list[list[str]]:
    return [b(label_of(LifeDomain, d)) for d in domains]


def _consent(b: Bilingual, subject: DocumentSubject, tz) -> dict[str, Any]:  # noqa: ANN001
    return {
        "heading": b(N_("Consent to documentation in the case file")),
        "paragraphs": [b(p, organisation=subject.organisation) for p in CONSENT_TEXT],
        "legal": b(CONSENT_LEGAL, version=subject.consent_version),
        "version": subject.consent_version,
    }


def _share(b: Bilingual, subject: DocumentSubject, tz) -> dict[str, Any]:  # noqa: ANN001
    return {
        "paragraphs": [b(p, organisation=subject.organisation) for p in SHARE_TEXT],
        "recipient": [_row(b(N_("Office")), _service_line(subject.service)),
                      _row(b(N_("Purpose")), subject.purpose)],
        "domains_heading": b(N_("Areas of life that may be shared")),
        "domains": _domains(b, subject.shared),
        "closing": [b(p) for p in SHARE_CLOSING],
        "legal": b(SHARE_LEGAL),
    }


def _goal_rows(b: Bilingual, subject: DocumentSubject, goals, *, with_domain: bool) -> list[list[Any]]:  # noqa: ANN001
    rows = []
    for goal in goals:
        row: list[Any] = [b(label_of(LifeDomain, goal.domain))] if with_domain else []
        rows.append(row + [goal.wording or "", b(label_of(Responsible, goal.responsible)), day(goal.due_on)])
    return rows


def _agreement(b: Bilingual, subject: DocumentSubject, tz) -> dict[str, Any]:  # noqa: ANN001
    return {
        "intro": b(N_("We agreed on these goals. We look at them together again by the date given at the latest.")),
        "goal_header": [b(N_("Area of life")), b(N_("Goal")), b(N_("Who does it")), b(N_("By when"))],
        "goals": _goal_rows(b, subject, subject.goals, with_domain=True),
        "no_goals": b(N_("No goals are agreed yet.")),
        "closing": b(N_("Changes are agreed together and recorded in a new agreement.")),
    }


def _letter(b: Bilingual, subject: DocumentSubject, tz) -> dict[str, Any]:  # noqa: ANN001
    shared = []
    for part in subject.shared_content:
        rows = [_row(b(N_("Need")), " / ".join(b(label_of(NeedLevel, part.need))) if part.need else "")]
        if part.note:
            rows.append(_row(b(N_("Note")), part.note))
        if part.strength:
            rows.append(_row(b(N_("Strengths")), part.strength))
        shared.append({"heading": b(label_of(LifeDomain, part.domain)), "rows": rows,
                       "goals": _goal_rows(b, subject, part.goals, with_domain=False)})
    return {
        "recipient": [_row(b(N_("To")), _service_line(subject.service)),
                      _row(b(N_("From")), _manager_line(subject)),
                      _row(b(CONTACT_DETAILS), subject.contact or "—")],
        "referral": [_row(b(N_("Purpose")), subject.purpose),
                     _row(b(N_("Consent to share")), " · ".join(" / ".join(d) for d in _domains(b, subject.shared)))],
        "shared": shared,
        "goal_header": [b(N_("Goal")), b(N_("Who does it")), b(N_("By when"))],
        "closing": b(N_("The client agreed to pass on only the areas of life above. Please tell the case manager "
                        "the outcome of the referral.")),
    }


def _handout(b: Bilingual, subject: DocumentSubject, tz) -> dict[str, Any]:  # noqa: ANN001
    appointments = [_row(b(N_("Fallkonferenz")), f"{moment(at, tz)} · {place}") for at, place in subject.conferences]
    if subject.next_assessment:
        appointments.append(_row(b(N_("Next review with your case manager")), day(subject.next_assessment)))
    return {
        "intro": b(N_("Please keep this sheet and bring it to your appointments. Your case code is {code}."),
                   code=subject.code),
        "appointments_heading": b(N_("Your next appointments")),
        "appointments": appointments,
        "no_appointments": b(N_("No appointment is planned yet.")),
        "services_heading": b(N_("Offices you were referred to")),
        "services": [_service_rows(b, s) for s in subject.referred],
        "no_services": b(N_("None yet.")),
        "contact_heading": b(N_("Your case manager")),
        "contact": [_row(b(N_("Name")), subject.case_manager or "—"), _row(b(CONTACT_DETAILS), subject.contact or "—"),
                    _row(b(N_("Office")), subject.organisation)],
    }


def _service_line(service: ServiceAddress | None) -> str:
    if service is None:
        return ""
    return " · ".join(p for p in (service.name, service.address) if p)


def _service_rows(b: Bilingual, service: ServiceAddress) -> list[dict[str, Any]]:
    rows = [_row(b(N_("Office")), service.name)]
    rows += [_row(b(label), value) for label, value in ((N_("Address"), service.address),
                                                         (N_("Opening hours"), service.hours),
                                                         (CONTACT_DETAILS, service.contact)) if value]
    return rows


def _manager_line(subject: DocumentSubject) -> str:
    return " · ".join(p for p in (subject.case_manager, subject.organisation, subject.district) if p)
