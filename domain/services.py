"""Which services fit a case: by life domain, age and residence status (the catalogue's rules),
and in which order they are offered."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceRule:
    id: int
    key: str
    name: str
    domains: frozenset[str]
    min_age: int | None
    max_age: int | None
    statuses: frozenset[str]

    @property
    def specificity(self) -> int:
        """How narrowly the service is bound: age- and status-bound programmes count more."""
        return bool(self.statuses) + (self.min_age is not None) + (self.max_age is not None)


def fits(service: ServiceRule, *, age: int | None, status: str | None, domain: str | None) -> bool:
    """Whether the service is for this client. An unknown age fits no age-bound service: the
    bot must not guess that someone is 30 and send them to the MBE."""
    if service.min_age is not None and (age is None or age < service.min_age):
        return False
    if service.max_age is not None and (age is None or age > service.max_age):
        return False
    if service.statuses and status not in service.statuses:
        return False
    return domain is None or not service.domains or domain in service.domains


def suggest(services: list[ServiceRule], *, age: int | None, status: str | None, domain: str | None = None
            ) -> list[ServiceRule]:
    """The services that fit, the most specific first (age- and status-bound programmes before
    general services), so the likeliest one is at the top of the buttons."""
    fitting = [s for s in services if fits(s, age=age, status=status, domain=domain)]
    return sorted(fitting, key=lambda s: (-s.specificity, s.name))


def offer(services: list[ServiceRule], *, age: int | None, status: str | None, domain: str | None
          ) -> tuple[list[ServiceRule], list[ServiceRule]]:
    """(suggested, others): the fitting services ranked as `suggest` ranks them, then the rest
    of the catalogue for that domain by name, so a case manager can always refer where they
    judge right."""
    suggested = suggest(services, age=age, status=status, domain=domain)
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
    ("abh", "Ausländerbehörde (incl. §25a/§25b AufenthG)", "AufenthG", "", "residence", None, None, ""),
    ("einbuergerung", "Einbürgerungsbehörde", "StAG", "", "residence", 16, None,
     "aufenthaltserlaubnis,niederlassungserlaubnis,eu"),
    ("sprachkurs", "Sprachkursträger (Integrationskurs)", "AufenthG", "", "language", 16, None, ""),
    ("gesundheitsamt", "Gesundheitsamt", "", "", "health", None, None, ""),
    ("wohnungsamt", "Wohnungsamt", "", "", "housing", None, None, ""),
    ("schulamt", "Schulamt", "", "", "education", None, None, ""),
    ("familienberatung", "Familienberatung", "", "", "family", None, None, ""),
    ("ehrenamt", "Ehrenamtliche Initiativen", "", "", "participation,language", None, None, ""),
)
