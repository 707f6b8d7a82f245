"""recipients' phone and email sealed at rest; the phone found by its blind index

Revision ID: notify_0006
Revises: notify_0005
Create Date: 2026-11-30 11:17:25.971347
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'notify_0006'
down_revision: str | None = 'notify_0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PHONE, EMAIL = "notify.recipients.phone", "notify.recipients.email"


def upgrade() -> None:
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_index', sa.String(length=64), nullable=True))
        batch_op.alter_column('phone', existing_type=sa.VARCHAR(length=20), type_=sa.Text(), existing_nullable=True)
        batch_op.alter_column('email', existing_type=sa.VARCHAR(length=200), type_=sa.Text(),
                              existing_nullable=True)
        batch_op.create_index(batch_op.f('ix_recipients_phone_index'), ['phone_index'], unique=False)

    from shared.sealed import seal_existing

    conn = op.get_bind()
    # The blind index of every phone stored so far, from the plain value, before it is sealed.
    rows = conn.execute(sa.text("SELECT user_id, phone FROM recipients WHERE phone IS NOT NULL")).fetchall()
    if rows:
        from shared.config import get_settings
        from shared.keys import blind_index
        from shared.phones import BadPhone, normalise

        index = blind_index(get_settings())
        for user_id, phone in rows:
            try:
                value = index(normalise(phone, mobile=True), "phone")
            except BadPhone:
                value = None  # not a mobile number: it can receive no SMS and match no report
            conn.execute(sa.text("UPDATE recipients SET phone_index = :v WHERE user_id = :k"),
                         {"v": value, "k": user_id})
    seal_existing(conn, "recipients", "user_id", "phone", PHONE)
    seal_existing(conn, "recipients", "user_id", "email", EMAIL)


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT user_id, phone, email FROM recipients "
                                "WHERE phone IS NOT NULL OR email IS NOT NULL")).fetchall()
    if rows:
        from shared.config import get_settings
        from shared.keys import data_keys

        keys = data_keys(get_settings())
        for user_id, phone, email in rows:
            conn.execute(sa.text("UPDATE recipients SET phone = :p, email = :e WHERE user_id = :k"),
                         {"p": keys.open(phone, PHONE) if phone else None,
                          "e": keys.open(email, EMAIL) if email else None, "k": user_id})
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recipients_phone_index'))
        batch_op.alter_column('email', existing_type=sa.Text(), type_=sa.VARCHAR(length=200), existing_nullable=True)
        batch_op.alter_column('phone', existing_type=sa.Text(), type_=sa.VARCHAR(length=20), existing_nullable=True)
        batch_op.drop_column('phone_index')
