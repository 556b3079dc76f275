"""Alembic environment: the same migrations run on SQLite and PostgreSQL."""

from alembic import context
from sqlalchemy import engine_from_config, pool, text
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.db import note_releases

config = context.config
MIGRATION_LOCK = 0x6B696D6D6967  # ("kimmig": any constant no other lock of ours uses)
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things in place; batch mode copies the table instead
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # instances of a new release starting at once each migrate: one after the other,
                # so the second finds the schema current instead of creating its tables again
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            context.run_migrations()
            # in the same transaction: which releases may run on the schema now (storage/db.py)
            note_releases(connection, context.get_context().get_current_revision(), context.script)
        if connection.in_transaction():  # (SQLite: Alembic runs without a transaction of its own there)
            connection.commit()


run_migrations()
