"""Organisations on one installation stay apart, at one place.

While a member of staff's update is handled, their organisation is bound to the task
(`acting_for`, set where the sender is identified: handlers/access.py), and every ORM statement
that runs meanwhile (select, `Session.get`, update, delete) is narrowed to it by the session
event below: rows with an `org_id` only of that organisation, rows of a case (`case_id`) only of
its cases. The repositories check the organisation themselves too; this is the net under them,
so a query that forgets never shows another organisation's row. What runs for nobody in
particular (the dispatcher, the planner, the CLI) binds no organisation and sees everything.

The hot path's few Core statements on a plain connection (storage/store.py `reading` and
`writing`) do not pass through here: they are keyed by the sender (their dialogue, their inbox
update) or carry the organisation explicitly, and tests/test_tenancy.py walks every repository
method with two organisations to prove that nothing crosses either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event, exists
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria
from sqlmodel import Session, SQLModel

from storage import models

_TENANT: ContextVar[int | None] = ContextVar("casebot_tenant", default=None)
# the case table once more, under its own name, for "this row's case is the organisation's"
_CASE = models.ClientCase.__table__.alias("tenant_case")


def _mapped() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """Models with an organisation column, and models that belong to a case (and have none)."""
    tables = [cls for cls in SQLModel.__subclasses__() if hasattr(cls, "__table__") and cls.__module__ == models.__name__]
    with_org = tuple(cls for cls in tables if "org_id" in cls.__table__.c)
    of_case = tuple(cls for cls in tables if "org_id" not in cls.__table__.c and "case_id" in cls.__table__.c)
    return with_org, of_case


WITH_ORG, OF_CASE = _mapped()


def current() -> int | None:
    """The organisation this task acts for (None: nobody in particular)."""
    return _TENANT.get()


def bind(org_id: int | None) -> None:
    """From now on in this task (one update's handling), act for `org_id`."""
    _TENANT.set(org_id)


@contextmanager
def acting_for(org_id: int | None) -> Iterator[None]:
    token = _TENANT.set(org_id)
    try:
        yield
    finally:
        _TENANT.reset(token)


def _criteria(org: int) -> tuple:
    """The options that narrow a statement to `org`: made once per organisation and process
    (making them is most of their cost; a statement only carries them)."""
    made = _MADE.get(org)
    if made is None:
        made = _MADE[org] = (
            with_loader_criteria(models.Organisation, lambda cls: cls.id == org, include_aliases=True),
            *(with_loader_criteria(cls, lambda cls: cls.org_id == org, include_aliases=True) for cls in WITH_ORG),
            *(with_loader_criteria(cls, lambda cls: exists().where(_CASE.c.id == cls.case_id, _CASE.c.org_id == org),
                                   include_aliases=True) for cls in OF_CASE),
        )
    return made


_MADE: dict[int, tuple] = {}


@event.listens_for(Session, "do_orm_execute")
def _narrow(state: ORMExecuteState) -> None:
    org = _TENANT.get()
    if org is None or state.is_column_load or state.is_relationship_load:
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    state.statement = state.statement.options(*_criteria(org))
