"""`casebot simulate --demo`: a plainly fictitious organisation with staff and a few dozen cases,
so lists have something to show. Only ever into the simulator's own database (prefix DEMO)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from domain.consent import CONSENT_VERSION
from domain.roles import Role
from storage.store import Store

DEMO_PREFIX = "DEMO"
# the demo's people have ids of their own (900_001 ...): people added in the page count up from
# 100_001 (simulator/botapi.py), so a demo after them never takes over one of theirs
STAFF = (  # (telegram id in the simulator, first name, role, district, language)
    (900_001, "Alex (Admin, Demo)", Role.ADMIN, None, "de"),
    (900_002, "Kim (Koordination, Demo)", Role.COORDINATOR, None, "de"),
    (900_003, "Cem (CM Bezirk I, Demo)", Role.CASE_MANAGER, "I", "de"),
    (900_004, "Dana (CM Bezirk II, Demo)", Role.CASE_MANAGER, "II", "en"),
    (900_005, "Elif (CM Bezirk III, Demo)", Role.CASE_MANAGER, "III", "de"),
)
GIVEN = ("Amal", "Yusuf", "Olena", "Reza", "Mariam", "Dawit", "Selin", "Ivan", "Hamid", "Nour", "Farid", "Leyla")
FAMILY = ("Beispiel", "Muster", "Probe", "Fiktiv")  # plainly invented: nobody is called "Demo-Muster"
STATUSES = ("gestattung", "duldung", "aufenthaltserlaubnis", "niederlassungserlaubnis", "eu", "other")


class NotADemoDatabase(Exception):
    """The database belongs to a real organisation: demo data never goes there."""


@dataclass(frozen=True)
class Seeded:
    """What `seed` found and did, so nobody is told of data that was not added."""

    people: list[tuple[int, str, str | None]]  # (id, name, language) of every demo person
    staff_added: int
    cases_added: int


def seed(store: Store, *, cases: int = 36) -> Seeded:
    """Register the demo staff and create fictitious cases (once: a second run adds nothing
    and says so)."""
    org_id = store.staff.first_organisation_id()
    if store.staff.organisation(org_id).code_prefix != DEMO_PREFIX:
        raise NotADemoDatabase("demo data goes only into the simulator's own database")
    people = [(tid, name, lang) for tid, name, _, _, lang in STAFF]
    if store.staff.user_by_telegram_id(STAFF[0][0]) is not None:
        return Seeded(people, 0, 0)  # seeded before
    by_district = {}
    for telegram_id, name, role, district, language in STAFF:
        district_id = store.staff.district_by_code(org_id, district).id if district else None
        code = store.staff.create_invitation(org_id=org_id, role=role, district_id=district_id,
                                             expires_in=timedelta(hours=1), created_by=None)
        # with their names, as Telegram would give them: the digest names people, not "#3"
        user = store.staff.redeem_invitation(code=code, telegram_id=telegram_id, language=language,
                                             display_name=name)
        if district:
            by_district[district_id] = user
    rng = random.Random(2026)  # the same demo every time
    today = store.clock.now().astimezone(store.tz).date()
    for _n in range(cases):
        district_id, manager = rng.choice(list(by_district.items()))
        given, family = rng.choice(GIVEN), f"Demo-{rng.choice(FAMILY)}"
        born = date(rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28))
        arrived = today - timedelta(days=rng.randint(30, 5 * 365))
        values = {
            "source": rng.choice(("fb50", "fb33", "ki", "traeger", "self")), "given_name": given,
            "family_name": family, "birth_date": born.isoformat(), "district": str(district_id),
            "residence_status": rng.choice(STATUSES), "arrived_germany": arrived.isoformat(),
            "arrived_municipality": (arrived + timedelta(days=rng.randint(0, 60))).isoformat(),
            "languages": [rng.choice(("ar", "fa", "uk", "ru", "tr", "ti"))], "interpreter": rng.choice(("yes", "no")),
            "adults": rng.randint(1, 3), "children": rng.randint(0, 4), "note": "Fiktiver Demo-Fall.",
            "in_target_group": True,
        }
        store.cases.create(
            user=manager, district_id=district_id, assigned_to=manager.id,
            person_index=store.cases.person_index(org_id=org_id, given_name=given, family_name=family, birth_date=born),
            consent_version=CONSENT_VERSION, consent_at=store.clock.now(),
            next_due_on=today + timedelta(days=rng.randint(-20, 60)), record="intake", values=values,
        )
    return Seeded(people, len(STAFF), cases)
