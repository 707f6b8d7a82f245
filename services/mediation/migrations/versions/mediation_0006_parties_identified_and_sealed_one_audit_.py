"""parties identified and sealed, one audit trail, retention

A party's personal data (name, phone, ID number, address, representative) and a session participant's
name are sealed (shared/sealed.py); a party's mobile gets its blind index, so the resident who verified
that phone finds her disputes; how a party was identified is recorded (method, by whom, when). Links
to an account that nobody verified (a respondent named by account id, the forgery of issue 11) are
dropped: the resident links again by her verified phone, or a mediator in person. The old read log
`audit_log` moves into the service's audit trail and is dropped.

Revision ID: mediation_0006
Revises: mediation_0005
Create Date: 2026-11-30 11:17:22.181819
"""
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = 'mediation_0006'
down_revision: str | None = 'mediation_0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTY_COLUMNS = {"name": 60, "phone": 20, "id_number": 18, "address": 200, "representative_name": 60,
                 "representative_phone": 20}
NULLABLE = {"name": False}

_parties = sa.table("parties", sa.column("id", sa.String), sa.column("dispute_id", sa.String),
                    sa.column("role", sa.String), sa.column("user_id", sa.String), sa.column("phone", sa.Text),
                    sa.column("phone_index", sa.String), sa.column("verification_method", sa.String),
                    sa.column("verified_by", sa.String), sa.column("verified_at", shared.db.UTCDateTime))
_disputes = sa.table("disputes", sa.column("id", sa.String), sa.column("source", sa.String),
                     sa.column("created_by", sa.String), sa.column("applied_at", shared.db.UTCDateTime))
_audit_log = sa.table("audit_log", sa.column("id", sa.Integer), sa.column("at", shared.db.UTCDateTime),
                      sa.column("user_id", sa.String), sa.column("role", sa.String),
                      sa.column("dispute_id", sa.String), sa.column("action", sa.String),
                      sa.column("allowed", sa.Boolean), sa.column("capacity", sa.String))
_trail = sa.table("audit_trail", sa.column("at", shared.db.UTCDateTime), sa.column("actor_id", sa.String),
                  sa.column("actor_role", sa.String), sa.column("action", sa.String),
                  sa.column("subject_kind", sa.String), sa.column("subject_id", sa.String),
                  sa.column("detail", sa.Text))


def _defer_foreign_keys() -> None:
    # SQLite recreates a table to change a column's type; its children's rows must wait for the new one.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA defer_foreign_keys = ON")


def NEW_PARTY_COLUMNS() -> list[sa.Column]:  # noqa: N802 - a constant, made fresh for each table
    return [sa.Column('phone_index', sa.String(length=64), nullable=True),
            sa.Column('verification_method', sa.String(length=16), nullable=True),
            sa.Column('verified_by', sa.String(length=64), nullable=True),
            sa.Column('verified_at', shared.db.UTCDateTime(timezone=True), nullable=True)]


OLD_PARTY_COLUMNS = ("id", "dispute_id", "role", "user_id", "name", "phone", "id_number", "address",
                     "representative_name", "representative_phone", "consent", "consent_at", "consent_recorded_by",
                     "refusal_reason", "privacy_request")


