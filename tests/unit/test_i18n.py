"""Locale negotiation and direction, without a bot."""

from __future__ import annotations

import pytest

from bot.i18n import is_right_to_left, negotiate


@pytest.mark.parametrize(("telegram", "offered", "expected"), [
    ("de", ("de", "en"), "de"),
    ("de-AT", ("de", "en"), "de"),
    ("pt-BR", ("de", "pt_BR"), "pt_BR"),  # an uploaded regional catalog, spelled as uploaded
    ("pt", ("de", "pt_BR"), "pt_BR"),  # another region of the language before the default
    ("PT_br", ("de", "pt_BR"), "pt_BR"),
    ("xx", ("de", "en"), "de"),
    (None, ("de", "en"), "de"),
])
def test_negotiate(telegram, offered, expected):
    assert negotiate(telegram, offered, offered[0]) == expected


def test_direction_comes_from_cldr():
    assert all(is_right_to_left(code) for code in ("ar", "fa", "ckb", "ps", "ur"))
    assert not any(is_right_to_left(code) for code in ("de", "tr", "uk", "not-a-language"))


def test_a_word_with_a_context_falls_back_to_the_word_itself():
    import gettext
    from zoneinfo import ZoneInfo

    from bot.i18n import Catalogs, Translator
    from domain.vocabulary import CaseStatus, GoalStatus, NeedLevel

    untranslated = Translator("xx", gettext.NullTranslations(), ZoneInfo("Europe/Berlin"))
    assert untranslated.plain(NeedLevel.HIGH.label) == "high" and untranslated.gettext(GoalStatus.OPEN.label) == "open"
    german = Catalogs(ZoneInfo("Europe/Berlin")).get("de")
    assert german.plain(NeedLevel.HIGH.label) == "hoch" and german.plain(CaseStatus.CLOSED.label) == "abgeschlossen"
