"""Which services fit a case: by life domain, age and residence status (the catalogue's rules),
and in which order they are offered."""

from __future__ import annotations

from dataclasses import dataclass

from domain.vocabulary import BENEFIT_BOUND_AREAS, BENEFIT_LEGAL_AREAS, Benefits


@dataclass(frozen=True)
class ServiceRule:
    id: int
    key: str
    name: str
    domains: frozenset[str]
    min_age: int | None
    max_age: int | None
    statuses: frozenset[str]
    legal_area: str = ""  # SGB II, AsylbLG ...: a service of a benefit system is for its clients

    @property
    def specificity(self) -> int:
        """How narrowly the service is bound: age- and status-bound programmes count more."""
        return bool(self.statuses) + (self.min_age is not None) + (self.max_age is not None)


def serves_benefits(service: ServiceRule, benefits: str | None) -> bool | None:
    """Whether the service administers the client's benefit system: True (it does), False (it
    administers another one), None (it is bound to no benefit system, or the client's is not
    known)."""
    term = Benefits.parse(benefits)
    if term is None or term is Benefits.UNKNOWN or service.legal_area not in BENEFIT_BOUND_AREAS:
        return None
    return service.legal_area in BENEFIT_LEGAL_AREAS.get(term, frozenset())


def fits(service: ServiceRule, *, age: int | None, status: str | None, domain: str | None,
         benefits: str | None = None) -> bool:
    """Whether the service is for this client. An unknown age fits no age-bound service: the
    bot must not guess that someone is 30 and send them to the MBE. A service of another benefit
    system than the client's (the Sozialamt for someone in SGB II) is not suggested."""
    if serves_benefits(service, benefits) is False:
        return False
    if service.min_age is not None and (age is None or age < service.min_age):
        return False
    if service.max_age is not None and (age is None or age > service.max_age):
        return False
    if service.statuses and status not in service.statuses:
        return False
    return domain is None or not service.domains or domain in service.domains


def suggest(services: list[ServiceRule], *, age: int | None, status: str | None, domain: str | None = None,
            benefits: str | None = None) -> list[ServiceRule]:
    """The services that fit, the most specific first (the client's own benefit system's
    service, then age- and status-bound programmes before general services), so the likeliest
    one is at the top of the buttons."""
    fitting = [s for s in services if fits(s, age=age, status=status, domain=domain, benefits=benefits)]
    return sorted(fitting, key=lambda s: (-bool(serves_benefits(s, benefits)), -s.specificity, s.name))


def offer(services: list[ServiceRule], *, age: int | None, status: str | None, domain: str | None,
          benefits: str | None = None) -> tuple[list[ServiceRule], list[ServiceRule]]:
    """(suggested, others): the fitting services ranked as `suggest` ranks them, then the rest
    of the catalogue for that domain by name, so a case manager can always refer where they
    judge right."""
    suggested = suggest(services, age=age, status=status, domain=domain, benefits=benefits)
    others = sorted((s for s in services if s not in suggested and (not s.domains or domain in s.domains)),
                    key=lambda s: s.name)
    return suggested, others


# The catalogue every new organisation starts with (domain.md); admins change it freely.
DEFAULT_CATALOGUE = (
    # key, name, legal area, programme, domains, min age, max age, statuses
    ("jobcenter", "Jobcenter", "SGB II", "", "work,money", 15, 67,
     "aufenthaltserlaubnis,niederlassungserlaubnis,eu"),
    ("arbeitsagentur", "Agentur für Arbeit", "SGB III", "", "work", 15, 67, ""),
    ("jugendamt", "Jugendamt", "SGB VIII", "", "family,education", None, None, ""),
    ("sozialamt", "Sozialamt (SGB XII / AsylbLG)", "AsylbLG", "", "money,housing,health", None, None,
     "gestattung,duldung,other"),
    ("jmd", "Jugendmigrationsdienst (JMD)", "", "JMD", "language,education,work,participation", 12, 27, ""),
    ("mbe", "Migrationsberatung für erwachsene Zuwanderer (MBE)", "", "MBE",
     "language,work,money,residence,family,participation", 27, None, ""),
    ("teilhabe", "Teilhabemanagement („Gemeinsam klappt's“ / „Durchstarten“)", "", "Teilhabemanagement",
     "education,work,language", 18, 27, "gestattung,duldung"),
    ("abh", "Ausländerbehörde (auch §25a/§25b AufenthG)", "AufenthG", "", "residence", None, None, ""),
    ("einbuergerung", "Einbürgerungsbehörde", "StAG", "", "residence", 16, None,
     "aufenthaltserlaubnis,niederlassungserlaubnis,eu"),
    ("sprachkurs", "Sprachkursträger (Integrationskurs)", "AufenthG", "", "language", 16, None, ""),
    ("gesundheitsamt", "Gesundheitsamt", "", "", "health", None, None, ""),
    ("wohnungsamt", "Wohnungsamt", "", "", "housing", None, None, ""),
    ("schulamt", "Schulamt", "", "", "education", None, None, ""),
    ("familienberatung", "Familienberatung", "", "", "family", None, None, ""),
    ("ehrenamt", "Ehrenamtliche Initiativen", "", "", "participation,language", None, None, ""),
)
