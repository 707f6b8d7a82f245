"""matters, roster, notices, ratings

Revision ID: selfgov_0001
Revises: 
Create Date: 2026-11-30 16:02:48.467042
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db
from shared.audit import append_only_ddl, sqlite_append_only_ddl


revision: str = 'selfgov_0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('areas',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('parent_code', sa.String(length=32), nullable=True),
    sa.Column('path', sa.String(length=200), nullable=False),
    sa.Column('area_geojson', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_areas'))
    )
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_areas_parent_code'), ['parent_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_areas_path'), ['path'], unique=False)

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
    # Sealed entries can be neither changed nor deleted (the trail of every service: shared/audit.py).
    ddl = append_only_ddl() if op.get_bind().dialect.name == "postgresql" else sqlite_append_only_ddl()
    for statement in ddl:
        op.execute(statement)

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

    op.create_table('inbox',
    sa.Column('message_id', sa.String(length=36), nullable=False),
    sa.Column('handler', sa.String(length=120), nullable=False),
    sa.Column('processed_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('message_id', 'handler', name=op.f('pk_inbox'))
    )
    op.create_table('matters',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('community_code', sa.String(length=32), nullable=True),
    sa.Column('street_code', sa.String(length=32), nullable=True),
    sa.Column('path', sa.String(length=200), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('building', sa.String(length=40), nullable=True),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=True),
    sa.Column('case_no', sa.String(length=32), nullable=True),
    sa.Column('raised_by', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('stage_index', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('agenda_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolution_id', sa.String(length=36), nullable=True),
    sa.Column('resolution_text', sa.Text(), nullable=True),
    sa.Column('resolved_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notice_id', sa.String(length=36), nullable=True),
    sa.Column('publication_ends_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('close_reason', sa.Text(), nullable=True),
    sa.Column('updated_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matters')),
    sa.UniqueConstraint('case_id', name=op.f('uq_matters_case_id'))
    )
    with op.batch_alter_table('matters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_matters_community_code'), ['community_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_matters_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_matters_path'), ['path'], unique=False)
        batch_op.create_index(batch_op.f('ix_matters_raised_by'), ['raised_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_matters_status'), ['status'], unique=False)

    op.create_table('members',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('community_code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('phone_index', sa.String(length=64), nullable=False),
    sa.Column('household', sa.Text(), nullable=False),
    sa.Column('household_index', sa.String(length=64), nullable=False),
    sa.Column('building', sa.String(length=40), nullable=True),
    sa.Column('representative', sa.Boolean(), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('registered_by', sa.String(length=64), nullable=False),
    sa.Column('registered_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    sa.UniqueConstraint('community_code', 'phone_index', name='uq_members_phone')
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_members_community_code'), ['community_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_members_phone_index'), ['phone_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_members_user_id'), ['user_id'], unique=False)

    op.create_table('notices',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('series_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('community_code', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('publish_from', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('publish_until', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_by', sa.String(length=64), nullable=False),
    sa.Column('published_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('correction_reason', sa.Text(), nullable=True),
    sa.Column('superseded_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('matter_id', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices')),
    sa.UniqueConstraint('series_id', 'version', name='uq_notices_version')
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notices_community_code'), ['community_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_notices_series_id'), ['series_id'], unique=False)

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

    op.create_table('rating_ballots',
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('voter_key', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('period', 'voter_key', name=op.f('pk_rating_ballots'))
    )
    op.create_table('ratings',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('community_code', sa.String(length=32), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('grid_code', sa.String(length=32), nullable=True),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ratings'))
    )
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.create_index('ix_ratings_period_community', ['period', 'community_code'], unique=False)

    op.create_table('meetings',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('matter_id', sa.String(length=36), nullable=False),
    sa.Column('stage_code', sa.String(length=32), nullable=False),
    sa.Column('stage_index', sa.Integer(), nullable=False),
    sa.Column('starts_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('notice', sa.Text(), nullable=False),
    sa.Column('convened_by', sa.String(length=64), nullable=False),
    sa.Column('convened_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('members', sa.Integer(), nullable=True),
    sa.Column('attended', sa.Integer(), nullable=True),
    sa.Column('votes_for', sa.Integer(), nullable=True),
    sa.Column('votes_against', sa.Integer(), nullable=True),
    sa.Column('votes_abstain', sa.Integer(), nullable=True),
    sa.Column('result', sa.String(length=12), nullable=True),
    sa.Column('record', sa.Text(), nullable=True),
    sa.Column('supervisor_present', sa.Boolean(), nullable=True),
    sa.Column('supervisor_note', sa.Text(), nullable=True),
    sa.Column('held_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('recorded_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['matter_id'], ['matters.id'], name=op.f('fk_meetings_matter_id_matters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings'))
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meetings_matter_id'), ['matter_id'], unique=False)

    op.create_table('notice_reads',
    sa.Column('notice_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_notice_reads_notice_id_notices')),
    sa.PrimaryKeyConstraint('notice_id', 'user_id', name=op.f('pk_notice_reads'))
    )
    op.create_table('objections',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('matter_id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=True),
    sa.Column('by_user', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('replied_by', sa.String(length=64), nullable=True),
    sa.Column('replied_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['matter_id'], ['matters.id'], name=op.f('fk_objections_matter_id_matters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objections'))
    )
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objections_matter_id'), ['matter_id'], unique=False)

    op.create_table('seconds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('matter_id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('representative', sa.Boolean(), nullable=False),
    sa.Column('household_index', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=12), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['matter_id'], ['matters.id'], name=op.f('fk_seconds_matter_id_matters')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_seconds_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seconds')),
    sa.UniqueConstraint('matter_id', 'member_id', name='uq_seconds_member')
    )
    with op.batch_alter_table('seconds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seconds_matter_id'), ['matter_id'], unique=False)

    op.create_table('tasks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('matter_id', sa.String(length=36), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('owner', sa.String(length=60), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_note', sa.Text(), nullable=True),
    sa.Column('done_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['matter_id'], ['matters.id'], name=op.f('fk_tasks_matter_id_matters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tasks_matter_id'), ['matter_id'], unique=False)

    op.create_table('timeline',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('matter_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['matter_id'], ['matters.id'], name=op.f('fk_timeline_matter_id_matters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timeline'))
    )
    with op.batch_alter_table('timeline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timeline_matter_id'), ['matter_id'], unique=False)

    op.create_table('attendance',
    sa.Column('meeting_id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_attendance_meeting_id_meetings')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_attendance_member_id_members')),
    sa.PrimaryKeyConstraint('meeting_id', 'member_id', name=op.f('pk_attendance'))
    )


def downgrade() -> None:
    op.drop_table('attendance')
    with op.batch_alter_table('timeline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timeline_matter_id'))

    op.drop_table('timeline')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tasks_matter_id'))

    op.drop_table('tasks')
    with op.batch_alter_table('seconds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seconds_matter_id'))

    op.drop_table('seconds')
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objections_matter_id'))

    op.drop_table('objections')
    op.drop_table('notice_reads')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meetings_matter_id'))

    op.drop_table('meetings')
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_ratings_period_community')

    op.drop_table('ratings')
    op.drop_table('rating_ballots')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_next_attempt')

    op.drop_table('outbox')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notices_series_id'))
        batch_op.drop_index(batch_op.f('ix_notices_community_code'))

    op.drop_table('notices')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_members_user_id'))
        batch_op.drop_index(batch_op.f('ix_members_phone_index'))
        batch_op.drop_index(batch_op.f('ix_members_community_code'))

    op.drop_table('members')
    with op.batch_alter_table('matters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_matters_status'))
        batch_op.drop_index(batch_op.f('ix_matters_raised_by'))
        batch_op.drop_index(batch_op.f('ix_matters_path'))
        batch_op.drop_index(batch_op.f('ix_matters_created_at'))
        batch_op.drop_index(batch_op.f('ix_matters_community_code'))

    op.drop_table('matters')
    op.drop_table('inbox')
    with op.batch_alter_table('auth_revocations', schema=None) as batch_op:
        batch_op.drop_index('ix_auth_revocations_revoked_at')

    op.drop_table('auth_revocations')
    op.drop_table('auth_api_keys')
    with op.batch_alter_table('audit_trail', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_trail_subject')
        batch_op.drop_index('ix_audit_trail_at')

    op.drop_table('audit_trail')
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_areas_path'))
        batch_op.drop_index(batch_op.f('ix_areas_parent_code'))

    op.drop_table('areas')
