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

from bot.i18n import LOCALES_DIR, N_

PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)[sd]")
TAG = re.compile(r"<(/?)([a-z-]+)[^>]*>")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
# the lines a .po file consists of (Babel's reader forgives more than msgfmt would)
_QUOTED = r'"(?:[^"\\]|\\.)*"'
PO_LINE = re.compile(rf"^(?:#.*|(?:msgctxt|msgid|msgid_plural|msgstr|msgstr\[\d+\])\s+{_QUOTED}|{_QUOTED})$")


@dataclass(frozen=True)
class Problem:
    """What is wrong at a line of the file, written for a translator: a msgid with its values,
    said in the reader's language (the chat) or in English (the command line)."""

    line: int
    message: str
    params: dict[str, object] = field(default_factory=dict)

    def english(self) -> str:
        return self.message.format(**self.params)


def _listed(placeholders: set[str]) -> str:
    return ", ".join(sorted(placeholders)) or "–"


def syntax_problems(content: bytes) -> list[Problem]:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        return [Problem(content[: error.start].count(b"\n") + 1,
                        N_("The file is not saved as UTF-8. Please save it as UTF-8 (Poedit does so)."))]
    return [Problem(number, N_("This line does not belong in a .po file: expected a comment (#), msgid or msgstr "
                               "with its text in quotes, or a quoted continuation line."))
            for number, line in enumerate(text.splitlines(), start=1) if line.strip() and not PO_LINE.match(line.strip())]


@dataclass
class CheckResult:
    catalog: Catalog | None
    problems: list[Problem] = field(default_factory=list)
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
        return CheckResult(None, [Problem(0, N_("“{language}” is not a language code. Name the file after its "
                                                "language, e.g. tr.po or pt_BR.po."), {"language": language})])
    if problems := syntax_problems(content):
        return CheckResult(None, problems)
    try:
        catalog = parse(content, language)
    except PoFileError as error:
        line = re.search(r"line (\d+)", str(error))
        return CheckResult(None, [Problem(int(line[1]) if line else 0, N_(
            "The structure of the file is broken here, e.g. a msgstr without its msgid or a missing quote."))])
    except (UnknownLocaleError, ValueError, UnicodeDecodeError):
        return CheckResult(None, [Problem(0, N_("This is not a catalog that can be read (.po, UTF-8)."))])
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
                result.problems.append(Problem(line, N_("“{text}”: was translated before and is empty now."),
                                               {"text": label}))
            continue
        result.translated += 1
        if isinstance(source.id, tuple) and len(strings) != plurals:
            result.problems.append(Problem(line, N_("“{text}”: {found} plural forms; {language} needs {needed}."),
                                           {"text": label, "found": len(strings), "language": language,
                                            "needed": plurals}))
        expected = set().union(*(PLACEHOLDER.findall(s) for s in sources))
        expected_tags = sorted(TAG.findall(sources[-1]))
        for string in strings:
            if not string:
                result.problems.append(Problem(line, N_("“{text}”: a plural form is empty."), {"text": label}))
                continue
            found = set(PLACEHOLDER.findall(string))
            if (found - expected) or (not isinstance(source.id, tuple) and found != expected):
                result.problems.append(Problem(line, N_(
                    "“{text}”: the placeholders in braces must stay as in the original, untranslated: "
                    "{expected} (the translation has: {found})."),
                    {"text": label, "expected": _listed(expected), "found": _listed(found)}))
            if sorted(TAG.findall(string)) != expected_tags or not _tags_balanced(string):
                result.problems.append(Problem(line, N_(
                    "“{text}”: the formatting marks in angle brackets must be the same as in the original, "
                    "each one closed again."), {"text": label}))
    if result.catalog is not None and not result.problems and result.translated == 0:
        result.problems.append(Problem(0, N_("The file translates nothing.")))
    return result


def changed(new: Catalog, current: Catalog | None) -> list[str]:
    """The translations an upload changes or adds (as users will read them), in catalog order."""
    before = {(m.id, m.context): m.string for m in current} if current is not None else {}
    texts = []
    for message in new:
        if not message.id or not message.string or before.get((message.id, message.context)) == message.string:
            continue
        string = message.string
        texts.append(string[0] if isinstance(string, tuple) else string)
    return texts
