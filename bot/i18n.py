"""Languages: gettext catalogs compiled in memory, locale negotiation, dates and bidi isolation.

Catalogs are read from the `.po` files directly (compiled in memory with Babel), so a fresh
checkout needs no build step and a changed catalog can be reloaded without a restart.
"""

from __future__ import annotations

import gettext
import io
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from domain.messages import CONTEXT_SEPARATOR, N_
from locales import LOCALES_DIR

__all__ = ["LOCALES_DIR", "N_"]  # bot modules mark their messages with the domain's marker

# The single list of languages the bot ships; the order is the order users are offered them.
SUPPORTED_LANGUAGES = ("de", "en", "tr", "ar", "fa", "uk", "ru")
DOMAIN = "messages"

# Translators: in place of a note, place or goal whose stored text can no longer be decrypted
UNREADABLE = N_("(cannot be read: damaged or erased)")

# Unicode "first strong isolate" ... "pop directional isolate": keeps a Latin case code or a
# date from being reordered inside right-to-left text.
_FSI, _PDI = "\u2068", "\u2069"
_LRI = "\u2066"  # left-to-right isolate


def _normalised(code: str) -> str:
    return code.replace("_", "-").lower()


def negotiate(language_code: str | None, supported: Iterable[str], default: str) -> str:
    """Telegram's language_code ("pt-br") to an offered locale, spelled as offered ("pt_BR"):
    the same locale, else the base language, else another region of it, else the default."""
    offered = {_normalised(code): code for code in supported}
    if language_code:
        code = _normalised(language_code)
        base = code.split("-")[0]
        for candidate in (code, base):
            if candidate in offered:
                return offered[candidate]
        regional = sorted(spelling for key, spelling in offered.items() if key.split("-")[0] == base)
        if regional:
            return regional[0]
    return default


@lru_cache(maxsize=64)
def is_right_to_left(language: str) -> bool:
    """From CLDR (Babel), so an uploaded language (Kurdish Sorani, Pashto ...) is right too."""
    try:
        return Locale.parse(language).character_order == "right-to-left"
    except (ValueError, TypeError, UnknownLocaleError):
        return False


def shipped_po(language: str, locales_dir: Path = LOCALES_DIR) -> bytes | None:
    po_path = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    return po_path.read_bytes() if po_path.exists() else None


def current_po(source, org_id: int, language: str) -> bytes | None:  # noqa: ANN001 - storage's LocaleRepository
    """What is live for a language in an organisation: its newest confirmed upload there, else
    the shipped file."""
    live = source.live_po(org_id, language)
    return live.encode() if live is not None else shipped_po(language)


