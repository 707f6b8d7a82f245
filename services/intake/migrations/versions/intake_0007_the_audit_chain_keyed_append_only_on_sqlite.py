"""the audit chain keyed (HMAC), append-only on SQLite too

The entries sealed so far were chained with plain SHA-256, which anyone able to write the database
can recompute. The old chain is verified and the verdict kept as an entry (`audit.rechained`), every
seal is cleared and the worker's sealer chains the entries again under the key derived from the
deployment's keys (shared/audit.py); SQLite gets the append-only triggers PostgreSQL had, and
PostgreSQL refuses TRUNCATE too. No change to the columns.

Revision ID: intake_0007
Revises: intake_0006
Create Date: 2026-12-01 09:00:00.000000
"""
from collections.abc import Sequence

from alembic import op

from shared.audit import key_the_chain, unkey_the_chain

revision: str = 'intake_0007'
down_revision: str | None = 'intake_0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    key_the_chain(op.get_bind())


def downgrade() -> None:
    unkey_the_chain(op.get_bind())
