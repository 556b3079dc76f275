"""case file: the timeline's entries (backfilled from what is recorded), watch dates, settings

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 22:30:00

The timeline is built from what earlier versions recorded: the case itself (intake, closure),
goals, referrals (their status changes from the audit trail), contacts, Fallkonferenzen and
handovers. Who wrote an entry is taken from the audit trail where it says so. Nothing is
decrypted here (a migration holds no keys): the watch dates, which need the intake's values,
are computed by `casebot migrate` right after this revision (storage/watch.py).
"""
from datetime import UTC
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# the organisation's zone, as everywhere (settings.timezone defaults to it)
LOCAL = ZoneInfo("Europe/Berlin")
UTCDateTime = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table('case_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('happened_on', sa.Date(), nullable=False),
    sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('author_role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('domain', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('ref_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['client_case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_case_entry_timeline', 'case_entry', ['case_id', 'happened_on', 'id'], unique=False)
    op.create_table('case_watch',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['client_case.id'], ),
    sa.PrimaryKeyConstraint('case_id', 'kind')
    )
    op.create_index(op.f('ix_case_watch_due_on'), 'case_watch', ['due_on'], unique=False)
    op.create_table('org_setting',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('org_id', 'name')
    )
    with op.batch_alter_table('client_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('watch_rev', sa.Integer(), server_default='0', nullable=False))
    _backfill(op.get_bind())


def _at(value):  # noqa: ANN001, ANN202
    """A stored moment as an aware UTC datetime (SQLite hands back naive UTC ones)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _day(value):  # noqa: ANN001, ANN202
    return _at(value).astimezone(LOCAL).date()


def _backfill(bind) -> None:  # noqa: ANN001
    q = lambda sql: bind.execute(sa.text(sql)).all()  # noqa: E731
    role = dict(q("SELECT id, role FROM app_user"))
    audit: dict[tuple, list] = {}
    for action, case_id, detail, user_id, at in q(
            "SELECT action, case_id, detail, user_id, at FROM audit_event WHERE case_id IS NOT NULL ORDER BY id"):
        audit.setdefault((action, case_id), []).append((detail or "", user_id, at))

    def author(action: str, case_id: int, prefix: str, fallback_user: int | None):  # noqa: ANN202
        for detail, user_id, at in audit.get((action, case_id), ()):
            if detail == prefix or detail.startswith(prefix + ";"):
                return role.get(user_id, ""), at
        return role.get(fallback_user, ""), None

    entries = []

    def add(case_id, kind, at, happened_on=None, author_role="", domain=None, ref_id=None):  # noqa: ANN001, ANN202
        at = _at(at)
        entries.append({"case_id": case_id, "kind": kind, "at": at, "happened_on": happened_on or _day(at),
                        "author_role": author_role or "", "domain": domain, "ref_id": ref_id})

    for case_id, created_by, created_at, assigned_to, closed_at, close_reason, assessments in q(
            "SELECT id, created_by, created_at, assigned_to, closed_at, close_reason, assessments FROM client_case"):
        add(case_id, "intake", _parse(created_at), author_role=role.get(created_by, ""))
        for number in range(1, (assessments or 0) + 1):
            who, at = author("case.assess", case_id, f"number={number}", assigned_to)
            add(case_id, "assessment", _parse(at or created_at), author_role=who, ref_id=number)
        if closed_at is not None:
            who, _ = author("case.close", case_id, f"reason={close_reason}", assigned_to)
            add(case_id, "closure", _parse(closed_at), author_role=who)
    for goal_id, case_id, domain, status, created_at, updated_at in q(
            "SELECT id, case_id, domain, status, created_at, updated_at FROM goal"):
        who, _ = author("goal.create", case_id, f"goal={goal_id}", None)
        add(case_id, "goal", _parse(created_at), author_role=who, domain=domain, ref_id=goal_id)
        if status != "open":
            who, _ = author("goal.status", case_id, f"goal={goal_id}", None)
            add(case_id, "goal-status", _parse(updated_at), author_role=who, domain=domain, ref_id=goal_id)
    for referral_id, case_id, domain, created_at in q("SELECT id, case_id, domain, created_at FROM referral"):
        who, _ = author("referral.create", case_id, f"referral={referral_id}", None)
        add(case_id, "referral", _parse(created_at), author_role=who, domain=domain, ref_id=referral_id)
        for detail, user_id, at in audit.get(("referral.status", case_id), ()):
            if detail.startswith(f"referral={referral_id};"):
                add(case_id, "referral-status", _parse(at), author_role=role.get(user_id, ""), domain=domain,
                    ref_id=referral_id)
    for contact_id, case_id, happened_on, created_by, created_at in q(
            "SELECT id, case_id, happened_on, created_by, created_at FROM contact"):
        add(case_id, "contact", _parse(created_at), happened_on=_date(happened_on), author_role=role.get(created_by, ""),
            ref_id=contact_id)
    for conference_id, case_id, organiser, created_at, updated_at, held in q(
            "SELECT id, case_id, organiser_id, created_at, updated_at, outcome_enc IS NOT NULL FROM conference"):
        add(case_id, "conference", _parse(created_at), author_role=role.get(organiser, ""), ref_id=conference_id)
        if held:
            who, _ = author("conference.outcome", case_id, f"conference={conference_id}", organiser)
            add(case_id, "conference-outcome", _parse(updated_at), author_role=who, ref_id=conference_id)
    for handover_id, case_id, from_user, created_at in q("SELECT id, case_id, from_user, created_at FROM handover"):
        add(case_id, "handover", _parse(created_at), author_role=role.get(from_user, ""), ref_id=handover_id)
    entries.sort(key=lambda e: (e["case_id"], e["happened_on"], e["at"]))
    table = sa.table("case_entry", sa.column("case_id", sa.Integer), sa.column("kind", sa.String),
                     sa.column("happened_on", sa.Date), sa.column("at", UTCDateTime),
                     sa.column("author_role", sa.String), sa.column("domain", sa.String), sa.column("ref_id", sa.Integer))
    for start in range(0, len(entries), 1000):
        bind.execute(table.insert(), entries[start:start + 1000])


def _parse(value):  # noqa: ANN001, ANN202
    """Raw SQL hands SQLite's stored text back as text; PostgreSQL hands back a datetime."""
    from datetime import datetime

    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _date(value):  # noqa: ANN001, ANN202
    from datetime import date

    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def downgrade() -> None:
    with op.batch_alter_table('client_case', schema=None) as batch_op:
        batch_op.drop_column('watch_rev')
    op.drop_table('org_setting')
    op.drop_index(op.f('ix_case_watch_due_on'), table_name='case_watch')
    op.drop_table('case_watch')
    op.drop_index('ix_case_entry_timeline', table_name='case_entry')
    op.drop_table('case_entry')
