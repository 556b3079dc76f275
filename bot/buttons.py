"""Button data: one typed codec per family of buttons, all declared here.

Callback data is short (64 bytes), typed, and never carries personal data (only ids, codes and
indices). Each family has a prefix of its own, checked unique when the codec is declared, and
typed fields: a press whose data does not parse (forged, or from a version that had other
buttons) never reaches a handler (bot/routes.py refuses it, in one place). What does parse is
still checked by its handler against the user's rights and the current state.

The wire format is the one version 0.1 sent, so buttons already in chats keep working.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from domain.documents import DOCUMENT_LANGUAGES, DocumentKind
from domain.messages import N_
from domain.vocabulary import GOAL_OUTCOMES, LifeDomain, ReferralStatus

SEPARATOR = "|"
MAX_BYTES = 64  # Telegram's limit
CASE_CODE = re.compile(r"^[A-Za-z]{1,8}-\d{4}-\d{4,6}$")

# the one refusal of a press that is forged, stale, or no longer allowed
# Translators: shown in a small pop-up when someone presses an old or forged button
STALE = N_("This button is no longer valid.")

Parser = Callable[[str], Any]  # a field's text -> its value, or None when it is not one


def integer(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 18 else None


# direction marks and isolates that a code copied out of right-to-left text carries along
_INVISIBLE = re.compile(r"[\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# what may name a case when typed: its code, or just its number ("37"), or year and number
CASE_NUMBER = re.compile(r"^(?:(?P<year>\d{4})[-/])?(?P<number>\d{1,6})$")


def typed_code(text: str) -> str:
    """A case code as typed or pasted: invisible marks gone, upper case."""
    return _INVISIBLE.sub("", text).strip().upper()


def case_code(text: str) -> str | None:
    return text.upper() if CASE_CODE.match(text) else None


def token(text: str) -> str | None:
    """A short word of ours (a nonce, an ISO date, a language code); never empty."""
    return text if text and len(text) <= 32 else None


def optional(text: str) -> str:
    return text


def one_of(*values: str) -> Parser:
    allowed = frozenset(values)
    return lambda text: text if text in allowed else None


def either(*parsers: Parser) -> Parser:
    def parse(text: str) -> Any:
        for parser in parsers:
            value = parser(text)
            if value is not None:
                return value
        return None
    return parse


class Buttons:
    """A family of buttons: `Buttons("g", integer, one_of(...))` makes and reads "g|12|achieved"."""

    _families: dict[str, Buttons] = {}

    def __init__(self, prefix: str, *fields: Parser, refusal: str | None = None) -> None:
        if prefix in Buttons._families or SEPARATOR in prefix:
            raise ValueError(f"button prefix {prefix!r} is taken or malformed")
        Buttons._families[prefix] = self
        self.prefix, self.fields = prefix, fields
        self.refusal = refusal or STALE

    @property
    def pattern(self) -> str:
        return rf"^{re.escape(self.prefix)}\|"

    def data(self, *values: object) -> str:
        if len(values) != len(self.fields):
            raise ValueError(f"{self.prefix!r} buttons take {len(self.fields)} values")
        data = SEPARATOR.join((self.prefix, *(str(v) for v in values)))
        if len(data.encode("utf-8")) > MAX_BYTES:
            raise ValueError("callback data longer than Telegram allows")
        return data

    def parse(self, data: str | None) -> tuple | None:
        """The typed values, or None when the data is not of this family's shape."""
        if not data:
            return None
        parts = data.split(SEPARATOR)
        if parts[0] != self.prefix or len(parts) != len(self.fields) + 1:
            return None
        values = tuple(parse(part) for parse, part in zip(self.fields, parts[1:], strict=True))
        return None if any(v is None for v in values) else values


# --- the families (prefix, fields) ---------------------------------------------------------
# a step of an open dialogue: nonce, version, action, argument (bot/dialogue_view.py)
FORM = Buttons("f", token, integer, one_of("b", "s", "d", "c", "e", "q", "n", "o", "p", "t", "x", "k"), optional,
               refusal=N_("This button is no longer valid. Please use the latest question."))
