"""Outbox and inbox tables, added to each service's own metadata."""

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text

from shared.db import BigIntId, UTCDateTime


def messaging_tables(metadata: MetaData) -> tuple[Table, Table]:
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigIntId, primary_key=True, autoincrement=True),
        Column("message_id", String(36), nullable=False, unique=True),
        Column("routing_key", String(200), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("next_attempt_at", UTCDateTime, nullable=True),
        Column("last_error", Text, nullable=True),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("message_id", String(36), primary_key=True),
        Column("handler", String(120), primary_key=True),
        Column("processed_at", UTCDateTime, nullable=False),
    )
    Index("ix_outbox_next_attempt", outbox.c.next_attempt_at)
    return outbox, inbox
