"""The organisation's own structure, as the rules see it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DistrictInfo:
    """A district (Stadtbezirk): clients are assigned to a case manager by the district they live in."""

    id: int
    code: str
    name: str


MAX_QUARTERS = 24  # buttons a phone shows without scrolling far
MAX_QUARTER_LENGTH = 60


def parse_quarters(value: str) -> tuple[str, ...]:
    """A district's quarters (Stadtteile) as the organisation lists them, comma-separated:
    offered as buttons in the intake. ValueError (with a reason) if the list is not one."""
    return _names(value, most=MAX_QUARTERS, longest=MAX_QUARTER_LENGTH, what="quarters per district",
                  one="a quarter's name")


def _names(value: str, *, most: int, longest: int, what: str, one: str) -> tuple[str, ...]:
    """A comma-separated list of names, tidied (spaces folded, each once, in the order given)."""
    names = tuple(dict.fromkeys(" ".join(n.split()) for n in value.split(",") if n.strip()))
    if len(names) > most:
        raise ValueError(f"at most {most} {what}")
    if any(len(n) > longest for n in names):
        raise ValueError(f"{one} has at most {longest} characters")
    return names


MAX_EMPLOYERS = 20
MAX_EMPLOYER_LENGTH = 60


def parse_employers(value: str) -> tuple[str, ...]:
    """The employers (Träger) the organisation's case managers work for, comma-separated ("Stadt
    Leverkusen (KI), Caritas, AWO, Diakonie"): an admin picks one per member of staff, and
    reports count cases by it. ValueError (with a reason) if the list is not one."""
    return _names(value, most=MAX_EMPLOYERS, longest=MAX_EMPLOYER_LENGTH, what="employers", one="an employer's name")


MAX_DISTRICT_NAME = 100


@dataclass(frozen=True)
class Borders:
    """A district's border quarters (Grenzquartiere) and the districts they border: a client
    living in one may go to a case manager of any of those districts with room."""

    quarters: tuple[str, ...] = ()
    neighbours: tuple[str, ...] = ()  # district codes

    def of(self, quarter: str | None) -> tuple[str, ...]:
        """The other districts a client of this quarter may go to (none: not a border quarter)."""
        if not quarter:
            return ()
        wanted = " ".join(quarter.split()).casefold()
        return self.neighbours if any(q.casefold() == wanted for q in self.quarters) else ()


@dataclass(frozen=True)
class Candidate:
    """A case manager who might take a new case: their district, open cases and capacity."""

    user_id: int
    district_id: int | None
    open_cases: int
    capacity: int | None  # the most open cases they take (None: no limit set)

    @property
    def has_room(self) -> bool:
        return self.capacity is None or self.open_cases < self.capacity


@dataclass(frozen=True)
class Assignment:
    user_id: int
    waiting: bool = False  # every case manager who could take it is full: the coordinator assigns it later


def assign(*, district_id: int, border_districts: tuple[int, ...], recorder: Candidate | None, recorder_id: int,
           candidates: tuple[Candidate, ...]) -> Assignment:
    """Who takes a new case (the concept: by the district the client lives in; in a border
    quarter flexibly, by free capacity across the bordering districts).

    The recording case manager keeps a case of their own district while they have room (they
    met the client). Otherwise the case manager with the fewest open cases among those with room
    in the client's district, or, for a border quarter, in it and the districts it borders.
    When there are case managers there but none has room, the case waits (the recording user
    holds it until the coordinator assigns it); with no case manager there at all, the
    recording user keeps it, as before capacities existed."""
    districts = {district_id, *border_districts}
    if recorder is not None and recorder.has_room and not border_districts and (
            recorder.district_id == district_id or recorder.district_id is None):
        return Assignment(recorder.user_id)
    there = [c for c in candidates if c.district_id in districts]
    with_room = sorted((c for c in there if c.has_room),
                       key=lambda c: (c.open_cases, -(c.capacity - c.open_cases) if c.capacity else 0, c.user_id))
    if with_room:
        return Assignment(with_room[0].user_id)
    return Assignment(recorder_id, waiting=bool(there))
