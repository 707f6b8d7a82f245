"""the grid's day and register

Revision ID: grid_0001
Revises: 
Create Date: 2026-11-30 16:02:36.596510
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db
from shared.audit import append_only_ddl, sqlite_append_only_ddl


revision: str = 'grid_0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_trail',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('actor_role', sa.String(length=30), nullable=True),
    sa.Column('action', sa.String(length=80), nullable=False),
    sa.Column('subject_kind', sa.String(length=30), nullable=True),
    sa.Column('subject_id', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=True),
    sa.Column('hash', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_trail')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_trail_hash'))
    )
    with op.batch_alter_table('audit_trail', schema=None) as batch_op:
        batch_op.create_index('ix_audit_trail_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_trail_subject', ['subject_kind', 'subject_id'], unique=False)

    op.create_table('auth_api_keys',
    sa.Column('key_id', sa.String(length=40), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('scopes', sa.Text(), nullable=False),
    sa.Column('area_code', sa.String(length=32), nullable=True),
    sa.Column('expires_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_auth_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_auth_api_keys_key_hash'))
    )
    op.create_table('auth_revocations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('revoked_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_revocations'))
    )
    with op.batch_alter_table('auth_revocations', schema=None) as batch_op:
        batch_op.create_index('ix_auth_revocations_revoked_at', ['revoked_at'], unique=False)

    op.create_table('grid_reports',
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('case_no', sa.String(length=32), nullable=False),
    sa.Column('reporter_id', sa.String(length=64), nullable=True),
    sa.Column('grid_code', sa.String(length=32), nullable=True),
    sa.Column('self_resolved', sa.Boolean(), nullable=False),
    sa.Column('submitted_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_grid_reports'))
    )
    with op.batch_alter_table('grid_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_reports_grid_code'), ['grid_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_grid_reports_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grid_reports_submitted_at'), ['submitted_at'], unique=False)

    op.create_table('grids',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('unit_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('community_code', sa.String(length=32), nullable=True),
    sa.Column('path', sa.String(length=400), nullable=False),
    sa.Column('area_geojson', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_grids'))
    )
    with op.batch_alter_table('grids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grids_community_code'), ['community_code'], unique=False)

    op.create_table('idempotency_keys',
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('response', sa.Text(), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_table('inbox',
    sa.Column('message_id', sa.String(length=36), nullable=False),
    sa.Column('handler', sa.String(length=120), nullable=False),
    sa.Column('processed_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('message_id', 'handler', name=op.f('pk_inbox'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=36), nullable=False),
    sa.Column('routing_key', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_message_id'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_next_attempt', ['next_attempt_at'], unique=False)

    op.create_table('patrol_days',
    sa.Column('grid_code', sa.String(length=32), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('due_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('required', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('checked_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('grid_code', 'day', name=op.f('pk_patrol_days'))
    )
    with op.batch_alter_table('patrol_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patrol_days_due_at'), ['due_at'], unique=False)

    op.create_table('patrols',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('grid_code', sa.String(length=32), nullable=False),
    sa.Column('worker_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('started_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('distance_m', sa.Float(), nullable=False),
    sa.Column('point_count', sa.Integer(), nullable=False),
    sa.Column('counts', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('received_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrols'))
    )
    with op.batch_alter_table('patrols', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patrols_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_patrols_grid_code'), ['grid_code'], unique=False)
        batch_op.create_index('ix_patrols_grid_day', ['grid_code', 'day'], unique=False)
        batch_op.create_index(batch_op.f('ix_patrols_worker_id'), ['worker_id'], unique=False)

    op.create_table('register_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('entry_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('grid_code', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('by_id', sa.String(length=64), nullable=True),
    sa.Column('at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('client_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_changes'))
    )
    with op.batch_alter_table('register_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_register_changes_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_register_changes_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_register_changes_grid_code'), ['grid_code'], unique=False)

    op.create_table('register_entries',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('grid_code', sa.String(length=32), nullable=False),
    sa.Column('parent_id', sa.String(length=36), nullable=True),
    sa.Column('category', sa.String(length=40), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('public', sa.JSON(), nullable=False),
    sa.Column('personal', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('visit_every_days', sa.Integer(), nullable=True),
    sa.Column('visit_due_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_visit_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('overdue_warned_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.Column('updated_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_entries'))
    )
    with op.batch_alter_table('register_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_register_entries_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_register_entries_grid_code'), ['grid_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_register_entries_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_register_entries_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_register_entries_visit_due_at'), ['visit_due_at'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('grid_code', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=True),
    sa.Column('worker_id', sa.String(length=64), nullable=False),
    sa.Column('visited_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('help_needed', sa.Boolean(), nullable=False),
    sa.Column('received_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visits_grid_code'), ['grid_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_visited_at'), ['visited_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_worker_id'), ['worker_id'], unique=False)

    op.create_table('patrol_findings',
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('patrol_id', sa.String(length=36), nullable=False),
    sa.Column('added_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patrol_id'], ['patrols.id'], name=op.f('fk_patrol_findings_patrol_id_patrols')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_patrol_findings'))
    )
    with op.batch_alter_table('patrol_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patrol_findings_patrol_id'), ['patrol_id'], unique=False)

    op.create_table('patrol_points',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('patrol_id', sa.String(length=36), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patrol_id'], ['patrols.id'], name=op.f('fk_patrol_points_patrol_id_patrols')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrol_points'))
    )
    with op.batch_alter_table('patrol_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patrol_points_patrol_id'), ['patrol_id'], unique=False)
    # The audit trail is append-only on both engines, as every service's (shared/audit.py).
    dialect = op.get_bind().dialect.name
    for statement in append_only_ddl() if dialect == "postgresql" else sqlite_append_only_ddl():
        op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table('patrol_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patrol_points_patrol_id'))

    op.drop_table('patrol_points')
    with op.batch_alter_table('patrol_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patrol_findings_patrol_id'))

    op.drop_table('patrol_findings')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visits_worker_id'))
        batch_op.drop_index(batch_op.f('ix_visits_visited_at'))
        batch_op.drop_index(batch_op.f('ix_visits_person_id'))
        batch_op.drop_index(batch_op.f('ix_visits_grid_code'))

    op.drop_table('visits')
    with op.batch_alter_table('register_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_register_entries_visit_due_at'))
        batch_op.drop_index(batch_op.f('ix_register_entries_parent_id'))
        batch_op.drop_index(batch_op.f('ix_register_entries_kind'))
        batch_op.drop_index(batch_op.f('ix_register_entries_grid_code'))
        batch_op.drop_index(batch_op.f('ix_register_entries_category'))

    op.drop_table('register_entries')
    with op.batch_alter_table('register_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_register_changes_grid_code'))
        batch_op.drop_index(batch_op.f('ix_register_changes_entry_id'))
        batch_op.drop_index(batch_op.f('ix_register_changes_at'))

    op.drop_table('register_changes')
    with op.batch_alter_table('patrols', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patrols_worker_id'))
        batch_op.drop_index('ix_patrols_grid_day')
        batch_op.drop_index(batch_op.f('ix_patrols_grid_code'))
        batch_op.drop_index(batch_op.f('ix_patrols_day'))

    op.drop_table('patrols')
    with op.batch_alter_table('patrol_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patrol_days_due_at'))

    op.drop_table('patrol_days')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_next_attempt')

    op.drop_table('outbox')
    op.drop_table('inbox')
    op.drop_table('idempotency_keys')
    with op.batch_alter_table('grids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grids_community_code'))

    op.drop_table('grids')
    with op.batch_alter_table('grid_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_reports_submitted_at'))
        batch_op.drop_index(batch_op.f('ix_grid_reports_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_grid_reports_grid_code'))

    op.drop_table('grid_reports')
    with op.batch_alter_table('auth_revocations', schema=None) as batch_op:
        batch_op.drop_index('ix_auth_revocations_revoked_at')

    op.drop_table('auth_revocations')
    op.drop_table('auth_api_keys')
    with op.batch_alter_table('audit_trail', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_trail_subject')
        batch_op.drop_index('ix_audit_trail_at')

    op.drop_table('audit_trail')
