"""The domain's rules on their own: no database, no Telegram, no catalog."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain import roles
from domain.calendar import (
    WorkingHours,
    add_months,
    is_meeting_day,
    next_meeting,
    reassessment_due,
    referral_follow_up,
    snooze_until,
)
from domain.eligibility import age_on, assess
from domain.reminders import CASE_REMINDERS, ReminderKind, dedupe_key, goal_reminder, reassessment_reminder
from domain.roles import Role
from domain.services import DEFAULT_CATALOGUE, ServiceRule, fits, offer, suggest
from domain.vocabulary import (
    FINAL_STATUSES,
    FOLLOW_UP_ANSWERS,
    GAP_STATUSES,
    REFERRAL_STEPS,
    CaseStatus,
    LifeDomain,
    NeedLevel,
    ReferralStatus,
)

BERLIN = ZoneInfo("Europe/Berlin")
HOURS = WorkingHours(BERLIN)


def rules() -> list[ServiceRule]:
    return [ServiceRule(n, key, name, frozenset(filter(None, domains.split(","))), low, high,
                        frozenset(filter(None, statuses.split(","))))
            for n, (key, name, _area, _programme, domains, low, high, statuses) in enumerate(DEFAULT_CATALOGUE, 1)]


# vocabulary -----------------------------------------------------------------------------------
def test_terms_are_the_stored_strings_with_their_label_msgids():
    assert LifeDomain.HEALTH == "health" and LifeDomain.HEALTH.label == "Health"
    assert LifeDomain.parse("health") is LifeDomain.HEALTH and LifeDomain.parse("forged") is None
    assert [d.value for d in LifeDomain][:3] == ["language", "education", "work"]  # the offered order
    assert NeedLevel.HIGH.rank > NeedLevel.MEDIUM.rank > NeedLevel.NONE.rank
    assert CaseStatus("open") is CaseStatus.OPEN


def test_referral_statuses_know_gaps_and_results():
    assert GAP_STATUSES == {ReferralStatus.NO_OFFER, ReferralStatus.WAITING_LIST}
    assert ReferralStatus.NO_OFFER.is_gap and ReferralStatus.NO_OFFER.is_final
    assert ReferralStatus.WAITING_LIST.is_gap and not ReferralStatus.WAITING_LIST.is_final
    assert ReferralStatus.SUGGESTED not in REFERRAL_STEPS and ReferralStatus.SENT not in FOLLOW_UP_ANSWERS
    assert not FINAL_STATUSES & {ReferralStatus.SENT, ReferralStatus.ACCEPTED}


# roles ------------------------------------------------------------------------------------------
def test_who_may_do_what():
    assert roles.records_cases(Role.CASE_MANAGER) and roles.records_cases(Role.COORDINATOR)
    assert not roles.sees_case_content(Role.ADMIN) and not roles.sees_case_content(Role.TRANSLATOR)
    assert roles.sees_all_cases(Role.COORDINATOR) and not roles.sees_all_cases(Role.CASE_MANAGER)
    assert roles.reassigns_cases(Role.COORDINATOR) and not roles.reassigns_cases(Role.CASE_MANAGER)
    assert roles.manages_languages(Role.TRANSLATOR) and roles.manages_languages(Role.ADMIN)
    assert not roles.manages_users(Role.COORDINATOR) and roles.manages_users(Role.ADMIN)
    assert roles.receives_cases(Role.CASE_MANAGER) and not roles.receives_cases(Role.COORDINATOR)
    assert all(role.label for role in Role)


# eligibility ------------------------------------------------------------------------------------
def test_target_group():
    today = date(2026, 11, 24)
    assert age_on(date(2008, 11, 25), today) == 17 and age_on(date(2008, 11, 24), today) == 18
    assert assess(birth_date=date(1995, 2, 1), arrived_germany=date(2024, 3, 10), status="aufenthaltserlaubnis",
                  today=today).in_group
    long_ago = assess(birth_date=date(1990, 1, 1), arrived_germany=date(2015, 1, 1), status="eu", today=today)
    assert not long_ago.in_group and long_ago.reasons == ("arrival",)
    tolerated = assess(birth_date=date(2005, 1, 1), arrived_germany=date(2015, 1, 1), status="duldung", today=today)
    assert tolerated.in_group and tolerated.teilhabe
    assert assess(birth_date=date(2010, 1, 1), arrived_germany=None, status=None, today=today).reasons == ("minor",)


# services ---------------------------------------------------------------------------------------
def test_the_most_specific_service_comes_first():
    ranked = [s.key for s in suggest(rules(), age=20, status="duldung", domain="work")]
    assert ranked[0] == "teilhabe"  # bound by age and status
    assert ranked.index("jmd") > 0 and "jobcenter" not in ranked  # the Jobcenter is not for a Duldung


def test_an_unknown_age_fits_no_age_bound_service():
    """Never guess an age (version 0.1 took 30, and sent people to the MBE)."""
    mbe = next(r for r in rules() if r.key == "mbe")
    assert not fits(mbe, age=None, status="eu", domain="language")
    keys = [s.key for s in suggest(rules(), age=None, status="eu", domain="language")]
    assert "mbe" not in keys and "jmd" not in keys and "ehrenamt" in keys


def test_the_offer_is_the_suggestions_then_the_rest_of_the_domain():
    suggested, others = offer(rules(), age=31, status="aufenthaltserlaubnis", domain="work")
    assert suggested and not set(suggested) & set(others)
    assert all(not r.domains or "work" in r.domains for r in others)
    assert [r.name for r in others] == sorted(r.name for r in others)


# calendar ---------------------------------------------------------------------------------------
def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def test_months_end_where_the_month_ends():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert reassessment_due(date(2026, 11, 24), 3) == date(2027, 2, 24)


@pytest.mark.parametrize(("sent", "expected"), [
    (local(2026, 11, 24, 15, 0), local(2026, 12, 8, 9, 0)),  # a Tuesday: the Tuesday two weeks on
    (local(2026, 11, 28, 11, 0), local(2026, 12, 14, 9, 0)),  # a Saturday: the Monday after
    (local(2026, 11, 29, 23, 30), local(2026, 12, 14, 9, 0)),  # Sunday night: the same Monday
])
def test_a_referral_follow_up_falls_on_a_working_morning(sent, expected):
    day, moment = referral_follow_up(sent.astimezone(UTC), 14, HOURS)
    assert moment == expected and day == expected.date()


def test_a_snoozed_reminder_comes_back_the_next_working_morning():
    assert snooze_until(local(2026, 11, 26, 10, 0), HOURS) == local(2026, 11, 27, 8, 0)  # Thursday -> Friday
    assert snooze_until(local(2026, 11, 27, 10, 0), HOURS) == local(2026, 11, 30, 8, 0)  # Friday -> Monday


def test_the_next_meeting_of_a_fortnightly_series():
    first = date(2026, 11, 4)
    assert next_meeting(first, 14, date(2026, 11, 1)) == first
    assert next_meeting(first, 14, date(2026, 11, 18)) == date(2026, 11, 18)
    assert next_meeting(first, 14, date(2026, 11, 19)) == date(2026, 12, 2)
    assert is_meeting_day(first, 14, date(2026, 12, 2)) and not is_meeting_day(first, 14, date(2026, 12, 1))


# reminders --------------------------------------------------------------------------------------
def test_reminder_kinds_and_their_keys():
    today = date(2026, 11, 24)
    assert reassessment_reminder(today, today) is ReminderKind.REASSESS_SOON
    assert goal_reminder(date(2026, 11, 23), today) is ReminderKind.GOAL_OVERDUE
    assert CASE_REMINDERS == {ReminderKind.REASSESS_SOON, ReminderKind.REASSESS_OVERDUE, ReminderKind.GOAL_DUE,
                              ReminderKind.GOAL_OVERDUE, ReminderKind.SILENT_CASE}
    # the stored values of version 0.1's rows
    assert ReminderKind("referral-follow-up") is ReminderKind.REFERRAL_FOLLOW_UP
    assert dedupe_key(ReminderKind.GOAL_DUE, 7, date(2026, 12, 1), 3) == "goal-due:7:2026-12-01:3"


# the case file: target group rules, the status watcher, benefits ------------------------------------
def test_target_group_rules_are_settings_with_checked_values():
    from domain.eligibility import DEFAULT_RULES, TargetGroupRules

    today = date(2026, 11, 24)
    long_ago_here_recently = dict(birth_date=date(1990, 1, 1), arrived_germany=date(2015, 1, 1),
                                  arrived_municipality=date(2025, 1, 1), status="eu", today=today)
    assert assess(**long_ago_here_recently).in_group  # the municipality's arrival counts
    by_germany = TargetGroupRules.from_settings({"arrival_basis": "germany"})
    assert assess(**long_ago_here_recently, rules=by_germany).reasons == ("arrival",)
    assert assess(**long_ago_here_recently, other_case_management=["mbe"]).reasons == ("other-cm",)
    assert assess(**long_ago_here_recently, other_case_management=["none"]).in_group
    widened = DEFAULT_RULES.with_setting("open_statuses", "duldung,gestattung,eu")
    assert assess(**{**long_ago_here_recently, "arrived_municipality": None}, rules=widened).in_group
    for name, bad in (("recent_years", "-1"), ("recent_years", "x"), ("arrival_basis", "moon"),
                      ("open_statuses", "martian"), ("nothing", "1")):
        with pytest.raises(ValueError):
            DEFAULT_RULES.with_setting(name, bad)
    assert TargetGroupRules.from_settings({"recent_years": "x", "adult_age": "16"}).adult_age == 16  # bad ones ignored
    assert TargetGroupRules.from_settings(DEFAULT_RULES.as_settings()) == DEFAULT_RULES


def test_watch_dates():
    from domain.calendar import add_months
    from domain.watch import Facts, Watch, WatchRules, watch_dates

    today = date(2026, 11, 24)
    rules = WatchRules()
    permit = watch_dates(Facts(birth_date=date(1995, 2, 1), status="aufenthaltserlaubnis",
                               valid_until=date(2027, 3, 15)), today, rules)
    assert permit == {Watch.EXPIRY: date(2027, 1, 18)}  # eight weeks before; both birthdays have passed
    young = watch_dates(Facts(birth_date=date(2008, 12, 15), status="duldung", status_since=date(2025, 10, 1),
                              arrived_germany=date(2024, 9, 1), children=0), today, rules)
    assert young[Watch.AGE_18] == date(2026, 12, 1) and young[Watch.AGE_27] == date(2035, 12, 1)  # month, not day
    assert young[Watch.CHECK_25A] == date(2027, 9, 1) and young[Watch.CHECK_25B] == date(2030, 9, 1)
    with_children = watch_dates(Facts(birth_date=None, status="duldung", arrived_germany=date(2024, 9, 1), children=2),
                                today, rules)
    assert with_children[Watch.CHECK_25B] == date(2028, 9, 1) and Watch.AGE_18 not in with_children
    too_old = watch_dates(Facts(birth_date=date(1999, 1, 1), status="duldung", arrived_germany=date(2024, 9, 1)),
                          today, rules)
    assert Watch.CHECK_25A not in too_old  # 27 before the three years are up
    assert watch_dates(Facts(birth_date=None, status="eu", valid_until=date(2027, 1, 1)), today, rules) == {}
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert WatchRules.from_settings({"expiry_weeks": "12"}).expiry_weeks == 12
    with pytest.raises(ValueError):
        rules.with_setting("expiry_weeks", "500")


def test_the_benefit_system_ranks_its_own_service_first_and_others_out():
    from domain.watch import new_rechtskreis

    catalogue = [ServiceRule(1, "jobcenter", "Jobcenter", frozenset({"work", "money"}), 15, 67, frozenset(), "SGB II"),
                 ServiceRule(2, "sozialamt", "Sozialamt", frozenset({"money"}), None, None, frozenset(), "AsylbLG"),
                 ServiceRule(3, "schuldner", "Schuldnerberatung", frozenset({"money"}), None, None, frozenset())]
    ranked = lambda benefits: [s.key for s in suggest(catalogue, age=30, status="eu", domain="money", benefits=benefits)]  # noqa: E731
    assert ranked("asylblg") == ["sozialamt", "schuldner"]
    assert ranked("sgb2") == ["jobcenter", "schuldner"]
    assert ranked("sgb12") == ["sozialamt", "schuldner"]
    assert ranked("unknown") == ranked(None) == ["jobcenter", "schuldner", "sozialamt"]
    assert new_rechtskreis("benefits", "asylblg", "sgb2") and not new_rechtskreis("benefits", "sgb2", "sgb2")
    assert new_rechtskreis("residence_status", "gestattung", "aufenthaltserlaubnis")
    assert not new_rechtskreis("phone", "1", "2")
