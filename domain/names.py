"""How names vary between documents, for recognising a person who is already a case.

Two keys: the exact one (case, accents, punctuation and the order of the parts do not matter;
"Al-Hassan" is "Al Hassan") refuses a second intake; the folded one also forgives how a name
was transliterated (Mohammed / Muhammad / Mohamad, Ahmad / Ahmed, Youssef / Jussuf) and only
warns "possibly the same person": the case manager decides.
"""

from __future__ import annotations

import re
import unicodedata

# every character that is not a letter or digit separates parts of a name
_SEPARATOR = re.compile(r"[^\w]|_", re.UNICODE)
# spellings of one sound across German, English and French transliterations (longest first)
_SOUNDS = (("dsch", "j"), ("tsch", "ch"), ("sch", "sh"), ("dzh", "j"), ("dj", "j"), ("kh", "h"), ("ph", "f"),
           ("ou", "u"), ("ck", "k"), ("w", "v"), ("y", "j"), ("q", "k"), ("c", "k"), ("z", "s"))
_VOWELS = frozenset("aeiou")


def name_parts(*names: str) -> list[str]:
    """The parts of the names, compared as a clerk would: case, accents and separators gone."""
    parts = []
    for name in names:
        decomposed = unicodedata.normalize("NFKD", name.casefold())
        plain = "".join(ch for ch in decomposed if unicodedata.category(ch)[0] in "LNZP" or not ch.strip())
        parts += [p for p in _SEPARATOR.split(plain) if p]
    return parts


def exact_key(given: str, family: str) -> str:
    """The exact comparison: the parts, in any order (given and family names are often swapped)."""
    return " ".join(sorted(name_parts(given, family)))


def _fold(part: str) -> str:
    """A part's transliteration skeleton: one spelling per sound, no vowels after the first
    letter, no doubled letters (mohammed, muhammad, mohamad -> mhmd)."""
    for written, sound in _SOUNDS:
        part = part.replace(written, sound)
    skeleton = part[:1] + "".join(ch for ch in part[1:] if ch not in _VOWELS)
    return re.sub(r"(.)\1+", r"\1", skeleton)


def folded_key(given: str, family: str) -> str:
    """The forgiving comparison: every part folded, in any order."""
    return " ".join(sorted(_fold(p) for p in name_parts(given, family)))
