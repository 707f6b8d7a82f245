"""The body of every service's Alembic env.py: one implementation, each service passes its metadata."""

from alembic import context
from sqlalchemy import MetaData, pool

from .db import make_engine


def run(metadata: MetaData) -> None:
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    # One version table per service, so services can even share a database without clashing.
    version_table = config.get_main_option("version_table", "alembic_version")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True,
                          render_as_batch=url.startswith("sqlite"), version_table=version_table)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata,
                          render_as_batch=connection.dialect.name == "sqlite", version_table=version_table)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
