"""Mediation's own tables (disputes arrive with their own issue; the messaging tables are here now)."""

from sqlalchemy.orm import DeclarativeBase

from shared.db import service_metadata
from shared.messaging.tables import messaging_tables


class Base(DeclarativeBase):
    metadata = service_metadata()


outbox, inbox = messaging_tables(Base.metadata)
