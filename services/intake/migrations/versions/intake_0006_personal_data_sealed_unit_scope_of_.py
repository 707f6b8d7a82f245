"""personal data sealed, unit scope of cases, retention

The caller's phone and the address are sealed at rest (shared.sealed), the phone found by its blind
index; a phone kept although the caller refused consent is removed, and so is a reporter account
that staff named for a case filed on someone's behalf (unchecked: the case belongs to the caller's
phone). case_units remembers the units that hold or held a case's work orders (who may see it);
finished_at starts the retention period of finished cases.

Revision ID: intake_0006
Revises: intake_0005
Create Date: 2026-11-30 11:19:46.370077
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = 'intake_0006'
down_revision: str | None = 'intake_0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEALED = (("reporter_phone", "intake.cases.reporter_phone"), ("address", "intake.cases.address"))
# status.FINISHED and submission.ON_BEHALF_CHANNELS as they were when this was written.
FINISHED = ("closed", "answered", "self_resolved", "withdrawn", "merged", "mediation_succeeded", "mediation_failed",
            "mediation_refused")
ON_BEHALF = ("hotline", "letter", "walk_in", "mailbox", "gov_api")


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # what is overwritten below is zeroed, not left in freed pages
        op.execute("PRAGMA secure_delete = ON")
    op.create_table('case_units',
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('unit_id', sa.String(length=36), nullable=False),
    sa.Column('unit_path', sa.String(length=300), nullable=True),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('case_id', 'unit_id', name=op.f('pk_case_units'))
    )
    with op.batch_alter_table('case_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_units_unit_id'), ['unit_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reporter_phone_index', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('area_path', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('finished_at', shared.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('anonymised_at', shared.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_index(batch_op.f('ix_cases_reporter_phone'))
        batch_op.alter_column('reporter_phone', existing_type=sa.VARCHAR(length=20), type_=sa.Text(),
                              existing_nullable=True)
        batch_op.alter_column('address', existing_type=sa.VARCHAR(length=200), type_=sa.Text(),
                              existing_nullable=True)
        batch_op.create_index(batch_op.f('ix_cases_finished_at'), ['finished_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_reporter_phone_index'), ['reporter_phone_index'], unique=False)

    op.execute(f"UPDATE cases SET finished_at = updated_at WHERE status IN ({_listed(FINISHED)})")
    op.execute("UPDATE cases SET reporter_phone = NULL WHERE consent = false")
    op.execute(f"UPDATE cases SET reporter_id = NULL WHERE channel IN ({_listed(ON_BEHALF)}) "
               "AND reporter_id IS NOT NULL AND (created_by_id IS NULL OR reporter_id <> created_by_id)")
    _index_and_seal(op.get_bind())


def _index_and_seal(conn) -> None:
    """The blind index of every kept phone (before it is sealed), then the seal. The deployment's
    keys are only read when there is something to do."""
    if conn.execute(sa.text("SELECT 1 FROM cases WHERE reporter_phone IS NOT NULL OR address IS NOT NULL")).first() \
            is None:
        return
    from shared.config import get_settings
    from shared.keys import blind_index
    from shared.sealed import seal_existing

    index = blind_index(get_settings())
    rows = conn.execute(sa.text("SELECT id, reporter_phone FROM cases WHERE reporter_phone IS NOT NULL "
                                "AND anonymous = false")).fetchall()
    for case_id, phone in rows:
        if phone.startswith("+"):  # a plain E.164 number, not a value sealed by an earlier run
            conn.execute(sa.text("UPDATE cases SET reporter_phone_index = :i WHERE id = :k"),
                         {"i": index(phone, "phone"), "k": case_id})
    for column, context in SEALED:
        seal_existing(conn, "cases", "id", column, context)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.execute(sa.text("SELECT 1 FROM cases WHERE reporter_phone IS NOT NULL OR address IS NOT NULL")).first() \
            is not None:
        from shared.config import get_settings
        from shared.keys import data_keys

        keys = data_keys(get_settings())
        for column, context in SEALED:
            for case_id, value in conn.execute(sa.text(f"SELECT id, {column} FROM cases "
                                                       f"WHERE {column} IS NOT NULL")).fetchall():
                conn.execute(sa.text(f"UPDATE cases SET {column} = :v WHERE id = :k"),
                             {"v": keys.open(value, context), "k": case_id})
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_reporter_phone_index'))
        batch_op.drop_index(batch_op.f('ix_cases_finished_at'))
        batch_op.alter_column('address', existing_type=sa.Text(), type_=sa.VARCHAR(length=200),
                              existing_nullable=True)
        batch_op.alter_column('reporter_phone', existing_type=sa.Text(), type_=sa.VARCHAR(length=20),
                              existing_nullable=True)
        batch_op.create_index(batch_op.f('ix_cases_reporter_phone'), ['reporter_phone'], unique=False)
        batch_op.drop_column('anonymised_at')
        batch_op.drop_column('finished_at')
        batch_op.drop_column('area_path')
        batch_op.drop_column('reporter_phone_index')

    with op.batch_alter_table('case_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_units_unit_id'))

    op.drop_table('case_units')
