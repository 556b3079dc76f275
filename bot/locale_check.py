"""Checks an uploaded `.po` before anything changes: syntax, the source's placeholders and HTML
tags, the language's plural forms, and that nothing filled before is now empty."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from babel.core import UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.plurals import get_plural
from babel.messages.pofile import PoFileError, read_po

from bot.i18n import LOCALES_DIR

PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)[sd]")
TAG = re.compile(r"<(/?)([a-z-]+)[^>]*>")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
# the lines a .po file consists of (Babel's reader forgives more than msgfmt would)
_QUOTED = r'"(?:[^"\\]|\\.)*"'
PO_LINE = re.compile(rf"^(?:#.*|(?:msgctxt|msgid|msgid_plural|msgstr|msgstr\[\d+\])\s+{_QUOTED}|{_QUOTED})$")


def syntax_problems(content: bytes) -> list[tuple[int, str]]:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        return [(content[: error.start].count(b"\n") + 1, "syntax: not UTF-8")]
    return [(number, "syntax: not a comment, keyword with a quoted string, or continuation line")
            for number, line in enumerate(text.splitlines(), start=1) if line.strip() and not PO_LINE.match(line.strip())]


@dataclass
class CheckResult:
    catalog: Catalog | None
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, what is wrong)
    translated: int = 0
    total: int = 0

    @property
    def ok(self) -> bool:
        return self.catalog is not None and not self.problems

    @property
    def completeness(self) -> int:
        return round(100 * self.translated / self.total) if self.total else 0


def template() -> Catalog:
    with (LOCALES_DIR / "messages.pot").open("rb") as handle:
        return read_po(handle)


def parse(content: bytes, language: str) -> Catalog:
    return read_po(io.BytesIO(content), locale=language, abort_invalid=True)


def _tags_balanced(text: str) -> bool:
    stack = []
    for closing, name in TAG.findall(text):
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def check(content: bytes, language: str, *, current: Catalog | None = None) -> CheckResult:
    """Everything wrong with the file, by line; a catalog only when there is nothing."""
    if not LANGUAGE_CODE.match(language):
        return CheckResult(None, [(0, f"{language!r} is not a language code like tr or pt_BR")])
    if problems := syntax_problems(content):
        return CheckResult(None, problems)
    try:
        catalog = parse(content, language)
    except PoFileError as error:
        line = re.search(r"line (\d+)", str(error))
        return CheckResult(None, [(int(line[1]) if line else 0, f"syntax: {str(error).split(' on line')[0]}")])
    except (UnknownLocaleError, ValueError, UnicodeDecodeError) as error:
        return CheckResult(None, [(0, f"not a readable catalog: {type(error).__name__}")])
    try:
        plurals = get_plural(language).num_plurals
    except (UnknownLocaleError, ValueError):
        plurals = 2
    result = CheckResult(catalog, total=len([m for m in template() if m.id]))
    before = {(m.id, m.context): m.string for m in current} if current is not None else {}
    for source in template():
        if not source.id:
            continue
        message = catalog.get(source.id, context=source.context)  # "open" (goal) is not "open" (case)
        strings = () if message is None else (message.string if isinstance(message.string, tuple) else (message.string,))
        line = message.lineno if message is not None else 0
        sources = source.id if isinstance(source.id, tuple) else (source.id,)
        label = sources[0][:40]
        had = before.get((source.id, source.context))
        if not any(strings):
            if had and any(had if isinstance(had, tuple) else (had,)):
                result.problems.append((line, f"“{label}”: was translated before and is now empty"))
            continue
        result.translated += 1
        if isinstance(source.id, tuple) and len(strings) != plurals:
            result.problems.append((line, f"“{label}”: {len(strings)} plural forms, {language} needs {plurals}"))
        expected = set().union(*(PLACEHOLDER.findall(s) for s in sources))
        expected_tags = sorted(TAG.findall(sources[-1]))
        for string in strings:
            if not string:
                result.problems.append((line, f"“{label}”: a plural form is empty"))
                continue
            found = set(PLACEHOLDER.findall(string))
            if (found - expected) or (not isinstance(source.id, tuple) and found != expected):
                result.problems.append((line, f"“{label}”: placeholders {sorted(found)} instead of {sorted(expected)}"))
            if sorted(TAG.findall(string)) != expected_tags or not _tags_balanced(string):
                result.problems.append((line, f"“{label}”: HTML tags differ from the source or are unbalanced"))
    if result.catalog is not None and not result.problems and result.translated == 0:
        result.problems.append((0, "the file translates nothing"))
    return result
