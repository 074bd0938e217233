"""Alembic's entry point: runs the migrations in versions/ against the URL `storage.migrate` passes."""

from alembic import context
from sqlalchemy import create_engine

from hotich.server.storage import Base

url = context.config.get_main_option("sqlalchemy.url")
engine = create_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
