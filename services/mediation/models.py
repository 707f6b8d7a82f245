"""Mediation's own tables (disputes arrive with their own issue; the messaging tables are here now)."""

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from shared.messaging.tables import messaging_tables


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s", "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    })


outbox, inbox = messaging_tables(Base.metadata)
