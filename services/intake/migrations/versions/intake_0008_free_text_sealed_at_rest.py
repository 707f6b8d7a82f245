"""free text sealed at rest

Every column of free text a person types, where a phone, an ID number or a name may be written, is
sealed at rest like the phone and the address (shared.sealed): the case's description, answers and
result text, the timeline's entries (supplements, notes, reasons), the evaluation comment and an
upload's own file name. Nothing searches them in SQL. The file name and the answers become text
columns (a sealed value is longer than 120 characters, and not JSON).

Revision ID: intake_0008
Revises: intake_0007
Create Date: 2026-11-30 12:21:38.728829
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'intake_0008'
down_revision: str | None = 'intake_0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, key column, column, the Sealed context models.py names it by)
SEALED = (
    ("cases", "id", "description", "intake.cases.description"),
    ("cases", "id", "answers", "intake.cases.answers"),
    ("cases", "id", "result_text", "intake.cases.result_text"),
    ("case_timeline", "id", "text", "intake.case_timeline.text"),
    ("evaluations", "id", "comment", "intake.evaluations.comment"),
    ("attachments", "id", "filename", "intake.attachments.filename"),
)


def _anything_to_do(conn) -> bool:
    """The deployment's keys are only read when there is something to seal or open."""
    return any(conn.execute(sa.text(f"SELECT 1 FROM {table} WHERE {column} IS NOT NULL")).first() is not None
               for table, _, column, _ in SEALED)


def upgrade() -> None:
    conn = op.get_bind()
    postgresql = conn.dialect.name == "postgresql"
    if not postgresql:  # what is overwritten below is zeroed, not left in freed pages
        op.execute("PRAGMA secure_delete = ON")
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.alter_column('filename', existing_type=sa.VARCHAR(length=120), type_=sa.Text(),
                              existing_nullable=True)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('answers', existing_type=sa.JSON(), type_=sa.Text(), existing_nullable=True,
                              **({"postgresql_using": "answers::text"} if postgresql else {}))
    op.execute("UPDATE cases SET answers = NULL WHERE answers = 'null'")  # a JSON null is no answer
    if not _anything_to_do(conn):
        return
    from shared.sealed import seal_existing

    for table, key, column, context in SEALED:
        seal_existing(conn, table, key, column, context)


def downgrade() -> None:
    conn = op.get_bind()
    postgresql = conn.dialect.name == "postgresql"
    if _anything_to_do(conn):
        from shared.config import get_settings
        from shared.keys import data_keys

        keys = data_keys(get_settings())
        for table, key, column, context in SEALED:
            for row_key, value in conn.execute(sa.text(f"SELECT {key}, {column} FROM {table} "
                                                       f"WHERE {column} IS NOT NULL")).fetchall():
                conn.execute(sa.text(f"UPDATE {table} SET {column} = :v WHERE {key} = :k"),
                             {"v": keys.open(value, context), "k": row_key})
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('answers', existing_type=sa.Text(), type_=sa.JSON(), existing_nullable=True,
                              **({"postgresql_using": "answers::json"} if postgresql else {}))
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.alter_column('filename', existing_type=sa.Text(), type_=sa.VARCHAR(length=120),
                              existing_nullable=True)
