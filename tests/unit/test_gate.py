"""The gate in front of the processing slots, on a clock of its own."""

from __future__ import annotations

from bot.gate import INVITATION_TRIES, Gate


class Clock:
    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


def test_staff_pass_strangers_get_one_update_now_and_then():
    clock = Clock()
    gate = Gate(stranger_every=30, strangers_per_second=5, now=clock)
    staff, stranger = _real_update(1), _real_update(2)
    gate.is_staff(1)
    assert all(gate.admit(staff) for _ in range(100))
    assert gate.admit(stranger) and not gate.admit(stranger)
    clock.at += 31
    assert gate.admit(stranger)
    gate.is_not_staff(1)
    assert gate.admit(staff) and not gate.admit(staff)  # deactivated: a stranger now
    assert gate.dropped == 2


def test_all_strangers_together_have_a_budget():
    clock = Clock()
    gate = Gate(stranger_every=30, strangers_per_second=5, now=clock)
    admitted = sum(gate.admit(_real_update(1000 + n)) for n in range(50))
    assert admitted == 5
    clock.at += 1
    assert sum(gate.admit(_real_update(2000 + n)) for n in range(50)) == 5


def test_wrong_invitation_codes_lock_a_sender_for_a_while():
    clock = Clock()
    gate = Gate(now=clock)
    for _ in range(INVITATION_TRIES):
        assert gate.may_try_invitation(7)
        gate.wrong_invitation(7)
    assert not gate.may_try_invitation(7) and gate.may_try_invitation(8)
    clock.at += 3601
    assert gate.may_try_invitation(7)


def _real_update(user_id: int):  # noqa: ANN202
    from telegram import Update

    return Update.de_json({"update_id": user_id, "message": {
        "message_id": 1, "date": 1, "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": "A"}, "text": "hi"}}, None)
