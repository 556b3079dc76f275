"""Button data: typed codecs, one per family, and what they refuse."""

from __future__ import annotations

import pytest

from bot.buttons import CASE_ACTION, CASES, FORM, GOAL, MAX_BYTES, REFERRAL, Buttons, integer


def test_a_family_reads_what_it_writes():
    assert GOAL.data(12, "achieved") == "g|12|achieved"
    assert GOAL.parse("g|12|achieved") == (12, "achieved")
    assert CASE_ACTION.parse("k|assess|lev-2026-0001") == ("assess", "LEV-2026-0001")
    assert CASES.parse("c|pall|10") == ("pall", 10)
    assert FORM.parse("f|a7a5df9b|2|b|") == ("a7a5df9b", 2, "b", "")


@pytest.mark.parametrize("data", [
    None, "", "g", "g|12", "g|12|achieved|x", "g|-1|achieved", "g|12|open", "g|1e3|achieved", "x|12|achieved",
    "k|delete|LEV-2026-0001", "k|assess|DROP TABLE", "r|5|exploded", "f|nonce|v2|c|0", "f|nonce|2|z|0",
])
def test_forged_and_stale_data_does_not_parse(data):
    assert all(family.parse(data) is None for family in (GOAL, CASE_ACTION, REFERRAL, FORM))


def test_buttons_written_by_version_0_1_still_parse():
    for data in ("k|assess|LEV-2026-0001", "c|r|LEV-2026-0001", "f|a7a5df9b|2|c|3", "f|a7a5df9b|2|x|", "r|1|sent",
                 "o|2|z", "h|1|a"):
        prefix = data.split("|")[0]
        assert Buttons._families[prefix].parse(data) is not None, data


def test_prefixes_are_unique_and_arity_and_length_are_checked():
    with pytest.raises(ValueError):
        Buttons("g", integer)
    with pytest.raises(ValueError):
        GOAL.data(12)
    with pytest.raises(ValueError):
        FORM.data("x" * MAX_BYTES, 1, "c", 0)