# /cases and the case view: open, reveal, hide (a case code) or a page of a list (filter, offset)
CASES = Buttons("c", either(one_of("o", "r", "h"), lambda t: t if t.startswith("p") and len(t) <= 12 else None),
                either(case_code, integer))
# an unfinished dialogue met a new one: continue it, or discard it (and start the new one: its
# form and case, and the life domain a next-step button gave); the nonce names the unfinished one
RESUME = Buttons("D", one_of("c", "n"), token, optional, optional, optional)
# the case view's actions on a case
CASE_ACTION = Buttons("k", one_of("assess", "goal", "refer", "note", "handover", "close", "conference", "reopen",
                                  "goals", "referrals", "reassign", "file", "change", "erase", "hold", "release",
                                  "export", "documents"),
                      case_code)
# a next step offered after a save: a goal or referral in one life domain of a case
NEXT_STEP = Buttons("n", one_of("goal", "refer"), case_code, one_of(*(d.value for d in LifeDomain)))
GOAL = Buttons("g", integer, one_of(*GOAL_OUTCOMES))
REFERRAL = Buttons("r", integer, one_of(*(s.value for s in ReferralStatus), "later", "consent", "withdraw", "result", "gap"))
HANDOVER = Buttons("h", integer, one_of("a", "d"))  # accept, decline
REASSIGN = Buttons("x", case_code, integer)  # to a case manager
# an outbox row: snooze, done; "Z": every reminder of the gathered message it is on, snoozed
REMINDER = Buttons("o", integer, one_of("z", "d", "Z"))
CONFERENCE = Buttons("v", integer, one_of("r", "x", "X", "o"))  # move, cancel (ask, confirmed), outcome
JOUR_FIXE = Buttons("j", token)  # add an agenda item to the meeting on this ISO date
LANGUAGE = Buttons("l", token)
# the case file: a page of the timeline (case, filter, cursor: "" for the newest), the filter
# menu of a case, one entry opened in full
TIMELINE = Buttons("t", case_code, token, optional)
TIMELINE_FILTER = Buttons("T", case_code)
ENTRY = Buttons("e", integer)
INVITE = Buttons("i", token, token)  # role, district id or "?" (ask)
CATALOGUE = Buttons("s", one_of("export"))
DIGEST = Buttons("d", one_of("f", "h"), token)  # frequency or hour, its value
# erasure (four eyes): ask for it with a reason; a second person confirms ("y") or declines ("n")
ERASE = Buttons("Q", case_code, one_of("request", "consent-withdrawn"))
ERASURE = Buttons("E", integer, one_of("y", "n"))
# /staff (admins): a member (0 for the list), what to do, and its argument (a receiver, a role)
STAFF = Buttons("u", integer, one_of("list", "menu", "off", "on", "to", "role", "pin", "emp", "cap"),
                optional)
LOCALES = Buttons("L", token, one_of("get", "on", "off", "back", "live", "drop"))  # language (or upload id), action
# documents on paper: a case, the kind, its referral (0: none), the language beside German ("":
# ask for it; "menu": back to the documents menu); and the signed scans of a case (its code: the list) or one of them (its id: fetch)
DOCUMENT = Buttons("P", case_code, one_of(*(k.value for k in DocumentKind)), integer,
                   one_of("", "menu", *DOCUMENT_LANGUAGES))
ATTACHMENT = Buttons("A", either(case_code, integer))
# a signed scan that came while the PIN was due, kept once the PIN is confirmed: the button sits
# on the answer that quotes the scan; its data is the message id of the document the scan answers
HELD_SCAN = Buttons("S", integer)
# a report for a period, by its label ("2026-Q3", "2026-11", "2026")
REPORT = Buttons("R", token)
# a Meldebogen: open it, assign (choose whom), to (that case manager), wait, decline; start (its intake)
REQUEST = Buttons("M", integer, one_of("open", "assign", "to", "wait", "decline", "start"), optional)
# a case to another municipality: menu, to (an organisation), ok (consent confirmed), no; on a
# transfer: accept, decline
TRANSFER = Buttons("Y", either(case_code, integer), one_of("menu", "to", "ok", "no", "accept", "decline"), optional)
# /districts (admins): edit a district (its code) or add one ("+")
DISTRICT = Buttons("W", token)