def _rebuild_parties(sealed: bool) -> None:
    """SQLite: the parties table made again with its columns' new types. Not alembic's batch (a new table
    renamed into place): the other tables' rows that point at a party (objections, terms, confirmations,
    extension consents) would stay counted as orphans. Dropped first, the table made under its own name
    and filled: each row put back answers its children (the foreign keys are deferred until the commit)."""
    op.execute("CREATE TABLE _parties_before_0006 AS SELECT * FROM parties")
    op.drop_table('parties')
    op.create_table('parties',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('dispute_id', sa.String(length=36), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    *[sa.Column(c, sa.Text() if sealed else sa.String(length=n), nullable=NULLABLE.get(c, True))
      for c, n in PARTY_COLUMNS.items()],
    sa.Column('consent', sa.String(length=10), nullable=False),
    sa.Column('consent_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('consent_recorded_by', sa.String(length=64), nullable=True),
    sa.Column('refusal_reason', sa.Text(), nullable=True),
    sa.Column('privacy_request', sa.String(length=10), nullable=True),
    *(NEW_PARTY_COLUMNS() if sealed else []),
    sa.ForeignKeyConstraint(['dispute_id'], ['disputes.id'], name=op.f('fk_parties_dispute_id_disputes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parties'))
    )
    columns = ", ".join(OLD_PARTY_COLUMNS)
    op.execute(f"INSERT INTO parties ({columns}) SELECT {columns} FROM _parties_before_0006")
    op.drop_table('_parties_before_0006')
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parties_dispute_id'), ['dispute_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_parties_user_id'), ['user_id'], unique=False)
        if sealed:
            batch_op.create_index(batch_op.f('ix_parties_phone_index'), ['phone_index'], unique=False)


def upgrade() -> None:
    bind = op.get_bind()
    _defer_foreign_keys()
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', shared.db.UTCDateTime(timezone=True), nullable=True))

    if bind.dialect.name == "sqlite":
        _rebuild_parties(sealed=True)
    else:
        with op.batch_alter_table('parties', schema=None) as batch_op:
            for column in NEW_PARTY_COLUMNS():
                batch_op.add_column(column)
            for column, length in PARTY_COLUMNS.items():
                batch_op.alter_column(column, existing_type=sa.VARCHAR(length=length), type_=sa.Text(),
                                      existing_nullable=NULLABLE.get(column, True))
            batch_op.create_index(batch_op.f('ix_parties_phone_index'), ['phone_index'], unique=False)

    with op.batch_alter_table('session_participants', schema=None) as batch_op:
        batch_op.alter_column('name', existing_type=sa.VARCHAR(length=60), type_=sa.Text(), existing_nullable=False)

    _identify_parties(bind)
    if bind.execute(sa.text("SELECT 1 FROM parties LIMIT 1")).first():
        from shared.sealed import seal_existing

        for column in PARTY_COLUMNS:
            seal_existing(bind, "parties", "id", column, f"mediation.parties.{column}")
    if bind.execute(sa.text("SELECT 1 FROM session_participants LIMIT 1")).first():
        from shared.sealed import seal_existing

        seal_existing(bind, "session_participants", "id", "name", "mediation.session_participants.name")

    _move_audit_log(bind)
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_dispute_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_user_id'))
    op.drop_table('audit_log')


def _identify_parties(bind) -> None:
    """The blind index of every party's mobile (plain still), and what is known of how each was identified:
    the applicant who applied herself (account), the reporter of a referred case (intake). Any other link
    to an account was never verified and is dropped."""
    rows = bind.execute(sa.select(_parties.c.id, _parties.c.role, _parties.c.user_id, _parties.c.phone,
                                  _disputes.c.source, _disputes.c.created_by, _disputes.c.applied_at)
                        .join(_disputes, _disputes.c.id == _parties.c.dispute_id)).all()
    if not rows:
        return
    from shared.config import get_settings
    from shared.keys import blind_index
    from shared.phones import BadPhone, normalise

    index = blind_index(get_settings())
    for row in rows:
        values = {}
        if row.phone:
            try:
                values["phone_index"] = index(normalise(row.phone, mobile=True), "phone")
            except BadPhone:  # a landline: no SMS could ever verify it
                pass
        if row.user_id:
            method = None
            if row.role == "applicant" and row.source == "application" and row.created_by == row.user_id:
                method = "account"
            elif row.role == "applicant" and row.source == "intake":
                method = "intake"
            if method:
                values |= {"verification_method": method, "verified_by": row.user_id,
                           "verified_at": row.applied_at}
            else:
                values["user_id"] = None
        if values:
            bind.execute(sa.update(_parties).where(_parties.c.id == row.id).values(**values))


def _move_audit_log(bind) -> None:
    """Each row of the old read log as an entry of the audit trail (unchained: the worker chains it)."""
    rows = bind.execute(sa.select(_audit_log).order_by(_audit_log.c.id)).all()
    batch = []
    for r in rows:
        action, detail = r.action, {"allowed": bool(r.allowed), "capacity": r.capacity}
        if action.startswith("list:"):  # "list:<n>": a listing of n disputes
            action, detail = "read.disputes", {"allowed": True, "count": int(action[5:] or 0)}
        batch.append({"at": r.at, "actor_id": r.user_id, "actor_role": r.role, "action": action,
                      "subject_kind": "dispute" if r.dispute_id else None, "subject_id": r.dispute_id,
                      "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True)})
        if len(batch) >= 1000:
            bind.execute(_trail.insert(), batch)
            batch = []
    if batch:
        bind.execute(_trail.insert(), batch)


def downgrade() -> None:
    bind = op.get_bind()
    _defer_foreign_keys()
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=24), nullable=False),
    sa.Column('dispute_id', sa.String(length=36), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('allowed', sa.Boolean(), nullable=False),
    sa.Column('capacity', sa.String(length=20), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_dispute_id'), ['dispute_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    # The sealed values opened again (the trail keeps the reads: it is append-only).
    _unseal(bind, "session_participants", "name", "mediation.session_participants.name")
    for column in PARTY_COLUMNS:
        _unseal(bind, "parties", column, f"mediation.parties.{column}")
    with op.batch_alter_table('session_participants', schema=None) as batch_op:
        batch_op.alter_column('name', existing_type=sa.Text(), type_=sa.VARCHAR(length=60), existing_nullable=False)

    if bind.dialect.name == "sqlite":
        _rebuild_parties(sealed=False)
    else:
        with op.batch_alter_table('parties', schema=None) as batch_op:
            batch_op.drop_index(batch_op.f('ix_parties_phone_index'))
            for column, length in PARTY_COLUMNS.items():
                batch_op.alter_column(column, existing_type=sa.Text(), type_=sa.VARCHAR(length=length),
                                      existing_nullable=NULLABLE.get(column, True))
            for column in ('verified_at', 'verified_by', 'verification_method', 'phone_index'):
                batch_op.drop_column(column)

    # In place (SQLite 3.35+): a batch would make the parent of every party's and session's rows again.
    op.drop_column('disputes', 'anonymised_at')


def _unseal(bind, table: str, column: str, context: str) -> None:
    rows = bind.execute(sa.text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")).all()
    if not rows:
        return
    from shared.config import get_settings
    from shared.keys import data_keys

    keys = data_keys(get_settings())
    for key, value in rows:
        bind.execute(sa.text(f"UPDATE {table} SET {column} = :v WHERE id = :k"),
                     {"v": keys.open(value, context), "k": key})
