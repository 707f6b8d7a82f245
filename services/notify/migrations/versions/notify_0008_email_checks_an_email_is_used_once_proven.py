"""email_checks: an email is used once its owner proves it; the emails stored so far await proof

Until now PUT /me/contacts made any address typed in a person's email contact at once, so
notifications about her cases (case numbers, matters) could go to a stranger's mailbox, and our mail
could be aimed at anyone. From now on an address is kept pending in `email_checks` (sealed, the
code only as a keyed hash) until the code mailed to it comes back (services/notify/email_checks.py);
`recipients.email` holds verified addresses only, the only ones the email channel uses.

What becomes of the emails stored before: every one moves to `email_checks`, pending, with no code
yet, and `recipients.email` is cleared; none is mailed anything until its owner asks again for it
(PUT /me/contacts with the address mails her a code). Why every one, staff included: notify has
never received an email from a roster. The seed (deploy/demo/users.json) gave staff phones and no
email, identity's directory events carry none, so every address on file was typed through PUT
/me/contacts by the person herself, residents and staff alike, and none was ever proven. A staff
address is no safer for it: work-order mail carries residents' matters. Roster emails arriving
from now on (the seed's `email`) are the deployment's word and are used as given, like staff
phones. The addresses keep their seal (opened with the recipients column's context, sealed again
with the new column's: a sealed value is bound to its column).

Downgrade: the pending addresses go back to `recipients.email` where no verified one is (the
version before this one knew no other kind), and the table is dropped.

Revision ID: notify_0008
Revises: notify_0007
Create Date: 2026-12-03 09:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = 'notify_0008'
down_revision: str | None = 'notify_0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EMAIL, PENDING = "notify.recipients.email", "notify.email_checks.address"


def _keys():
    from shared.config import get_settings
    from shared.keys import data_keys

    return data_keys(get_settings())


def upgrade() -> None:
    op.create_table(
        'email_checks',
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('address', sa.Text(), nullable=False),
        sa.Column('code_id', sa.String(length=36), nullable=True),
        sa.Column('code_hash', sa.String(length=64), nullable=True),
        sa.Column('expires_at', shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_email_checks')),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT user_id, email FROM recipients WHERE email IS NOT NULL")).fetchall()
    if not rows:
        return
    keys = _keys()
    checks = sa.table('email_checks', sa.column('user_id'), sa.column('address'), sa.column('attempts'),
                      sa.column('created_at', shared.db.UTCDateTime(timezone=True)))
    now = shared.db.utcnow()
    for user_id, sealed in rows:
        address = keys.open(sealed, EMAIL)  # sealed at rest since notify_0006
        conn.execute(checks.insert().values(user_id=user_id, address=keys.seal(address, PENDING), attempts=0,
                                            created_at=now))
        conn.execute(sa.text("UPDATE recipients SET email = NULL WHERE user_id = :k"), {"k": user_id})


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT c.user_id, c.address FROM email_checks c JOIN recipients r "
                                "ON r.user_id = c.user_id WHERE r.email IS NULL")).fetchall()
    if rows:
        keys = _keys()
        for user_id, sealed in rows:
            conn.execute(sa.text("UPDATE recipients SET email = :e WHERE user_id = :k"),
                         {"e": keys.seal(keys.open(sealed, PENDING), EMAIL), "k": user_id})
    op.drop_table('email_checks')
