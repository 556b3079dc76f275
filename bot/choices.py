"""The domain's vocabulary as the form engine's choices (value + msgid, in the offered order)."""

from __future__ import annotations

from bot.forms.engine import Choice
from domain.vocabulary import (
    Benefits,
    ChangeNature,
    CloseReason,
    ContactKind,
    LifeDomain,
    NeedLevel,
    OtherCaseManagement,
    ResidenceStatus,
    Responsible,
    Source,
    Term,
)


def choices_of(terms: type[Term]) -> tuple[Choice, ...]:
    return tuple(Choice(term.value, term.label) for term in terms)


def label_of(terms: type[Term], value: str | None) -> str:
    """The msgid of a stored value's label (untranslated; the caller translates). A value the
    vocabulary does not know (an older version's, or damaged) is shown as it is."""
    term = terms.parse(value)
    return term.label if term is not None else (value or "")


LIFE_DOMAINS = choices_of(LifeDomain)
NEED_LEVELS = choices_of(NeedLevel)
RESPONSIBLE = choices_of(Responsible)
CONTACT_KINDS = choices_of(ContactKind)
CLOSE_REASONS = choices_of(CloseReason)
RESIDENCE_STATUSES = choices_of(ResidenceStatus)
SOURCES = choices_of(Source)
BENEFITS = choices_of(Benefits)
# "None" is the whole answer at once (no "Done" after it)
OTHER_CASE_MANAGEMENT = tuple(Choice(c.value, c.label, exclusive=c.value == OtherCaseManagement.NONE)
                              for c in choices_of(OtherCaseManagement))
CHANGE_NATURES = choices_of(ChangeNature)