def load_translations(language: str, locales_dir: Path = LOCALES_DIR, *, po: bytes | None = None
                      ) -> gettext.GNUTranslations | gettext.NullTranslations:
    """A language's translations: from `po` (an uploaded catalog) or the shipped file."""
    po = po if po is not None else shipped_po(language, locales_dir)
    if po is None:
        return gettext.NullTranslations()
    catalog = read_po(io.BytesIO(po), locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


# languages clients speak that CLDR does not name
LANGUAGES_CLDR_LACKS = {
    # Translators: Dari, the Persian of Afghanistan
    "prs": N_("Dari"),
}


@dataclass
class Translator:
    """Everything locale-dependent that a handler or template needs, for one language."""

    language: str
    translations: gettext.NullTranslations
    tz: ZoneInfo

    @property
    def rtl(self) -> bool:
        return is_right_to_left(self.language)

    def _translate(self, message: str) -> str:
        if not message:
            return ""  # gettext("") would answer with the catalog's header
        text = self.translations.gettext(message)
        if text is message and CONTEXT_SEPARATOR in message:  # untranslated: the message without its context
            return message.split(CONTEXT_SEPARATOR, 1)[1]
        return text

    def gettext(self, message: str, **params: object) -> str:
        """Translate, then fill placeholders with HTML-escaped values: every message is sent
        as Telegram HTML, so a name like "<b>Ali" must arrive as text, not markup."""
        text = self._translate(message)
        return text.format(**{k: escape(str(v)) for k, v in params.items()}) if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str:
        text = self.translations.ngettext(singular, plural, n)
        return text.format(n=n, **{k: escape(str(v)) for k, v in params.items()})

    def plain(self, message: str, **params: object) -> str:
        """Translate for places that are not HTML (button labels, toasts, command menus)."""
        text = self._translate(message)
        return text.format(**params) if params else text

    def isolate(self, text: object) -> str:
        """Wrap codes, dates, numbers and names so they keep their direction in RTL text."""
        return f"{_FSI}{text}{_PDI}" if self.rtl else str(text)

    def isolate_ltr(self, text: object) -> str:
        """Like `isolate`, for what is always written left to right and has no letter to tell
        (a phone number, "+49 171 1234567"): a first-strong isolate would take the right-to-left
        direction around it and show the groups in reverse order ("1234567 171 49+")."""
        return f"{_LRI}{text}{_PDI}" if self.rtl else str(text)

    def date(self, value: date | datetime | str | None) -> str:
        """A day as the reader counts it: a moment (consent given at 00:45 in Berlin, 23:45 UTC
        the day before) is the local day it fell on, never the UTC one."""
        if value is None:
            return ""
        if isinstance(value, str):
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        if isinstance(value, datetime):
            value = value.astimezone(self.tz).date()
        return self.isolate(format_date(value, format="medium", locale=self.language))

    def datetime(self, value: datetime) -> str:
        """A moment as the date reads everywhere else (02.12.2026, not 02.12.26) and the time
        without seconds, joined as the language joins them."""
        local = value.astimezone(self.tz)
        pattern = str(Locale.parse(self.language).datetime_formats["short"]).replace("'", "")
        return self.isolate(pattern.replace("{1}", format_date(local, format="medium", locale=self.language))
                            .replace("{0}", format_time(local, format="short", locale=self.language)))

    def join(self, items: Iterable[str]) -> str:
        """A list as the language writes it: Arabic and Farsi with their own comma."""
        return ("، " if self.language.split("_")[0] in ("ar", "fa") else ", ").join(items)

    def language_name(self, code: str) -> str:
        """A language's name in this locale, from CLDR (Babel) rather than our own catalog;
        from the catalog where CLDR has none (Dari)."""
        name = Locale.parse(self.language).languages.get(code) or self.plain(LANGUAGES_CLDR_LACKS.get(code, code))
        return name[:1].upper() + name[1:]


class Catalogs:
    """The translators of every offered language: the shipped ones, and those an organisation's
    admins uploaded (`source`, the database), each seen only by that organisation's staff (and
    switched on or off per organisation). Reloaded when the source's revision moves, checked at
    most every `check_every` seconds, so a new catalog is live on every instance without a
    restart. `org` None: someone not (yet) of an organisation, who reads the shipped languages."""

    def __init__(self, tz: ZoneInfo, languages: Iterable[str] = SUPPORTED_LANGUAGES, locales_dir: Path = LOCALES_DIR,
                 *, source=None, default: str | None = None, check_every: float = 5.0,  # noqa: ANN001
                 on_reload=None):  # noqa: ANN001
        self.tz = tz
        self.locales_dir = locales_dir
        self.shipped = tuple(languages)
        self.default = default or self.shipped[0]
        self._source, self._check_every, self._on_reload = source, check_every, on_reload
        self._revision, self._checked_at = -1, 0.0
        self._translators: dict[str, Translator] = {
            lang: Translator(lang, load_translations(lang, self.locales_dir), self.tz) for lang in self.shipped}
        self._uploaded: dict[tuple[int, str], Translator] = {}
        self._off: set[tuple[int, str]] = set()
        self._offered: dict[int | None, tuple[str, ...]] = {}
        self.reload()

    def reload(self) -> None:
        live = self._source.live() if self._source is not None else {}
        off = self._source.disabled() if self._source is not None else set()
        uploaded = {(org, lang): Translator(lang, load_translations(lang, self.locales_dir, po=po.encode()), self.tz)
                    for (org, lang), po in live.items()}
        self._uploaded, self._off, self._offered = uploaded, off, {}
        if self._source is not None:
            self._revision = self._source.revision()
        if self._on_reload is not None:
            self._on_reload()

    def refresh_due(self) -> bool:
        """Whether `refresh` would look at the source now (or answer from memory)."""
        return self._source is not None and time.monotonic() - self._checked_at >= self._check_every

    def refresh(self) -> bool:
        """Reload if an upload, rollback or setting changed anywhere since; True if it did."""
        if self._source is None:
            return False
        now = time.monotonic()
        if now - self._checked_at < self._check_every:
            return False
        self._checked_at = now
        if self._source.revision() == self._revision:
            return False
        self.reload()
        return True

    def known(self, org: int | None = None) -> tuple[str, ...]:
        """Every language with a catalog in the organisation, offered or switched off."""
        added = sorted({lang for (owner, lang) in self._uploaded if owner == org} - set(self.shipped))
        return self.shipped + tuple(added)

    def offered(self, org: int | None = None) -> tuple[str, ...]:
        """The languages the organisation's staff may choose (the default always)."""
        offered = self._offered.get(org)
        if offered is None:
            offered = tuple(lang for lang in self.known(org) if (org, lang) not in self._off or lang == self.default)
            self._offered[org] = offered
        return offered

    @property
    def languages(self) -> tuple[str, ...]:
        """The shipped languages: what someone outside any organisation may read."""
        return self.offered(None)

    def get(self, language: str, org: int | None = None) -> Translator:
        if language not in self.offered(org):
            language = self.default
        return self._uploaded.get((org, language)) or self._translators[language]
